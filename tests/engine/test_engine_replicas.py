"""Several decision services over one PostgreSQL log and one Redis: the replicas of a
production deployment (`fundwall.engine.shared`, docs/scale.md). Whichever replica decides a
transaction, it is decided as one service holding everything would decide it; a transaction id
is decided once across them; changes to the controls hold on every replica from the next call;
a replica that stopped mid-decision, Redis losing its data and an unreachable database never
make a decision wrong or silent."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crash_checks import essence, live_decisions, logged_transactions
from engine_store import load_accounts, region_store
from replicas import core_values, namespace, redis_url, shared_values
from sqlalchemy import Engine

import fundwall.engine.service as service_module
import fundwall.engine.shared as shared_module
from fundwall.accounts.controls import restrict
from fundwall.auth.actor import Actor
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.devices import FaceCheck, LoginEvent
from fundwall.domain.transactions import Transaction
from fundwall.engine.controls import RestrictionKind
from fundwall.engine.core import event_of
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.features.entity_state import Entity, EntityKind
from fundwall.engine.service import DecisionService
from fundwall.engine.shared import Lease, SharedState, SharedStateUnavailable
from fundwall.region import read_table
from fundwall.store import DatabaseUnavailableError, UnitOfWork, open_database

pytestmark = pytest.mark.parametrize("migrated_database_url", ["postgresql"], indirect=True)

LATER = datetime(2030, 1, 1, tzinfo=UTC)
"""The services' clock: after the region's history, so no stamp is capped."""
ACTOR = Actor.operator("test")


@pytest.fixture
def txs(region: Path) -> list[Transaction]:
    rows = read_table(region, "transactions").to_pylist()
    return [Transaction.from_mapping(row) for row in rows]


@pytest.fixture
def postgres(migrated_database_url: str, region: Path, keyring: Keyring) -> Iterator[Engine]:
    """The PostgreSQL store of the replicas, holding the region's accounts, no history."""
    database = open_database(migrated_database_url)
    load_accounts(region, database, keyring)
    yield database
    database.dispose()


@pytest.fixture
def replicas(postgres: Engine, keyring: Keyring) -> Iterator[Callable[..., DecisionService]]:
    """Opens replicas over the store and a Redis namespace of the test's own."""
    url = redis_url()
    opened: list[DecisionService] = []
    with namespace(url) as name:

        def make(**options: object) -> DecisionService:
            shared = SharedState(url, namespace=name, **options)  # type: ignore[arg-type]
            service = DecisionService.over(
                DecisionLog(postgres, FixedClock(LATER)), keyring=keyring, shared=shared
            )
            opened.append(service)
            return service

        yield make
        for service in opened:
            service.close()


def assert_same_state(replica: DecisionService, one: DecisionService) -> None:
    """Every entity's state in Redis is the one service's (which holds the whole state)."""
    shared = replica._shared
    assert shared is not None
    assert shared_values(shared) == core_values(one.core)


def reference(
    region: Path, tmp_path: Path, txs: list[Transaction], restart_at: int | None = None
) -> DecisionService:
    """One service holding the whole state (no replicas) that decided `txs`; with
    `restart_at`, restarted (folding its log) before that transaction, as a rebuild folds."""
    url, keyring = region_store(tmp_path, region)

    def started() -> DecisionService:
        log = DecisionLog(open_database(url), FixedClock(LATER))
        return DecisionService.over(log, keyring=keyring)

    service = started()
    for start in range(0, len(txs), 25):
        if restart_at is not None and start == restart_at:
            service = started()
        service.decide_batch(txs[start : start + 25])
    return service


def test_three_replicas_decide_as_one_service_holding_everything(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
    migrated_database_url: str,
) -> None:
    three = [replicas() for _ in range(3)]
    singles, batches = txs[:300], txs[300:]
    answers = [three[k % 3].decide(tx) for k, tx in enumerate(singles)]
    for k, start in enumerate(range(0, len(batches), 25)):
        answers += three[k % 3].decide_batch(batches[start : start + 25])
    one = reference(region, tmp_path, txs)
    expected = [one.decide(tx) for tx in txs]  # repeats: the first decisions
    assert [essence(d) for d in answers] == [essence(d) for d in expected]
    assert any(d.action is not Action.PASS for d in answers)
    assert_same_state(three[0], one)  # the same features
    assert len(live_decisions(migrated_database_url)) == len(txs)


def test_a_retry_on_another_replica_gets_the_first_decision_and_counts_once(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
) -> None:
    first, second = replicas(), replicas()
    sent = txs[:40]
    answers = [first.decide(tx) for tx in sent]
    assert [second.decide(tx) for tx in sent] == answers
    assert second.decide_batch(sent) == answers
    one = reference(region, tmp_path, sent)
    assert_same_state(second, one)


def test_a_restriction_holds_on_every_replica_from_the_next_call(
    replicas: Callable[..., DecisionService],
    postgres: Engine,
    txs: list[Transaction],
) -> None:
    first, second = replicas(), replicas()
    tx = next(t for t in txs if t.payer_account is not None)
    first.decide(tx)
    with UnitOfWork(postgres, clock=FixedClock(LATER)) as uow:
        restrict(uow, ACTOR, tx.payer_account, RestrictionKind.STOP_PAYMENT, reason="止付令")
    # Stamped after the order: a restriction holds from when it was made.
    again = Transaction.from_mapping({**tx.as_row(), "tx_id": "AFTER-STOP", "ts": LATER})
    blocked = second.decide(again)
    assert (blocked.action, blocked.reasons[0].rule_id) == (Action.BLOCK, "HC02")


def test_redis_losing_the_state_is_a_503_until_a_replica_rebuilds_it_from_the_log(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
) -> None:
    first, second = replicas(), replicas()
    for start in range(0, 200, 20):
        first.decide_batch(txs[start : start + 20])
    shared = first._shared
    assert shared is not None
    # Redis restarted empty, and another replica has claimed the rebuild: nothing is decided.
    shared._drop_namespace()
    shared.redis.script_flush()  # a restarted Redis has no scripts either
    assert shared.claim_rebuild()
    with pytest.raises(SharedStateUnavailable, match="rebuilding"):
        second.decide(txs[200])
    # The claim lapses (its replica died): the next call rebuilds from the log and decides.
    shared.redis.delete(shared._global("build"))
    decided = second.decide_batch(txs[200:300])
    assert second.published_s is not None
    # Logins fold among the transactions by time in a rebuild, as in a restart.
    one = reference(region, tmp_path, txs[:300], restart_at=200)
    assert [essence(d) for d in decided] == [essence(one.decide(tx)) for tx in txs[200:300]]
    assert_same_state(second, one)


def test_an_unreachable_database_stops_decisions_and_changes_no_state(
    replicas: Callable[..., DecisionService],
    txs: list[Transaction],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = replicas(), replicas()
    first.decide_batch(txs[:50])
    shared = first._shared
    assert shared is not None
    before = shared_values(shared)
    assert first.log is not None

    def fail(writes: object) -> None:
        raise DatabaseUnavailableError("postgresql://", "connection refused")

    monkeypatch.setattr(first.log, "append_group", fail)
    with pytest.raises(DatabaseUnavailableError):
        first.decide_batch(txs[50:60])
    assert shared_values(shared) == before
    # Nothing half-done: the other replica (and this one, once the database is back) decides
    # those transactions as if the failed call never happened.
    monkeypatch.undo()
    assert second.decide_batch(txs[50:60]) == first.decide_batch(txs[50:60])


def test_a_replica_stopped_after_its_commit_is_folded_by_the_next_holder(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
) -> None:
    stopped, survivor = replicas(lease_ms=200), replicas(lease_ms=200)
    survivor.decide_batch(txs[:100])
    # The stopped replica decides and commits, then stops before it writes the state.
    answers, durable, lease = stopped._decide(txs[100:110], None, batch=True)
    stopped._wait(durable)
    assert lease is not None
    payers = {tx.payer_account for tx in txs[100:110]}
    assert any(tx.payer_account in payers for tx in txs[110:200]), "no orphan would be folded"
    # Until its lease runs out, the entities are busy; then the next holder folds the orphan.
    survivor._shared.wait_s = 5.0  # type: ignore[union-attr]
    rest = survivor.decide_batch(txs[110:200])
    one = reference(region, tmp_path, txs[:200])
    assert [essence(d) for d in answers + rest] == [essence(one.decide(tx)) for tx in txs[100:200]]
    shared = survivor._shared
    assert shared is not None
    # What the survivor leased since is as the one service holds it; the stopped replica's
    # other entities keep its intent, for whichever replica holds them next.
    waiting = {
        key.decode().split(":", 1)[1]
        for key in shared.redis.scan_iter(match=f"{shared.namespace}:{{*}}")
        if shared.redis.hexists(key, "x")
    }
    assert waiting
    resolved = {k: v for k, v in shared_values(shared).items() if k not in waiting}
    assert resolved == {k: v for k, v in core_values(one.core).items() if k not in waiting}


def test_entities_held_too_long_are_a_503(
    replicas: Callable[..., DecisionService], txs: list[Transaction]
) -> None:
    holder, waiting = replicas(), replicas(wait_s=0.2)
    _, durable, lease = holder._decide(txs[:5], None, batch=True)
    holder._wait(durable)
    with pytest.raises(SharedStateUnavailable, match="busy"):
        waiting.decide(Transaction.from_mapping({**txs[0].as_row(), "tx_id": "WAITS"}))
    holder._settle(lease, written=True)
    assert waiting.decide(Transaction.from_mapping({**txs[0].as_row(), "tx_id": "WAITS"}))


def test_logins_taken_by_one_replica_count_in_another_replicas_decisions(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
) -> None:
    first, second = replicas(), replicas()
    second.decide_batch(txs[:100])
    tx = next(t for t in txs[100:] if t.payer_account is not None and t.device_id is not None)
    logins = [
        LoginEvent(f"NEWDEV-{k}", tx.payer_account, tx.ts - timedelta(minutes=10 - k),
                   f"DV-NEW-{k}", None, None, FaceCheck.MISMATCH)
        for k in range(3)
    ]  # fmt: skip
    assert first.observe_logins(logins) == 3
    decided = second.decide(tx)
    one = reference(region, tmp_path, txs[:100])
    one.observe_logins(logins)
    assert one.core.features.compute(event_of(tx, tx.ts)).get("payer_face_fail_7d") >= 3
    assert essence(decided) == essence(one.decide(tx))
    assert_same_state(second, one)


def held_after_some_of_a_batch(
    holder: DecisionService, txs: list[Transaction]
) -> tuple[Transaction, list[Transaction], Lease]:
    """A single transaction whose entities all sort after some of the batch's (the rest of
    the first 40), decided by `holder`, which still holds its entities: the lease."""
    features = holder.core.features

    def entities(chosen: list[Transaction]) -> list[Entity]:
        return sorted({e for tx in chosen for e in features.entities_of(event_of(tx, tx.ts))})

    at = next(k for k in range(5, 40) if entities([txs[k]])[0] > entities(txs[:5])[0])
    single, batch = txs[at], txs[:at] + txs[at + 1 : 40]
    _, durable, lease = holder._decide([single], None, batch=False)
    holder._wait(durable)
    assert lease is not None
    return single, batch, lease


def test_a_batch_keeps_the_entities_before_a_busy_one_and_finishes_once_it_is_free(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
) -> None:
    holder, batcher = replicas(), replicas()
    single, batch, lease = held_after_some_of_a_batch(holder, txs)
    shared = batcher._shared
    assert shared is not None
    answers: list[Decision] = []
    worker = threading.Thread(target=lambda: answers.extend(batcher.decide_batch(batch)))
    worker.start()
    # Entities are taken in one order by every replica: the batch holds those before the
    # first one the single holds, and waits for it without giving them back.
    before = [e for e in sorted(batcher._holding) if e < min(lease.entities)]
    deadline = time.monotonic() + 5
    while not before and time.monotonic() < deadline:
        time.sleep(0.05)
        before = [e for e in sorted(batcher._holding) if e < min(lease.entities)]
    assert before and worker.is_alive()
    owner = shared.redis.hget(shared._key(before[0]), "o")
    assert owner is not None and owner.decode().startswith(shared.replica)
    holder._settle(lease, written=True)
    worker.join(10)
    assert not worker.is_alive()
    one = reference(region, tmp_path, [single])
    assert [essence(d) for d in answers] == [essence(d) for d in one.decide_batch(batch)]
    assert_same_state(batcher, one)


def test_a_call_cancelled_while_it_waits_gives_back_what_it_held(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
) -> None:
    holder, waiter = replicas(), replicas()
    single, batch, lease = held_after_some_of_a_batch(holder, txs)
    shared = waiter._shared
    assert shared is not None

    async def cancelled_while_waiting() -> list[Entity]:
        call = asyncio.create_task(waiter.decide_durably(batch))
        kept: list[Entity] = []
        for _ in range(500):
            await asyncio.sleep(0.01)
            kept = [e for e in sorted(waiter._holding) if e < min(lease.entities)]
            if kept:
                break
        call.cancel()  # the caller went away (its HTTP request dropped)
        with pytest.raises(asyncio.CancelledError):
            await call
        return kept

    kept = asyncio.run(cancelled_while_waiting())
    assert kept and not waiter._holding
    # What it held is free for anyone at once, in Redis too: nothing waits for its lease.
    assert all(shared.redis.hget(shared._key(e), "o") is None for e in kept)
    holder._settle(lease, written=True)
    answers = waiter.decide_batch(batch)
    one = reference(region, tmp_path, [single])
    assert [essence(d) for d in answers] == [essence(d) for d in one.decide_batch(batch)]
    assert_same_state(waiter, one)


CONCURRENT = 8


def decided_concurrently(replica: DecisionService, sent: list[Transaction]) -> list[Decision]:
    """The answers to `sent`, each its own call, all of them at once on the replica's loop."""

    async def calls() -> list[Decision]:
        answers = await asyncio.gather(*(replica.decide_durably([tx], batch=False) for tx in sent))
        assert replica._shared is not None
        replica._shared.pump.flush()  # the last release, lingering (the loop ends here)
        return [answer for (answer,) in answers]

    return asyncio.run(calls())


def copies_of(tx: Transaction, count: int) -> list[Transaction]:
    """`count` transfers like `tx` a second apart: every one holds the same entities."""
    return [
        Transaction.from_mapping(
            {**tx.as_row(), "tx_id": f"HOT-{k}", "ts": tx.ts + timedelta(seconds=k)}
        )
        for k in range(count)
    ]


def test_a_call_waiting_for_another_replicas_entity_is_told_when_it_is_let_go(
    replicas: Callable[..., DecisionService],
    txs: list[Transaction],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It asks again only after 20 s, the entity kept for it as long: only word wakes it.
    monkeypatch.setattr(service_module, "FREED_WAIT_S", 20.0)
    monkeypatch.setattr(service_module, "COMPLETION_WAIT_S", 20.0)
    monkeypatch.setattr(shared_module, "WAIT_MS", 20_000)
    holder, waiter = replicas(), replicas(wait_s=30.0)
    first, second = copies_of(txs[0], 2)
    _, durable, lease = holder._decide([first], None, batch=False)
    holder._wait(durable)
    assert lease is not None
    shared = waiter._shared
    assert shared is not None
    answers: list[Decision] = []
    worker = threading.Thread(
        target=lambda: answers.extend(asyncio.run(waiter.decide_durably([second], batch=False)))
    )
    worker.start()
    busy = lease.entities[0]
    kept = shared._key(busy)
    deadline = time.monotonic() + 10
    while not (shared.redis.hget(kept, "w") or b"").startswith(shared.replica.encode()):
        assert time.monotonic() < deadline, "the call never waited for the entity"
        time.sleep(0.01)
    time.sleep(0.05)  # the call is waiting for word now
    rounds = shared.pump.rounds
    # Another call of the waiting replica lets go of the entity in the replica's book (it
    # asked for it, and queued behind): not the holder the call waits for.
    waiter._holding[busy] = waiter._holding.get(busy, 0) + 1
    waiter._unhold([busy])
    time.sleep(0.2)
    assert shared.pump.rounds == rounds  # not woken: no ask for nothing
    holder._settle(lease, written=True)
    worker.join(10)
    assert not worker.is_alive() and len(answers) == 1
    # Its lease completed by the holder's release, it asks no more: then wrote and let go.
    assert shared.pump.rounds - rounds <= 1


def test_concurrent_calls_on_one_account_cost_one_redis_round_trip_each(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
    migrated_database_url: str,
) -> None:
    replica = replicas()
    shared = replica._shared
    assert shared is not None
    replica.decide_batch(txs[:50])
    tx = next(t for t in txs[50:] if t.payer_account is not None and t.device_id is not None)
    # Every call holds the same entities: the calls go one after the other, and each one's
    # lease rides in the round that writes and releases the previous one's. Over PostgreSQL
    # the calls' audit-head reads (`fundwall.engine.head`) may come back in two turns, and a
    # lease of the second turn can then go in a round of its own.
    hot = copies_of(tx, CONCURRENT)
    before = shared.pump.rounds
    answers = decided_concurrently(replica, hot)
    assert shared.pump.rounds - before <= CONCURRENT + 2
    # As one service deciding them in the order the replica did.
    order = logged_transactions(migrated_database_url)
    one = reference(region, tmp_path, order)
    assert [essence(d) for d in answers] == [essence(one.decide(t)) for t in hot]
    assert_same_state(replica, one)
    # A call alone in an idle replica sees two: its lease, then its write and release.
    before = shared.pump.rounds
    replica.decide(Transaction.from_mapping({**tx.as_row(), "tx_id": "ALONE"}))
    assert shared.pump.rounds - before == 2


def test_concurrent_calls_on_different_accounts_share_their_round_trips(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
    migrated_database_url: str,
) -> None:
    replica = replicas()
    shared = replica._shared
    assert shared is not None
    features = replica.core.features
    apart: list[Transaction] = []
    taken: set[Entity] = set()
    for tx in txs:
        entities = set(features.entities_of(event_of(tx, tx.ts)))
        if not entities & taken:
            apart.append(tx)
            taken |= entities
        if len(apart) == CONCURRENT:
            break
    before = shared.pump.rounds
    answers = decided_concurrently(replica, apart)
    # The leases of calls arriving together go in one or two rounds (the audit head's
    # reads: `fundwall.engine.head`), each call's write and release with those of the calls
    # committed with it: fewer than the two each that calls alone cost.
    assert shared.pump.rounds - before <= CONCURRENT + 2
    one = reference(region, tmp_path, logged_transactions(migrated_database_url))
    assert [essence(d) for d in answers] == [essence(one.decide(t)) for t in apart]
    assert_same_state(replica, one)


def test_a_replica_passing_a_hot_account_along_lets_another_replicas_call_in(
    replicas: Callable[..., DecisionService],
    region: Path,
    tmp_path: Path,
    txs: list[Transaction],
    migrated_database_url: str,
) -> None:
    passing, other = replicas(), replicas()
    tx = next(t for t in txs if t.payer_account is not None)
    hot = copies_of(tx, 60)
    answers: list[Decision] = []
    stream = threading.Thread(target=lambda: answers.extend(decided_concurrently(passing, hot)))
    stream.start()
    account = (EntityKind.ACCOUNT, tx.payer_account)
    deadline = time.monotonic() + 10
    while account not in passing._holding and time.monotonic() < deadline:
        time.sleep(0.001)
    assert stream.is_alive()
    # Refused, the other replica's call has the account kept for it once let go: it decides
    # among the stream's calls, not after all of them.
    late = Transaction.from_mapping(
        {**tx.as_row(), "tx_id": "OTHER", "ts": tx.ts + timedelta(seconds=30, milliseconds=1)}
    )
    decided = other.decide(late)
    stream.join(30)
    assert not stream.is_alive()
    order = [t.tx_id for t in logged_transactions(migrated_database_url)]
    assert order.index("OTHER") < order.index(hot[-1].tx_id)
    one = reference(region, tmp_path, logged_transactions(migrated_database_url))
    assert essence(decided) == essence(one.decide(late))
    assert [essence(d) for d in answers] == [essence(one.decide(t)) for t in hot]
    assert_same_state(other, one)
