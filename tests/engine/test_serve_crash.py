"""`fundwall serve` killed with SIGKILL 6 times a store under load loses nothing it answered and
decides nothing twice, and its state is always the decision log folded.

Several member systems send their own customers' transactions at once, one by one and in
batches of up to 100 (a JSON array, NDJSON, CSV or Parquet, read into one Arrow table and
decided together: `DecisionCore.decide_many`), stamped with the time they are sent, to a
server over a SQLite store, then over a PostgreSQL one (the schema upgraded, a tiny region
loaded without its transactions, an API key per member). The
server logs the decisions of concurrent requests, single and batch, in shared commits
(`fundwall.engine.committer`), so a kill lands between a call's decision and its commit, with
other calls' decisions in the same commit. Each round
the server is killed once some answers have come back, with requests in flight, and started
again. Then every answer received so far is in the log as answered, no transaction has two
live decisions, and sent again each transaction gets the decision the log holds (those that
died with the server unanswered are decided once now). At the end the server is stopped
gently, so it saves the state it held: that state equals the log folded from scratch, and
every logged decision is the one a server that never stopped would have made, in the same
order. The same design as `test_engine_crash`, with its checks from `crash_checks`.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Final

import pytest
from crash_checks import (
    decided,
    essence,
    forget_snapshots,
    live_decisions,
    logged_transactions,
    open_service,
    probe,
    state,
)
from member_traffic import (
    SEED,
    Customers,
    MemberSystem,
    Record,
    Traffic,
    as_answered,
    post,
    prepare_store,
    resend,
)
from serve_process import HOST, WAIT_SECONDS, Server, serving

from fundwall.bench.loadgen import free_port
from fundwall.domain.decisions import Decision

ROUNDS: Final = 6
"""Kills a store: each a restart, the test's main cost (a start of `fundwall serve` is some
seconds of CPU); with both stores, 12 kills at random points of concurrent calls."""
SYSTEMS: Final = 6
"""Member systems sending at once, each for its own members (a thread each)."""
ANSWERS_BEFORE_KILL: Final = (5, 30)
"""A round kills the server after a random number of answers in this range."""


class Crashes:
    """The server, its store and the member systems' traffic, round after round."""

    def __init__(self, data_dir: Path, url: str, keys: dict[str, str], region: Path) -> None:
        self.url, self.keys = url, keys
        self.customers = Customers(region)
        self.members = sorted(keys)
        self.traffic = Traffic()
        self.port = free_port()
        self.env = {**os.environ, "FUNDWALL_DATA_DIR": str(data_dir), "FUNDWALL_DATABASE_URL": url}
        self.chance = random.Random(SEED)
        self.checked: set[str] = set()
        """The answers found in the log as answered."""

    def load_then_kill(self, server: Server, round_no: int) -> None:
        """Load the server from every member system at once; kill it with requests in
        flight once a random number of answers came back."""
        traffic = self.traffic
        traffic.answers, traffic.running = 0, SYSTEMS
        systems = [
            MemberSystem(f"r{round_no}s{i}", self.port, self.members[i::SYSTEMS], self.keys,
                         self.customers, traffic)
            for i in range(SYSTEMS)
        ]  # fmt: skip
        for system in systems:
            system.start()
        traffic.wait_for(self.chance.randint(*ANSWERS_BEFORE_KILL))
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        for system in systems:
            system.join(WAIT_SECONDS)
        assert not traffic.refused, traffic.refused

    def as_answered(self, decision: Decision) -> Record:
        return as_answered(self.traffic, self.customers, decision)

    def check_log(self, *, every_answer: bool = False) -> dict[str, Decision]:
        """No transaction is decided twice, and every answer received since the last check
        (`every_answer`: every answer) is in the log as answered; the logged decisions of
        those and of the transactions that died unanswered. (A round reads only the decisions
        of its own transactions, so the last round costs no more than the first.)"""
        answered = self.traffic.answered
        new = set(answered) if every_answer else answered.keys() - self.checked
        logged = live_decisions(
            self.url, None if every_answer else new | set(self.traffic.unanswered)
        )
        for tx_id in new:
            assert self.as_answered(logged[tx_id]) == answered[tx_id], tx_id
        self.checked |= new
        return logged

    def send_again(self, answered: list[str], logged: Mapping[str, Decision]) -> None:
        """Send again the transactions `answered` and those that died unanswered: the first
        get their answers again, the others the decision logged if any, else one now."""
        traffic = self.traffic
        unanswered, traffic.unanswered = traffic.unanswered, []
        again = resend(self.port, self.keys, traffic, answered + unanswered)
        for tx_id in answered:
            assert again[tx_id] == traffic.answered[tx_id], tx_id
        for tx_id in unanswered:
            if tx_id in logged:
                assert again[tx_id] == self.as_answered(logged[tx_id]), tx_id
            traffic.answered[tx_id] = again[tx_id]


@pytest.mark.slow
def test_kill_9_of_the_server_under_load_loses_nothing_and_decides_nothing_twice(
    region: Path, tmp_path: Path, database_url: str, second_database_url: str
) -> None:
    data_dir = tmp_path / "data"
    url = database_url
    keyring, keys = prepare_store(data_dir, region, url)
    reference = second_database_url  # the same store, where nothing is sent
    prepare_store(data_dir, region, reference)
    crashes = Crashes(data_dir, url, keys, region)
    traffic = crashes.traffic

    with (
        (tmp_path / "server.log").open("w+b") as log,
        serving(crashes.port, crashes.env, log) as servers,
    ):
        servers[0].wait_until_up()
        for round_no in range(ROUNDS):
            before = set(traffic.answered)
            crashes.load_then_kill(servers[0], round_no)
            # Started again at once: the log is read while the server starts.
            servers[0] = Server(crashes.port, crashes.env, log)
            logged = crashes.check_log()
            servers[0].wait_until_up()
            crashes.send_again([tx_id for tx_id in traffic.answered if tx_id not in before], logged)
        crashes.send_again(list(traffic.answered), crashes.check_log(every_answer=True))
        # Ctrl-C: the server stops and saves the state it holds. (Not SIGTERM, on which
        # uvicorn ends the process once shut down, before `fundwall serve` saves anything.)
        assert servers[0].stop(signal.SIGINT) == 0, servers[0].tail()

    logged = crashes.check_log(every_answer=True)
    assert logged.keys() == traffic.answered.keys()  # and nothing else was decided
    txs = logged_transactions(url)
    held = open_service(url, keyring)
    assert held.folded == 0  # restored from the state the server saved
    forget_snapshots(url)
    folded = open_service(url, keyring)
    assert folded.folded == len(txs) == len(logged)
    after, never_stopped = decided(reference, keyring, txs)
    assert [essence(d) for d in after] == [essence(logged[tx.tx_id]) for tx in txs]
    try:
        assert state(held.core) == state(folded.core) == state(never_stopped)
        assert probe(held.core, txs) == probe(folded.core, txs) == probe(never_stopped, txs)
    finally:
        held.close()
        folded.close()


def test_sigterm_stops_the_server_as_ctrl_c_does_and_it_saves_its_state(
    region: Path, tmp_path: Path, database_url: str
) -> None:
    """What systemd and docker send: the server stops cleanly (exit 0) and saves the state it
    holds, so the next start folds nothing."""
    data_dir = tmp_path / "data"
    url = database_url
    keyring, keys = prepare_store(data_dir, region, url)
    port = free_port()
    env = {**os.environ, "FUNDWALL_DATA_DIR": str(data_dir), "FUNDWALL_DATABASE_URL": url}
    member = sorted(keys)[0]
    system = MemberSystem("term", port, [member], keys, Customers(region), Traffic())
    with (tmp_path / "server.log").open("w+b") as log, serving(port, env, log) as servers:
        servers[0].wait_until_up()
        with closing(http.client.HTTPConnection(HOST, port, timeout=WAIT_SECONDS)) as connection:
            status, _ = post(connection, "/v1/transactions", system.record(member), keys[member])
        assert status == 200
        assert servers[0].stop(signal.SIGTERM) == 0, servers[0].tail()
    restarted = open_service(url, keyring)
    try:
        assert restarted.folded == 0
    finally:
        restarted.close()
