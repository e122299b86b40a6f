"""The audit head and the calls' ids read once for all the calls waiting, off the event loop
(for PostgreSQL).

Before each call the decision service asks the store for the audit head, whether anything the
engine enforces changed, and which of the call's transaction ids the log holds already
(`DecisionLog.watch`). On SQLite that read takes microseconds and is made on the spot. On
PostgreSQL it is a round trip to the server, a fifth of a millisecond on a busy machine, which
on the event loop would block every other request for as long: the server's routes instead
await `SharedHead.after_now`, and the read runs on a worker thread.

What a call needs is a read made after it arrived, so that a change committed before then is
seen by it, and of its own ids. A read started before the call does not qualify; so a call
arriving while a read is under way adds its ids to the next read, which starts as soon as that
one ends and serves every call that arrived meanwhile. Under load one round trip thus serves
many calls, each of which still sees every change committed before it arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable

from fundwall.engine.decision_log import Watch


class SharedHead:
    """Reads of `read` (a blocking function of the ids to look up) shared by the calls that
    wait for one; use from one event loop at a time."""

    def __init__(self, read: Callable[[Collection[str]], Watch]) -> None:
        self._read = read
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading: asyncio.Future[Watch] | None = None
        self._queued: asyncio.Future[Watch] | None = None
        self._queued_ids: set[str] = set()

    async def after_now(self, tx_ids: Iterable[str]) -> Watch:
        """A read begun after this call began, of `tx_ids` among others."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop: the old one's futures are of no use here
            self._loop, self._reading, self._queued = loop, None, None
            self._queued_ids = set()
        if self._reading is None:
            target: asyncio.Future[Watch] = loop.create_future()
            self._begin(loop, target, set(tx_ids))
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
        self._reading = target
        work = loop.run_in_executor(None, self._read, tx_ids)

        def finished(work: asyncio.Future[Watch]) -> None:
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
