"""The Redis pump of a replica: the Redis work of its concurrent calls sent as one pipeline per
round (docs/scale.md, "Round trips").

A replica's call needs Redis twice: to lease its entities and read their bytes before it
decides, and to write their new bytes and give the leases back once its decisions are logged
(`fundwall.engine.shared`). Sent on their own, that is two round trips a decision. The pump
queues both kinds of work instead and sends everything queued as one pipeline: the writes and
releases of the calls whose decisions were just logged, then the leases of the calls that just
arrived, then one read of the state's epoch and clock for all of them. Under load each round
carries both, so a decision costs one round trip that it shares with other calls. A call alone
in an idle server still sees two (nothing to share them with).

Order: a round's commands run in the order queued, so an entity one call gives back can be
leased by the next call in the same round (a hot account passes from call to call of this
replica at one round trip each), and rounds go out one at a time in the order taken.

When: on the event loop, a round is sent once the loop has run the callbacks ready when the
first work was queued: the calls woken by a release, and those whose commits completed
together, queue their work first and share the round. A release whose call is answered
already (nobody waits for it) lingers up to `LINGER_S` for a lease to go with, so a replica
whose calls come one after another still sends one round a decision; a call of the same
replica waiting for one of its entities does not wait for the round (the entity passes from
call to call within it), and another replica's call that finds one of them held tells this
replica, whose lingering work then goes at once (`hurry`). A lease asked while other calls of
the replica are under way gathers: it waits up to `gather_s` for theirs and the next
arrivals' (PostgreSQL's `commit_delay` with `commit_siblings`, for Redis rounds): the calls a
group commit answered together come back together, a few hundred microseconds apart, and
share one round instead of one each; a call alone goes at once. A caller that blocks
instead (no event loop, or one that waits on it) sends the round at once. The round runs on
the event loop, as the group committer does on SQLite: a pipeline to a Redis nearby takes a
fraction of a millisecond, less than a hop to another thread on a busy machine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final

from fundwall.domain.errors import FundwallError

LINGER_S: Final = 0.02
"""How long lingering work waits for other work to share its round: about ten decisions'
time between one replica's calls, far below a lease's; the work goes sooner when another
replica wants an entity it gives back (`Pump.hurry`)."""

Command = tuple[str, tuple[Any, ...]]
"""A pipeline's method and its arguments (`SharedState._send`)."""


@dataclass(eq=False, slots=True)
class Work:
    """Commands queued for the next round, and what becomes of their answers."""

    commands: Sequence[Command]
    reads: bool
    """Whether the call needs the round's reads (epoch and clock) after its answers."""
    finish: Callable[[list[Any]], Any] | None
    """What the answers mean (run as the round ends; it may raise a `FundwallError`); None:
    the answers."""
    done: asyncio.Future[Any] | Future[Any]
    loop: asyncio.AbstractEventLoop | None = None
    """The event loop of `done` when the caller awaits it; None when it blocks on it."""
    pump: Pump | None = field(default=None, repr=False)

    @property
    def awaitable(self) -> asyncio.Future[Any]:
        """`done` for a caller that awaits it (`Pump.submit` with `awaited`)."""
        assert isinstance(self.done, asyncio.Future)
        return self.done

    def wait(self) -> Any:
        """The outcome, for a caller that blocks: the round is sent now if it is not yet."""
        assert self.pump is not None
        if not self.done.done():
            self.pump.flush()
        return self.done.result()


class Pump:
    """Sends queued Redis work in rounds of one pipeline (see the module docstring):
    `send` sends commands as one pipeline and returns their answers; `reads` are the commands
    every round that leases ends with."""

    def __init__(
        self,
        send: Callable[[list[Command]], list[Any]],
        reads: Sequence[Command],
        gather_s: float = 0.0,
    ) -> None:
        self._send = send
        self.gather_s = gather_s
        """How long gathering work waits for other work to share its round (`submit`)."""
        self._reads = list(reads)
        self._queue: list[Work] = []
        self._queued = threading.Lock()
        self._order = threading.Lock()
        """Held while a round is sent and answered: rounds go out one at a time, in order."""
        self._soon: asyncio.AbstractEventLoop | None = None
        """The loop a round is scheduled on to go at once (one that closed before running it
        is no bar to scheduling the next on another)."""
        self._later: asyncio.AbstractEventLoop | None = None
        """The loop a round is scheduled on to go after `LINGER_S`."""
        self._later_timer: asyncio.TimerHandle | None = None
        self._gathering: asyncio.AbstractEventLoop | None = None
        """The loop a round is scheduled on to go after `gather_s`."""
        self.rounds = 0
        """Pipelines sent so far."""

    def submit(
        self,
        commands: Sequence[Command],
        *,
        reads: bool = False,
        awaited: bool = False,
        finish: Callable[[list[Any]], Any] | None = None,
        linger: bool = False,
        gather: bool = False,
    ) -> Work:
        """Queue `commands`; `awaited`: the caller awaits `done` on the running event loop
        (else it blocks on `Work.wait`). On an event loop the round goes once the loop has run
        what is ready, with `gather` after `gather_s`, or with `linger` after `LINGER_S`,
        unless other work sends it sooner; without one, at once."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if awaited:
            assert loop is not None, "an awaited call runs on an event loop"
            work = Work(commands, reads, finish, loop.create_future(), loop, self)
        else:
            work = Work(commands, reads, finish, Future(), None, self)
        soon = later = gathering = False
        gather = gather and self.gather_s > 0
        with self._queued:
            self._queue.append(work)
            if loop is not None and self._soon is not loop:
                if linger:
                    if self._later is not loop:
                        later, self._later = True, loop
                elif gather:
                    if self._gathering is not loop:
                        gathering, self._gathering = True, loop
                else:
                    soon, self._soon = True, loop
        if loop is None:
            self.flush()
        elif soon:
            loop.call_soon(self._flush_soon)
        elif gathering:
            loop.call_later(self.gather_s, self._flush_gathered)
        elif later:
            timer = loop.call_later(LINGER_S, self._flush_later)
            with self._queued:
                if self._later is loop:
                    self._later_timer = timer
        return work

    def _flush_soon(self) -> None:
        with self._queued:
            self._soon = None
        self.flush()

    def _flush_gathered(self) -> None:
        with self._queued:
            self._gathering = None
        self.flush()

    def _flush_later(self) -> None:
        with self._queued:
            self._later, self._later_timer = None, None
        self.flush()

    def hurry(self) -> None:
        """Send the lingering work now (from any thread): another replica waits for an
        entity whose release lingers here."""
        with self._queued:
            loop, timer = self._later, self._later_timer
        if loop is None:
            return
        try:
            if timer is not None:
                loop.call_soon_threadsafe(timer.cancel)
            loop.call_soon_threadsafe(self._flush_later)
        except RuntimeError:  # the loop closed: the calls of its work are gone
            return

    def answered(self, value: list[Any], *, awaited: bool = False) -> Work:
        """Work answered already, with `value`, without a round (a lease completed in Redis
        for a waiting call: `fundwall.engine.shared`); `awaited`: as `submit`."""
        if awaited:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[Any] | Future[Any] = loop.create_future()
            done.set_result(value)
            return Work((), True, None, done, loop, self)
        ready: Future[Any] = Future()
        ready.set_result(value)
        return Work((), True, None, ready, None, self)

    def flush(self) -> None:
        """Send everything queued as one round (nothing when the queue is empty)."""
        with self._order:
            with self._queued:
                round_, self._queue = self._queue, []
            if not round_:
                return
            commands = [command for work in round_ for command in work.commands]
            reading = any(work.reads for work in round_)
            if reading:
                commands += self._reads
            self.rounds += 1
            try:
                answers = self._send(commands)
            except BaseException as error:
                # Redis unreachable (`FundwallError`): each call of the round says so; anything
                # else is a fault of the program, raised too once no call waits for ever.
                for work in round_:
                    _complete(work, None, error)
                if not isinstance(error, FundwallError):
                    raise
                return
            read = answers[len(answers) - len(self._reads) :] if reading else []
            at = 0
            for work in round_:
                own = answers[at : at + len(work.commands)]
                at += len(work.commands)
                value = own + read if work.reads else own
                try:
                    _complete(work, value if work.finish is None else work.finish(value), None)
                except FundwallError as error:
                    _complete(work, None, error)


def _complete(work: Work, value: Any, error: BaseException | None) -> None:
    """Set `work.done`: at once from its own loop's thread or without a loop, else through
    its loop (an asyncio future is not thread-safe)."""
    done = work.done
    if isinstance(done, Future):
        if error is None:
            done.set_result(value)
        else:
            done.set_exception(error)
        return
    loop = work.loop
    assert loop is not None
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _set(done, value, error)
    elif not loop.is_closed():  # closed: its caller is gone (a release flushed at shutdown)
        loop.call_soon_threadsafe(_set, done, value, error)


def _set(done: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if done.done():  # cancelled: its caller stopped awaiting it
        return
    if error is None:
        done.set_result(value)
    else:
        done.set_exception(error)
