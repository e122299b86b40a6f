"""Idempotency over the store on SQLite and PostgreSQL, and the decision log's group commit.

The service keeps its latest decisions in memory; before each call it reads which of the
call's transaction ids the log holds (with the audit head, `DecisionLog.watch`), so a repeated
id never gets a new decision: not once it left memory, not after a restart, not when it comes
back with another stamp, and such a repeat costs no rebuild of the state. Calls decided while a
commit is under way share the next one, and none is answered before its decisions are
committed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from engine_fixtures import COUNTING_PACK
from engine_store import seed, service_opener, transaction
from sqlalchemy import Engine, func, select

import fundwall.engine.service as service_module
from fundwall.auth.actor import Actor
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.errors import Conflict
from fundwall.domain.transactions import Transaction
from fundwall.engine.committer import INLINE_ROWS, Entries
from fundwall.engine.decision_log import DecisionLog, Watch
from fundwall.engine.service import DecisionService
from fundwall.rulepacks.registry import promote, register_pack
from fundwall.store import DatabaseUnavailableError, UnitOfWork
from fundwall.store.tables import DecisionRow, TransactionRow

ACTOR = Actor.operator("test")
MEMBER = "301"
"""The bank of A1, which pays the stream's transfers."""


@pytest.fixture
def open_service(
    database: Engine, keyring: Keyring, clock: FixedClock, uow_factory: Callable[[], UnitOfWork]
) -> Iterator[Callable[..., DecisionService]]:
    """Opens services over the test database, the counting pack live; closes them."""
    seed(database, keyring)
    with uow_factory() as uow:
        version = register_pack(uow, ACTOR, COUNTING_PACK, name="counting.yaml").version
    with uow_factory() as uow:
        promote(uow, ACTOR, version)
    with service_opener(database, clock, keyring) as make:
        yield make


class Stream:
    """Transfers from A1 to B1 one minute apart, at the test clock's time."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock, self.count = clock, 0

    def __call__(self, fen: int = 100, prefix: str = "S") -> Transaction:
        self.count += 1
        when = self.clock.advance(timedelta(minutes=1))
        return transaction(f"{prefix}{self.count:04d}", when, "A1", "B1", fen)


@pytest.fixture
def stream(clock: FixedClock) -> Stream:
    return Stream(clock)


def logged(database: Engine, tx_id: str) -> tuple[int, int]:
    """How many transactions and live decisions the log holds under `tx_id`."""
    with database.connect() as connection:
        txs = connection.scalar(
            select(func.count()).select_from(TransactionRow).where(TransactionRow.tx_id == tx_id)
        )
        decisions = connection.scalar(
            select(func.count())
            .select_from(DecisionRow)
            .where(DecisionRow.tx_id == tx_id, DecisionRow.shadow.is_(False))
        )
    return int(txs or 0), int(decisions or 0)


def roll_on(service: DecisionService, stream: Stream, clock: FixedClock) -> None:
    """Nine days later, a few transfers: what came before is a week and more old."""
    clock.advance(timedelta(days=9))
    for _ in range(3):
        service.decide(stream())


def counting_rebuilds(service: DecisionService, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one at each rebuild of `service`'s state from the log."""
    rebuilds: list[int] = []
    rebuild = service._rebuild

    def counted() -> None:
        rebuilds.append(1)
        rebuild()

    monkeypatch.setattr(service, "_rebuild", counted)
    return rebuilds


def test_a_repeated_id_no_longer_in_memory_gets_its_first_decision(
    open_service: Callable[..., DecisionService],
    database: Engine,
    stream: Stream,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "RECENT", 2)  # the recent decisions roll
    service = open_service()
    first = stream()
    decision = service.decide(first)
    roll_on(service, stream, clock)
    assert first.tx_id not in service._recent
    assert service.decide(first) == decision
    assert service.decide_batch([first, first]) == [decision, decision]
    assert logged(database, first.tx_id) == (1, 1)
    # Not folded again either: the next transfer counts the three of its hour, no more.
    (reason,) = service.decide(stream()).reasons
    assert reason.values == {"payer_out_count_1h": 3}


def test_after_a_restart_a_repeat_gets_its_first_decision(
    open_service: Callable[..., DecisionService],
    database: Engine,
    stream: Stream,
    clock: FixedClock,
) -> None:
    service = open_service()
    first = stream()
    decision = service.decide(first)
    roll_on(service, stream, clock)
    service.close()
    again = open_service()
    assert again.decide(first) == decision
    assert logged(database, first.tx_id) == (1, 1)


def test_an_old_id_sent_with_a_new_stamp_is_refused_without_a_rebuild(
    open_service: Callable[..., DecisionService],
    database: Engine,
    stream: Stream,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A member sending a week-old id again, stamped now, gets the 409 of an id sent before
    with other content, alone or in a batch, awaited or not: nothing is decided, the state is
    the very same object with the very same content, and nothing is rebuilt."""
    monkeypatch.setattr(service_module, "RECENT", 2)
    service = open_service()
    first = transaction("M1", clock.advance(timedelta(minutes=1)), "A1", "C2", 100)
    decision = service.decide(first, member=MEMBER)
    roll_on(service, stream, clock)
    rebuilds = counting_rebuilds(service, monkeypatch)
    core, state = service.core, service.core.snapshot()
    reused = transaction(first.tx_id, clock.advance(timedelta(minutes=1)), "A1", "C2", 500)
    new = transaction("M2", reused.ts, "A1", "C2", 100)
    content = "transaction id sent before with other content: ts, amount differ"
    with pytest.raises(Conflict, match=f"^tx_id: {content}$"):
        service.decide(reused, member=MEMBER)
    with pytest.raises(Conflict, match=f"^record 1, tx_id: {content}$"):
        service.decide_batch([new, reused], member=MEMBER)
    with pytest.raises(Conflict, match=f"^tx_id: {content}$"):
        asyncio.run(service.decide_durably([reused], member=MEMBER, batch=False))
    # Without a member (no admission), the id's first decision, decided nothing again.
    assert service.decide(reused) == decision
    assert rebuilds == []
    assert service.core is core and service.core.snapshot() == state
    assert logged(database, first.tx_id) == (1, 1)
    (reason,) = service.decide(stream()).reasons  # the three of the hour, nothing of `reused`
    assert reason.values == {"payer_out_count_1h": 3}
    assert rebuilds == []


def test_an_id_another_process_logs_meanwhile_is_a_conflict_and_the_state_is_rebuilt(
    open_service: Callable[..., DecisionService],
    database: Engine,
    stream: Stream,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Logged after the call read the log and before its commit (another writer: never a
    member's request alone), the log's unique key refuses it; the service rebuilds once."""
    service = open_service()
    assert service.log is not None
    decided = [service.decide(stream()) for _ in range(2)]
    rebuilds = counting_rebuilds(service, monkeypatch)
    raced = stream()
    watch = service.log.watch
    other = DecisionLog(database, clock)

    def raced_by_another_writer(tx_ids: Collection[str]) -> Watch:
        read = watch(tx_ids)
        if raced.tx_id in tx_ids:
            other.append([(raced, [replace(decided[0], tx_id=raced.tx_id)])], decided_at=raced.ts)
        return read

    monkeypatch.setattr(service.log, "watch", raced_by_another_writer)
    try:
        with pytest.raises(Conflict, match="in the log already"):
            service.decide(raced)
    finally:
        other.close()
    assert rebuilds == []  # rebuilt before the next call, not on the refused one
    assert service.decide(stream()).tx_id.startswith("S")
    assert rebuilds == [1]
    assert logged(database, raced.tx_id) == (1, 1)


def entries_of(writes: Sequence[tuple[Entries, datetime]]) -> list[str]:
    return [tx.tx_id for entries, _ in writes for tx, _ in entries]


def test_concurrent_calls_share_a_commit_and_are_answered_once_committed(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    service = open_service()
    assert service.log is not None and service._committer is not None
    sent = [stream(prefix=f"C{i}-") for i in range(12)]
    answered_at_commit: list[int] = []
    append = service.log.append_group

    def watched(writes: Sequence[tuple[Entries, datetime]]) -> None:
        # The calls of this commit: none answered yet (calls of an earlier commit may be).
        committing = set(entries_of(writes))
        answered_at_commit.append(
            sum(task.done() for tx, task in zip(sent, tasks, strict=True) if tx.tx_id in committing)
        )
        append(writes)

    service.log.append_group = watched  # type: ignore[method-assign]

    async def send() -> list[list[Decision]]:
        nonlocal tasks
        tasks = [asyncio.ensure_future(service.decide_durably([tx], batch=False)) for tx in sent]
        return await asyncio.gather(*tasks)

    tasks: list[asyncio.Future[list[Decision]]] = []
    answers = asyncio.run(send())
    assert [a.tx_id for (a,) in answers] == [tx.tx_id for tx in sent]
    assert answered_at_commit and set(answered_at_commit) == {0}
    committer = service._committer
    assert committer.writes == len(sent) and committer.groups < committer.writes
    assert all(logged(database, tx.tx_id) == (1, 1) for tx in sent)


def test_a_failed_commit_fails_every_call_decided_after_it_and_counts_nothing(
    open_service: Callable[..., DecisionService],
    database: Engine,
    stream: Stream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = open_service()
    assert service.log is not None
    append = service.log.append_group

    def fail(writes: object) -> None:
        raise DatabaseUnavailableError("sqlite://", "disk I/O error")

    monkeypatch.setattr(service.log, "append_group", fail)
    sent = [stream() for _ in range(5)]

    async def send() -> list[object]:
        return await asyncio.gather(
            *(service.decide_durably([tx], batch=False) for tx in sent), return_exceptions=True
        )

    failures = asyncio.run(send())
    assert all(isinstance(f, DatabaseUnavailableError) for f in failures), failures
    monkeypatch.setattr(service.log, "append_group", append)
    assert all(logged(database, tx.tx_id) == (0, 0) for tx in sent)
    # Rebuilt from the log: none of the five counted; two more transfers pass, the third alerts.
    assert [service.decide(tx).action for tx in sent[:2]] == [Action.PASS, Action.PASS]
    assert service.decide(stream()).action is Action.ALERT


def test_a_call_blocking_the_event_loop_gets_its_answer(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    """The pacs.008 route decides without awaiting, on the loop whose turn commits the
    awaited calls: its own writes, and the repeats it answers, are committed at once."""
    service = open_service()
    first, second = stream(), stream()

    async def mixed() -> tuple[list[Decision], list[Decision]]:
        pending = asyncio.ensure_future(service.decide_durably([first], batch=False))
        for _ in range(5):  # until `first` is decided and its commit waits for the loop
            await asyncio.sleep(0)
        again = service.decide_batch([first, second])
        return await pending, again

    outcome: list[tuple[list[Decision], list[Decision]]] = []
    runner = threading.Thread(target=lambda: outcome.append(asyncio.run(mixed())), daemon=True)
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "the blocking call waited for the loop it blocks"
    ((awaited,), (repeat, other)) = outcome[0]
    assert repeat == awaited and other.tx_id == second.tx_id
    assert logged(database, first.tx_id) == logged(database, second.tx_id) == (1, 1)


def test_a_group_is_logged_whole_or_not_at_all(
    open_service: Callable[..., DecisionService],
    database: Engine,
    stream: Stream,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch is logged whole; one whose last id another writer logged meanwhile leaves
    nothing of it in the log, and the next call is logged."""
    service = open_service()
    assert service.log is not None
    batch = [stream() for _ in range(4)]
    decided = service.decide_batch(batch)
    assert all(logged(database, tx.tx_id) == (1, 1) for tx in batch)
    firsts = service.log.firsts([tx.tx_id for tx in batch])
    assert [firsts[tx.tx_id] for tx in batch] == list(zip(batch, decided, strict=True))
    raced = [stream() for _ in range(4)]
    watch = service.log.watch
    other = DecisionLog(database, clock)

    def raced_by_another_writer(tx_ids: Collection[str]) -> Watch:
        read = watch(tx_ids)
        if raced[-1].tx_id in tx_ids:
            other.append(
                [(raced[-1], [replace(decided[0], tx_id=raced[-1].tx_id)])],
                decided_at=clock.now(),
            )
        return read

    monkeypatch.setattr(service.log, "watch", raced_by_another_writer)
    try:
        with pytest.raises(Conflict, match="in the log already"):
            service.decide_batch(raced)
    finally:
        other.close()
    assert [logged(database, tx.tx_id) for tx in raced] == [(0, 0)] * 3 + [(1, 1)]
    after = stream()  # the writer, opened again, writes on
    service.decide(after)
    assert logged(database, after.tx_id) == (1, 1)


def test_a_group_is_logged_in_the_order_decided(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    """The log numbers decisions in the order the engine made them (a restart folds them in
    that order), whatever their ids' order: here the reverse of it."""
    service = open_service()
    batch = [stream(prefix=f"Z{99 - n:02d}-") for n in range(40)]
    service.decide_batch(batch)
    with database.connect() as connection:
        order = connection.scalars(
            select(DecisionRow.tx_id)
            .where(DecisionRow.tx_id.in_([tx.tx_id for tx in batch]))
            .order_by(DecisionRow.id)
        ).all()
    assert order == [tx.tx_id for tx in batch]


def test_a_batch_of_old_ids_is_answered_from_one_read_of_the_log(
    open_service: Callable[..., DecisionService],
    stream: Stream,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A member resending hundreds of ids no longer in memory costs one read of their first
    transactions and decisions, not one per id (nor one per id for admission)."""
    monkeypatch.setattr(service_module, "RECENT", 2)
    service = open_service()
    assert service.log is not None
    old = [
        transaction(f"M{i}", clock.advance(timedelta(seconds=1)), "A1", "C2", 100)
        for i in range(60)
    ]
    decided = service.decide_batch(old, member=MEMBER)
    roll_on(service, stream, clock)
    reads: list[int] = []
    firsts = service.log.firsts

    def counted(tx_ids: Sequence[str]) -> dict[str, tuple[Transaction, Decision | None]]:
        reads.append(len(tx_ids))
        return firsts(tx_ids)

    monkeypatch.setattr(service.log, "firsts", counted)
    assert service.decide_batch(old, member=MEMBER) == decided
    assert reads == [len(old)]


def _rows_of(
    database: Engine, prefix: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The transactions and decisions logged under ids starting with `prefix`, the prefix
    dropped from each id, in log order."""
    with database.connect() as connection:
        txs = connection.execute(
            select(TransactionRow.__table__)
            .where(TransactionRow.tx_id.startswith(prefix))
            .order_by(TransactionRow.tx_id)
        ).mappings()
        decisions = connection.execute(
            select(DecisionRow.__table__)
            .where(DecisionRow.tx_id.startswith(prefix))
            .order_by(DecisionRow.id)
        ).mappings()
        return (
            [{**row, "tx_id": row["tx_id"][len(prefix) :]} for row in txs],
            [{**row, "tx_id": row["tx_id"][len(prefix) :], "id": None} for row in decisions],
        )


def test_a_batch_written_in_one_statement_a_table_holds_what_rows_written_one_by_one_do(
    database: Engine, clock: FixedClock
) -> None:
    """On SQLite a group of `INLINE_ROWS` transactions or more is written as JSON arrays
    (`DecisionLog._write_as_json`), smaller ones row by row: the same entries come back the
    same either way, texts in any script, absent values, nested reasons and the log's order
    included (on PostgreSQL both are one statement of JSON records)."""
    size = INLINE_ROWS + 20
    entries: dict[str, list[tuple[Transaction, list[Decision]]]] = {"J-": [], "R-": []}
    for n in range(size):
        when = clock.now() + timedelta(seconds=n)
        kind = n % 3
        payer, payee = ("A1", "B1") if kind == 0 else ("A1", None) if kind == 1 else (None, "B1")
        for prefix, made in entries.items():
            tx = replace(
                transaction(f"{prefix}{size - n:04d}", when, payer, payee, 100 + n),
                device_id='dev-"q"\\x' if n % 2 else None,
                purpose="房租 rent \\ ünïcode 😀" if n % 5 else None,
            )
            reason = Reason(
                "R1", "大额转账 😀", 'a "large" transfer', {"amount": n, "city": "上海 😀"}
            )
            live = Decision(tx.tx_id, Action.ALERT, n, (reason,), "p1", latency_us=n)
            shadow = Decision(tx.tx_id, Action.PASS, 0, (), "p2", model_version="m1", shadow=True)
            made.append((tx, [live, shadow] if n % 4 == 0 else [live]))
    log = DecisionLog(database, clock)
    try:
        log.append_group([(entries["J-"], clock.now())])
        for start in range(0, size, 10):
            log.append_group([(entries["R-"][start : start + 10], clock.now())])
    finally:
        log.close()
    as_json, row_by_row = _rows_of(database, "J-"), _rows_of(database, "R-")
    assert len(as_json[0]) == size and len(as_json[1]) == size + size // 4
    assert as_json == row_by_row
    assert [row["tx_id"] for row in as_json[1][:3]] == [
        f"{size:04d}",
        f"{size:04d}",
        f"{size - 1:04d}",
    ]


def test_the_loop_reads_the_head_and_the_calls_ids_and_opens_again_after_a_broken_connection(
    open_service: Callable[..., DecisionService], database: Engine, stream: Stream
) -> None:
    """`DecisionLog.watch_on_loop`, what the server's calls read before deciding (on
    PostgreSQL the loop's own connection): the latest commit, and after the server closed
    that connection, one clear error and then a connection opened again."""
    service = open_service()
    log = service.log
    assert log is not None
    first, later = stream(), stream()
    service.decide(first)

    async def reads() -> list[Watch]:
        before = await log.watch_on_loop([first.tx_id, later.tx_id])
        service.decide(later)  # committed after that read: the next one sees it
        after = await log.watch_on_loop([later.tx_id, "never-sent"])
        if log.embedded:
            return [before, after]
        loop_connection = log._loop_watch
        assert loop_connection is not None
        with database.connect() as connection:  # the server ends the loop's connection
            connection.exec_driver_sql(
                f"SELECT pg_terminate_backend({loop_connection[1].info.backend_pid})"
            )
        with pytest.raises(DatabaseUnavailableError):
            await log.watch_on_loop([first.tx_id])
        return [before, after, await log.watch_on_loop([first.tx_id])]

    watches = asyncio.run(reads())
    assert watches[0].logged == {first.tx_id}
    assert watches[1].logged == {later.tx_id}
    assert all(watch.head == log.head() for watch in watches)
    if not log.embedded:
        assert watches[2].logged == {first.tx_id}
