"""The decision log's group commit inline (SQLite): small groups committed on the event loop
after one more turn of it, a batch on the writer's thread, and the groups after it behind it,
in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from fundwall.domain.transactions import Transaction
from fundwall.engine.committer import INLINE_ROWS, Committer, Entries
from fundwall.store.database import DatabaseUnavailableError

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class SlowLog:
    """Records each group's ids and the thread that wrote it; a write of a large group waits
    until `release` is set, so the loop can be seen going on meanwhile."""

    url = "sqlite:///test"

    def __init__(self) -> None:
        self.groups: list[tuple[str, list[str]]] = []
        self.release = threading.Event()
        self.started = threading.Event()

    def append_group(self, writes: Sequence[tuple[Entries, datetime]]) -> None:
        ids = [tx.tx_id for entries, _ in writes for tx, _ in entries]
        if len(ids) >= INLINE_ROWS:
            self.started.set()
            assert self.release.wait(10)
        self.groups.append((threading.current_thread().name, ids))

    def logged_ids(self, tx_ids: Sequence[str]) -> set[str]:
        return set()


def entries(prefix: str, count: int) -> Entries:
    return [
        (
            Transaction.from_mapping(
                {
                    "tx_id": f"{prefix}{i}",
                    "ts": AT,
                    "kind": "transfer",
                    "payer_account": "A1",
                    "payee_account": "B1",
                    "payer_bank": "301",
                    "payee_bank": "302",
                    "amount_fen": 100,
                    "channel": "mobile",
                }
            ),
            [],
        )
        for i in range(count)
    ]


def test_small_groups_are_committed_on_the_loop_and_a_batch_on_the_writers_thread() -> None:
    log = SlowLog()
    committer = Committer(log, lambda error: None, inline=True)

    async def calls() -> None:
        loop_thread = threading.current_thread().name
        await committer.submit(entries("s", 3), AT, awaited=True).landing()
        assert log.groups == [(loop_thread, ["s0", "s1", "s2"])]
        batch = committer.submit(entries("b", INLINE_ROWS), AT, awaited=True).landing()
        await asyncio.sleep(0)  # the loop runs what is ready: the batch is handed over
        assert await asyncio.to_thread(log.started.wait, 10)
        # The loop goes on while the batch is written; a call after it waits behind it.
        after = committer.submit(entries("a", 1), AT, awaited=True).landing()
        await asyncio.sleep(0.05)
        assert not batch.done() and not after.done()
        log.release.set()
        await asyncio.gather(batch, after)

    asyncio.run(calls())
    committer.close()
    assert [ids[0] for _, ids in log.groups] == ["s0", "b0", "a0"]
    assert [name for name, _ in log.groups[1:]] == ["decision-log", "decision-log"]
    assert committer.writes == 3


def test_a_commit_waits_one_more_turn_of_the_loop_for_the_calls_decided_in_it() -> None:
    log = SlowLog()
    committer = Committer(log, lambda error: None, inline=True)

    async def a_call_a_turn() -> None:
        first = committer.submit(entries("f", 1), AT, awaited=True).landing()
        await asyncio.sleep(0)  # the turn that runs what was ready: nothing committed yet
        assert log.groups == []
        second = committer.submit(entries("s", 1), AT, awaited=True).landing()
        await asyncio.gather(first, second)
        late = committer.submit(entries("l", 1), AT, awaited=True).landing()
        for _ in range(3):
            await asyncio.sleep(0)
        assert late.done()  # a call alone waits no longer than its two turns

    asyncio.run(a_call_a_turn())
    committer.close()
    assert [ids for _, ids in log.groups] == [["f0", "s0"], ["l0"]]
    assert committer.groups == 2


def test_a_blocking_caller_waits_for_the_batch_before_its_own_commit() -> None:
    log = SlowLog()
    committer = Committer(log, lambda error: None, inline=True)

    async def batch_then_block() -> None:
        batch = committer.submit(entries("b", INLINE_ROWS), AT, awaited=True).landing()
        await asyncio.sleep(0)
        assert await asyncio.to_thread(log.started.wait, 10)
        threading.Timer(0.05, log.release.set).start()
        committer.submit(entries("c", 1), AT).done.result(10)  # blocks the loop, commits in order
        await batch

    asyncio.run(batch_then_block())
    committer.close()
    assert [ids[0] for _, ids in log.groups] == ["b0", "c0"]


class FailingLog(SlowLog):
    """Fails every write."""

    def append_group(self, writes: Sequence[tuple[Entries, datetime]]) -> None:
        raise OSError("disk full")


def test_an_awaited_write_is_told_by_its_loops_own_future_as_the_commit_ends() -> None:
    log = SlowLog()
    committer = Committer(log, lambda error: None, inline=True)

    async def calls() -> None:
        write = committer.submit(entries("s", 1), AT, awaited=True)
        assert write.landed is not None and write.landing() is write.landed
        for _ in range(2):  # the turn that runs what was ready, then the one more
            await asyncio.sleep(0)
        # Committed on this loop's thread: completed there and then, no wake-up from
        # another thread to wait for.
        assert log.groups and write.landed.done() and write.done.done()

    asyncio.run(calls())
    committer.close()


def test_writes_committed_by_the_writers_thread_are_told_on_their_loop() -> None:
    log = SlowLog()
    committer = Committer(log, lambda error: None)  # PostgreSQL: the writer is a thread
    loop_thread = threading.get_ident()

    async def calls() -> None:
        writes = [committer.submit(entries(f"w{i}-", 1), AT, awaited=True) for i in range(3)]
        done: list[int] = []
        for write in writes:
            assert write.landed is not None
            write.landed.add_done_callback(lambda _: done.append(threading.get_ident()))
        await asyncio.wait_for(asyncio.gather(*(write.landing() for write in writes)), 10)
        assert done == [loop_thread] * 3

    asyncio.run(calls())
    committer.close()
    assert committer.writes == 3


def test_a_failed_write_raises_in_its_awaiting_caller_and_a_caller_gone_is_skipped() -> None:
    failures: list[BaseException] = []
    committer = Committer(FailingLog(), failures.append, inline=True)

    async def calls() -> None:
        waiting = committer.submit(entries("w", 1), AT, awaited=True)
        gone = committer.submit(entries("g", 1), AT, awaited=True)
        gone.landing().cancel()  # its caller went away before the commit
        try:
            await waiting.landing()
        except OSError as error:
            assert str(error) == "disk full"
        else:
            raise AssertionError("a failed write must raise in its caller")
        # The write after it is not logged either; its caller is no longer told.
        assert isinstance(gone.done.exception(), DatabaseUnavailableError)

    asyncio.run(calls())
    committer.close()
    assert len(failures) == 1
