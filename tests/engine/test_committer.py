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
        await asyncio.wrap_future(committer.submit(entries("s", 3), AT, awaited=True))
        assert log.groups == [(loop_thread, ["s0", "s1", "s2"])]
        batch = asyncio.wrap_future(committer.submit(entries("b", INLINE_ROWS), AT, awaited=True))
        await asyncio.sleep(0)  # the loop runs what is ready: the batch is handed over
        assert await asyncio.to_thread(log.started.wait, 10)
        # The loop goes on while the batch is written; a call after it waits behind it.
        after = asyncio.wrap_future(committer.submit(entries("a", 1), AT, awaited=True))
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
        first = asyncio.wrap_future(committer.submit(entries("f", 1), AT, awaited=True))
        await asyncio.sleep(0)  # the turn that runs what was ready: nothing committed yet
        assert log.groups == []
        second = asyncio.wrap_future(committer.submit(entries("s", 1), AT, awaited=True))
        await asyncio.gather(first, second)
        late = asyncio.wrap_future(committer.submit(entries("l", 1), AT, awaited=True))
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
        batch = asyncio.wrap_future(committer.submit(entries("b", INLINE_ROWS), AT, awaited=True))
        await asyncio.sleep(0)
        assert await asyncio.to_thread(log.started.wait, 10)
        threading.Timer(0.05, log.release.set).start()
        committer.submit(entries("c", 1), AT).result(10)  # blocks the loop, commits in order
        await batch

    asyncio.run(batch_then_block())
    committer.close()
    assert [ids[0] for _, ids in log.groups] == ["b0", "c0"]
