"""Replicas over a Redis Cluster (docs/scale.md, "Keys (Redis Cluster)"): three primaries of
the test's own; the entities' state spreads over them by hash tag, and the replicas decide as
one service holding everything would, rebuilding the state when the cluster loses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_checks import essence
from engine_store import load_accounts
from replicas import CLUSTER_NODES, redis_cluster, shared_values
from test_engine_replicas import LATER, assert_same_state, reference
from test_shared_state import entities_of, intents, started

from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.transactions import Transaction
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.service import DecisionService
from fundwall.engine.shared import SharedState, SharedStateUnavailable
from fundwall.region import read_table
from fundwall.store import open_database

over_postgresql = pytest.mark.parametrize("migrated_database_url", ["postgresql"], indirect=True)


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_cluster(tmp_path_factory.mktemp("redis_cluster")) as url:
        yield url


@pytest.fixture
def txs(region: Path) -> list[Transaction]:
    rows = read_table(region, "transactions").to_pylist()[:300]
    return [Transaction.from_mapping(row) for row in rows]


@pytest.fixture
def three(
    cluster_url: str, migrated_database_url: str, region: Path, keyring: Keyring
) -> Iterator[list[DecisionService]]:
    database = open_database(migrated_database_url)
    load_accounts(region, database, keyring)
    services = [
        DecisionService.over(
            DecisionLog(database, FixedClock(LATER)),
            keyring=keyring,
            shared=SharedState(cluster_url, namespace="fwcluster", cluster=True),
        )
        for _ in range(3)
    ]
    yield services
    shared = services[0]._shared
    assert shared is not None
    shared._drop_namespace()
    for service in services:
        service.close()
    database.dispose()


@over_postgresql
def test_replicas_over_a_cluster_decide_as_one_service_and_spread_the_state(
    three: list[DecisionService], region: Path, tmp_path: Path, txs: list[Transaction]
) -> None:
    answers = [three[k % 3].decide(tx) for k, tx in enumerate(txs[:100])]
    for k, start in enumerate(range(100, len(txs), 25)):
        answers += three[k % 3].decide_batch(txs[start : start + 25])
    one = reference(region, tmp_path, txs)
    assert [essence(d) for d in answers] == [essence(one.decide(tx)) for tx in txs]
    assert_same_state(three[0], one)
    shared = three[0]._shared
    assert shared is not None
    nodes = shared.redis.get_primaries()  # type: ignore[union-attr]
    held = [shared.redis.dbsize(target_nodes=node) for node in nodes]  # type: ignore[call-arg]
    assert len(nodes) == CLUSTER_NODES and all(held), held
    assert sum(held) >= len(shared_values(shared))


@over_postgresql
def test_a_cluster_losing_the_state_is_a_503_until_a_replica_rebuilds_it(
    three: list[DecisionService], region: Path, tmp_path: Path, txs: list[Transaction]
) -> None:
    first, second = three[0], three[1]
    first.decide_batch(txs[:200])
    shared = first._shared
    assert shared is not None
    shared._drop_namespace()  # every node's keys of the namespace, the epoch with them
    shared.redis.script_flush()  # on every primary
    assert shared.claim_rebuild()
    with pytest.raises(SharedStateUnavailable, match="rebuilding"):
        second.decide(txs[200])
    shared.redis.delete(shared._global("build"))
    decided = second.decide_batch(txs[200:])
    one = reference(region, tmp_path, txs, restart_at=200)
    assert [essence(d) for d in decided] == [essence(one.decide(tx)) for tx in txs[200:]]
    assert_same_state(second, one)


def test_over_a_cluster_a_call_waiting_for_a_busy_entity_asks_for_it_alone(
    cluster_url: str,
) -> None:
    # A script's keys keep to one slot: each entity is leased by a script of its own, and
    # every one runs, so a call that found an entity busy asks for it alone, then the rest.
    entities = entities_of(5)
    wanted = intents(entities, "A1")
    first, other = started(cluster_url, "fwcluster-wait", 2, cluster=True)
    try:
        holder, _, complete = other.taken(other.ask(intents(entities[2:3], "B1"), ["B1"]))
        assert complete
        asking = first.ask(wanted, ["A1"])
        assert len(asking.work.commands) == len(entities)
        lease, _, complete = first.taken(asking)
        assert not complete and lease.entities == entities[:2] and lease.blocked == entities[2]
        # Kept for the call once let go (`_WAIT`, the busy entity's script not being the
        # first); those after it are given back.
        assert lease.awaited == entities[2]
        assert first.redis.hget(first._key(entities[2]), "w") == lease.owner.encode()
        assert all(first.redis.hget(first._key(e), "o") is None for e in entities[3:])
        asking = first.ask(wanted, ["A1"], lease)
        assert asking.todo == [entities[2]]
        assert not first.taken(asking)[2]
        other.release(holder, None, None).wait()
        lease, _, complete = first.taken(first.ask(wanted, ["A1"], lease))
        assert not complete and lease.entities == entities[:3] and lease.blocked is None
        asking = first.ask(wanted, ["A1"], lease)
        assert asking.todo == entities[3:]
        lease, _, complete = first.taken(asking)
        assert complete and lease.entities == entities
        first.release(lease, {e: b"state" for e in entities}, None).wait()
        assert all(first.redis.hget(first._key(e), "o") is None for e in entities)
    finally:
        first._drop_namespace()
        first.close()
        other.close()


def test_a_cluster_that_does_not_answer_is_a_clear_error() -> None:
    with pytest.raises(
        SharedStateUnavailable,
        match=r"Redis Cluster at redis://127\.0\.0\.1:1/0: .*Connection refused",
    ):
        SharedState("redis://127.0.0.1:1/0", cluster=True)
