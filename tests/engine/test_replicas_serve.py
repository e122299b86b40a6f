"""Three `fundwall serve` replicas over one PostgreSQL log and one Redis (docs/scale.md), each
loaded by its own member systems (a client-side spread, as a load balancer spreads), one of
them killed with SIGKILL under load: the others carry on; every answer is in the log as
answered and no transaction is decided twice; sent again to a survivor, each transaction
gets its logged decision (those that died unanswered are decided once now). With the shared
state lost and being rebuilt elsewhere, a replica answers 503 with Retry-After, and decides
again once the state is back."""

from __future__ import annotations

import http.client
import json
import os
import signal
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from crash_checks import live_decisions
from member_traffic import (
    Customers,
    MemberSystem,
    Traffic,
    as_answered,
    post,
    prepare_store,
    resend,
)
from replicas import namespace, redis_url
from serve_process import HOST, WAIT_SECONDS, Server

from fundwall.bench.loadgen import free_port
from fundwall.engine.shared import SharedState

REPLICAS = 3
SYSTEMS = 6
"""Member systems, two per replica."""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_replica_killed_under_load_loses_nothing_and_the_others_carry_on(
    region: Path, tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    _, keys = prepare_store(data_dir, region, database_url)
    url = redis_url()
    customers, traffic, members = Customers(region), Traffic(), sorted(keys)
    with namespace(url) as name, ExitStack() as stack:
        env = {
            **os.environ,
            "FUNDWALL_DATA_DIR": str(data_dir),
            "FUNDWALL_DATABASE_URL": database_url,
            "FUNDWALL_REPLICAS__REDIS_URL": url,
            "FUNDWALL_REPLICAS__NAMESPACE": name,
            "FUNDWALL_REPLICAS__LEASE_MS": "2000",
        }
        ports = [free_port() for _ in range(REPLICAS)]
        servers = []
        for k, port in enumerate(ports):
            log = stack.enter_context((tmp_path / f"replica{k}.log").open("w+b"))
            server = Server(port, env, log)
            stack.callback(lambda s=server: s.process.poll() is None and s.stop(signal.SIGKILL))
            servers.append(server)
        for server in servers:
            server.wait_until_up()

        systems = [
            MemberSystem(f"s{i}", ports[i % REPLICAS], members[i::SYSTEMS], keys, customers,
                         traffic)
            for i in range(SYSTEMS)
        ]  # fmt: skip
        traffic.running = SYSTEMS
        for system in systems:
            system.start()
        traffic.wait_for(30)
        assert servers[0].stop(signal.SIGKILL) == -signal.SIGKILL
        # The survivors carry on, over the entities the killed replica held too.
        traffic.wait_for(traffic.answers + 60)
        traffic.halt.set()
        for system in systems:
            system.join(WAIT_SECONDS)
        assert not traffic.refused, traffic.refused

        logged = live_decisions(database_url)  # none decided twice
        for tx_id, answer in traffic.answered.items():
            assert as_answered(traffic, customers, logged[tx_id]) == answer, tx_id
        again = resend(ports[1], keys, traffic, list(traffic.answered) + traffic.unanswered)
        for tx_id, answer in traffic.answered.items():
            assert again[tx_id] == answer, tx_id
        for tx_id in traffic.unanswered:
            if tx_id in logged:
                assert again[tx_id] == as_answered(traffic, customers, logged[tx_id]), tx_id
        assert len(live_decisions(database_url)) == len(set(traffic.sent))

        # The shared state lost (Redis restarted) while another replica rebuilds it.
        shared = SharedState(url, namespace=name)
        shared._drop_namespace()
        assert shared.claim_rebuild()
        member = members[0]
        record = MemberSystem("late", ports[2], [member], keys, customers, traffic).record(member)
        with closing(http.client.HTTPConnection(HOST, ports[2], timeout=WAIT_SECONDS)) as http_:
            http_.request(
                "POST",
                "/v1/transactions",
                json.dumps(record).encode(),
                {"Content-Type": "application/json", "Authorization": f"Bearer {keys[member]}"},
            )
            response = http_.getresponse()
            body = response.read()
            assert response.status == 503, body
            assert response.getheader("Retry-After") == "1"
            # That replica gave up; the next call rebuilds the state from the log and decides.
            shared.redis.delete(shared._global("build"))
            status, decided = post(http_, "/v1/transactions", record, keys[member])
            assert status == 200, decided
        shared.close()
