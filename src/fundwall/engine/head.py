"""The audit head and the calls' ids read once for all the calls waiting, the event loop free
meanwhile (for PostgreSQL).

Before each call the decision service asks the store for the audit head, whether anything the
engine enforces changed, and which of the call's transaction ids the log holds already
(`DecisionLog.watch`). On SQLite that read takes about fifteen microseconds and is made on the
spot (shared as below, it cost more than it saved: docs/benchmarks.md, "The durable path: a
read begins on the next turn"). On PostgreSQL it is a round trip to the server, a fifth of a
millisecond on a busy machine, which on the event loop would block every other request for as
long: the server's routes instead await `SharedHead.after_now`, and the loop awaits the read
(`DecisionLog.watch_on_loop`, which sends it on an asynchronous connection) while it serves
the other requests.

What a call needs is a read begun after it arrived, so that a change committed before then is
seen by it, and of its own ids. A read begins on the loop's turn after the first call that
asks for it (its task's first step): every call that asks before then, which includes the
requests the loop reads in the same turn, adds its ids to it. A call arriving once a read has
begun adds its ids to the next read, which begins as soon as that one ends and serves every
call that arrived meanwhile. Under load one read thus serves many calls, each of which still
sees every change committed before it arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import Any

from fundwall.engine.decision_log import Watch


class SharedHead:
    """Reads of `read` (a coroutine function of the ids to look up) shared by the calls that
    wait for one; use from one event loop at a time."""

    def __init__(self, read: Callable[[Collection[str]], Coroutine[Any, Any, Watch]]) -> None:
        self._read = read
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading: asyncio.Future[Watch] | None = None
        self._reading_ids: set[str] = set()
        """The ids of the read that has not begun yet (it takes them as it begins)."""
        self._begun = True
        self._queued: asyncio.Future[Watch] | None = None
        self._queued_ids: set[str] = set()
        self._task: asyncio.Task[Watch] | None = None

    async def after_now(self, tx_ids: Iterable[str]) -> Watch:
        """A read begun after this call began, of `tx_ids` among others."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop: the old one's futures are of no use here
            self._loop, self._reading, self._queued = loop, None, None
            self._queued_ids = set()
        if self._reading is None:
            target: asyncio.Future[Watch] = loop.create_future()
            self._begin(loop, target, set(tx_ids))
        elif not self._begun:  # the read has not begun: it reads this call's ids too
            self._reading_ids.update(tx_ids)
            target = self._reading
        else:
            if self._queued is None:
                self._queued = loop.create_future()
            self._queued_ids.update(tx_ids)
            target = self._queued
        # Shielded: a caller that goes away does not take the read from the others.
        return await asyncio.shield(target)

    def _begin(
        self, loop: asyncio.AbstractEventLoop, target: asyncio.Future[Watch], tx_ids: set[str]
    ) -> None:
        self._reading, self._reading_ids, self._begun = target, tx_ids, False
        # Kept: the loop holds only a weak reference to a task.
        work = self._task = loop.create_task(self._begin_read())

        def finished(work: asyncio.Future[Watch]) -> None:
            self._task = None
            if work.cancelled():  # the loop is closing: nobody waits any more
                target.cancel()
                return
            error = work.exception()
            if error is not None:
                target.set_exception(error)
            else:
                target.set_result(work.result())
            queued, self._queued = self._queued, None
            ids, self._queued_ids = self._queued_ids, set()
            self._reading = None
            if queued is not None:
                self._begin(loop, queued, ids)

        work.add_done_callback(finished)

    async def _begin_read(self) -> Watch:
        """The read, begun: of the ids of every call that asked until now."""
        self._begun = True
        tx_ids, self._reading_ids = self._reading_ids, set()
        return await self._read(tx_ids)
