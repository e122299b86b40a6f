"""`SharedHead`: one read of the audit head and the calls' ids serves every call that asked
before it began, and a call never gets a read begun before it asked."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from fundwall.engine.decision_log import Watch
from fundwall.engine.head import SharedHead


class Reads:
    """A read per call of `read`, which takes a turn of the loop to answer; what each read
    was asked for."""

    def __init__(self) -> None:
        self.asked: list[set[str]] = []

    async def read(self, tx_ids: Collection[str]) -> Watch:
        self.asked.append(set(tx_ids))
        number = len(self.asked)
        await asyncio.sleep(0)  # the loop serves other calls while the read is under way
        return Watch(number, frozenset(tx_ids))


def test_the_calls_of_one_turn_share_one_read_and_a_call_after_it_began_waits_for_the_next() -> (
    None
):
    reads = Reads()
    head = SharedHead(reads.read)

    async def calls() -> list[Watch]:
        first = asyncio.ensure_future(head.after_now(["a"]))
        second = asyncio.ensure_future(head.after_now(["b"]))
        await asyncio.sleep(0)  # both calls asked; the read begins with the ids of both
        late = asyncio.ensure_future(head.after_now(["c"]))  # the read is under way
        await asyncio.sleep(0)
        later = asyncio.ensure_future(head.after_now(["d"]))  # the read is not over yet
        return list(await asyncio.gather(first, second, late, later))

    first, second, late, later = asyncio.run(calls())
    assert reads.asked == [{"a", "b"}, {"c", "d"}]
    assert first == second == Watch(1, frozenset({"a", "b"}))
    assert late == later == Watch(2, frozenset({"c", "d"}))


def test_a_failed_read_fails_its_calls_and_the_next_call_reads_again() -> None:
    failing = True

    async def read(tx_ids: Collection[str]) -> Watch:
        if failing:
            raise ConnectionError("the store went away")
        return Watch(7, frozenset(tx_ids))

    head = SharedHead(read)

    async def calls() -> tuple[list[Watch | BaseException], Watch]:
        nonlocal failing
        failed = await asyncio.gather(
            head.after_now(["a"]), head.after_now(["b"]), return_exceptions=True
        )
        failing = False
        return list(failed), await head.after_now(["c"])

    failed, again = asyncio.run(calls())
    assert [type(outcome) for outcome in failed] == [ConnectionError, ConnectionError]
    assert again == Watch(7, frozenset({"c"}))
