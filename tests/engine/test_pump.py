"""The Redis pump of a replica (`fundwall.engine.pump`), over a recording stand-in for Redis:
what is queued together goes as one pipeline, in the order queued, with the round's reads
once at its end; a caller that blocks sends at once; a failure reaches every call of its
round."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fundwall.engine.pump import LINGER_S, Command, Pump
from fundwall.engine.shared import SharedStateUnavailable

READS: list[Command] = [("get", ("epoch",)), ("get", ("clock",))]


class Recorder:
    """Answers each command with its own arguments, and keeps every pipeline sent."""

    def __init__(self) -> None:
        self.pipelines: list[list[Command]] = []
        self.failure: Exception | None = None

    def __call__(self, commands: list[Command]) -> list[Any]:
        self.pipelines.append(list(commands))
        if self.failure is not None:
            raise self.failure
        return [args[0] for _, args in commands]


def test_work_queued_on_the_loop_together_goes_as_one_pipeline_in_order() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS)

    async def calls() -> list[Any]:
        freed = asyncio.get_running_loop().create_future()

        async def woken() -> Any:  # a call waiting for an entity a release lets go
            await freed
            return await pump.submit(
                [("evalsha", ("lease-c",))], reads=True, awaited=True
            ).awaitable

        waiter = asyncio.create_task(woken())
        await asyncio.sleep(0)
        freed.set_result(None)  # woken first (`DecisionService._unhold`), then the release
        release = pump.submit([("evalsha", ("release-a",))], awaited=True)
        lease = pump.submit([("evalsha", ("lease-b",))], reads=True, awaited=True)
        return [await release.awaitable, await lease.awaitable, await waiter]

    answers = asyncio.run(calls())
    assert pump.rounds == 1
    assert recorder.pipelines == [
        [("evalsha", ("release-a",)), ("evalsha", ("lease-b",)), ("evalsha", ("lease-c",)),
         *READS],
    ]  # fmt: skip
    # Each lease gets the round's reads after its own answers; a release only its own.
    assert answers == [["release-a"], ["lease-b", "epoch", "clock"], ["lease-c", "epoch", "clock"]]


def test_a_caller_without_a_loop_sends_at_once() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS)
    work = pump.submit([("evalsha", ("lease",))], reads=True)
    assert recorder.pipelines == [[("evalsha", ("lease",)), *READS]]
    assert work.wait() == ["lease", "epoch", "clock"]
    pump.submit([("evalsha", ("release",))], finish=lambda answers: len(answers))
    assert recorder.pipelines[-1] == [("evalsha", ("release",))]  # no lease: no reads
    assert pump.rounds == 2


def test_a_failure_reaches_every_call_of_its_round_and_a_finish_only_its_own() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS)

    def lost(answers: list[Any]) -> None:
        raise SharedStateUnavailable("a lease ran out before its decision was written")

    async def calls(fail: bool) -> list[BaseException | Any]:
        recorder.failure = (
            SharedStateUnavailable("Redis at 127.0.0.1:6379: refused") if fail else None
        )
        first = pump.submit([("evalsha", ("a",))], awaited=True, finish=lost)
        second = pump.submit([("evalsha", ("b",))], reads=True, awaited=True)
        return await asyncio.gather(first.awaitable, second.awaitable, return_exceptions=True)

    refused, answered = asyncio.run(calls(fail=True))
    assert isinstance(refused, SharedStateUnavailable) and "refused" in str(refused)
    assert isinstance(answered, SharedStateUnavailable) and "refused" in str(answered)
    lost_lease, answered = asyncio.run(calls(fail=False))
    assert isinstance(lost_lease, SharedStateUnavailable) and "ran out" in str(lost_lease)
    assert answered == ["b", "epoch", "clock"]


def test_a_fault_of_the_program_is_raised_once_every_call_is_told() -> None:
    recorder = Recorder()
    recorder.failure = TypeError("not a command")
    pump = Pump(recorder, READS)

    async def call() -> None:
        work = pump.submit([("evalsha", ("a",))], awaited=True)
        with pytest.raises(TypeError):
            pump.flush()
        with pytest.raises(TypeError):  # told, not left waiting
            await work.awaitable

    asyncio.run(call())


def test_a_round_left_on_a_closed_loop_does_not_hold_up_the_next_loop() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS)
    closing = asyncio.new_event_loop()
    # Queued on a loop that stops before the round it scheduled runs.
    closing.call_soon(lambda: pump.submit([("evalsha", ("left",))]))
    closing.call_soon(closing.stop)
    closing.run_forever()
    closing.close()
    assert recorder.pipelines == []

    async def call() -> Any:
        work = pump.submit([("evalsha", ("next",))], awaited=True)
        return await asyncio.wait_for(work.awaitable, 10)  # a guard, not a measure

    assert asyncio.run(call()) == ["next"]
    assert recorder.pipelines == [[("evalsha", ("left",)), ("evalsha", ("next",))]]


def test_lingering_work_goes_with_the_next_lease_or_alone_once_its_time_is_up() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS)

    async def calls() -> None:
        release = pump.submit([("evalsha", ("release-a",))], awaited=True, linger=True)
        await asyncio.sleep(0)
        assert pump.rounds == 0  # lingering: nothing else queued yet
        lease = pump.submit([("evalsha", ("lease-b",))], reads=True, awaited=True)
        await asyncio.gather(release.awaitable, lease.awaitable)
        assert pump.rounds == 1  # one round carried both
        alone = pump.submit([("evalsha", ("release-c",))], awaited=True, linger=True)
        await asyncio.wait_for(alone.awaitable, 1.0)  # its time up, it goes by itself

    asyncio.run(calls())
    assert recorder.pipelines == [
        [("evalsha", ("release-a",)), ("evalsha", ("lease-b",)), *READS],
        [("evalsha", ("release-c",))],
    ]


def test_lingering_work_goes_at_once_when_another_replica_wants_it() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS)

    async def call() -> float:
        loop = asyncio.get_running_loop()
        release = pump.submit([("evalsha", ("release-a",))], awaited=True, linger=True)
        started = loop.time()
        # Told from the listener's thread (`SharedState.listen`), not the loop's.
        await loop.run_in_executor(None, pump.hurry)
        await asyncio.wait_for(release.awaitable, 10)  # a guard, not a measure
        return loop.time() - started

    waited = asyncio.run(call())
    assert recorder.pipelines == [[("evalsha", ("release-a",))]]
    assert waited < LINGER_S  # sent on being told, not at the end of its lingering
    pump.hurry()  # nothing lingers, and the loop is gone: nothing to do
    assert pump.rounds == 1


def test_gathering_work_waits_its_time_for_company_and_goes_with_what_came() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS, gather_s=0.05)

    async def calls() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = pump.submit([("evalsha", ("lease-a",))], reads=True, awaited=True, gather=True)
        await asyncio.sleep(0.01)
        assert pump.rounds == 0  # gathering: waits for the replica's other calls
        second = pump.submit([("evalsha", ("lease-b",))], reads=True, awaited=True, gather=True)
        await asyncio.wait_for(asyncio.gather(first.awaitable, second.awaitable), 10)
        return loop.time() - started

    waited = asyncio.run(calls())
    assert recorder.pipelines == [[("evalsha", ("lease-a",)), ("evalsha", ("lease-b",)), *READS]]
    assert waited >= 0.05  # the first one's time, not restarted by the second


def test_work_that_does_not_gather_sends_the_gathering_work_with_it() -> None:
    recorder = Recorder()
    pump = Pump(recorder, READS, gather_s=10.0)

    async def calls() -> None:
        lease = pump.submit([("evalsha", ("lease-a",))], reads=True, awaited=True, gather=True)
        release = pump.submit([("evalsha", ("release-b",))], awaited=True)
        await asyncio.wait_for(asyncio.gather(lease.awaitable, release.awaitable), 1.0)

    asyncio.run(calls())
    assert recorder.pipelines == [[("evalsha", ("lease-a",)), ("evalsha", ("release-b",)), *READS]]
