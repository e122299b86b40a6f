"""Group commit (成组提交) of the decision log: the decisions of concurrent calls written in one
small database transaction that they share, each call answered once its own is committed.

The decision service decides on the caller's thread (the server's event loop) and hands the
call's transactions and decisions to the committer (`submit`), which returns a future. The
writer takes everything waiting, writes it in one database transaction, commits, and
completes the futures; while it commits, the next calls are decided and queue up behind it.
So a commit, the costly part of a durable decision (a write to the disk or a round trip to
PostgreSQL), is paid once for all the calls that arrived meanwhile.

On PostgreSQL the writer is a thread of its own, so the event loop decides while the server
commits. On SQLite (`inline`) a small commit writes to the operating system's cache and costs
less than a hop to another thread on a busy machine, so the writer runs on the event loop: an
awaited call's commit waits until the loop has run what was ready (the requests already
read) and then one more turn (the requests read meanwhile), and all of them join the same
commit, whose cost is mostly the same for one call as for ten (the pages of the log's indexes
written at the end of each database transaction); a caller that blocks instead commits at
once, since it may be blocking that very loop. A group of at least `INLINE_ROWS`
transactions (a batch) is handed to the writer's thread instead, and so is every group that
comes while that thread writes: SQLite's driver lets go of the interpreter while it inserts
into the tables and their indexes, so the loop decides the next batch on the other core
meanwhile (a batch's rows go as one JSON statement a table, `DecisionLog._write_as_json`: the
thread takes the interpreter back twice, not once a row).

Order: writes are committed in the order submitted, so the log holds the decisions in the
order the engine made them (a restart folds them in that order). A call that only repeats
decisions waits for the last write submitted before it (`last`): a repeat's first decision
may still be on its way to the disk, and is never answered before it is there.

Failure: the engine's state already holds every transaction submitted. When a write fails
(the database is down, or another writer logged one of its transaction ids), the state is
ahead of the log: the failed write's future raises, so does every write submitted after it (their
decisions were made on that state), and `on_failure` tells the service, which waits for the
writer (`flush`), rebuilds its state from the log and `reset`s the committer. Nothing
acknowledged is lost: an answer goes out only after its commit, and a kill -9 loses only
writes whose callers had no answer yet.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

from fundwall.domain.decisions import Decision
from fundwall.domain.errors import Conflict
from fundwall.domain.transactions import Transaction
from fundwall.store.database import DatabaseUnavailableError

Entries = Sequence[tuple[Transaction, Sequence[Decision]]]
STOP_SECONDS: Final = 30.0
INLINE_ROWS: Final = 100
"""Inline, a group of at least this many transactions is written on the writer's thread: on
SQLite a hundred take several milliseconds to insert, against some tens of microseconds for
a hop to the thread, and the event loop would decide nothing meanwhile."""


class GroupLog(Protocol):
    """What the committer writes to (`fundwall.engine.decision_log.DecisionLog`)."""

    def append_group(self, writes: Sequence[tuple[Entries, datetime]]) -> None:
        """Write every write's transactions and decisions in one database transaction; raise
        `Conflict` when a transaction id of them is in the log already (nothing written)."""
        ...

    def logged_ids(self, tx_ids: Sequence[str]) -> set[str]:
        """Which of `tx_ids` the log holds."""
        ...

    @property
    def url(self) -> str:
        """The database's URL, for errors."""
        ...


@dataclass(slots=True)
class Write:
    """A call's transactions and decisions handed to the committer, and how their commit is
    told: `done` for any thread; `landed`, for a caller that awaits on an event loop, a future
    of that loop which the committer completes itself (on the loop's thread at once, from the
    writer's thread once a group), where wrapping `done` would cost the loop a future, two
    callbacks and a wake-up from another thread a call (about 30 µs of CPU)."""

    entries: Entries
    decided_at: datetime
    done: Future[None] = field(default_factory=Future)
    landed: asyncio.Future[None] | None = None

    def landing(self) -> asyncio.Future[None]:
        """What a caller on an event loop awaits."""
        return self.landed if self.landed is not None else asyncio.wrap_future(self.done)


class Committer:
    """The decision log's one writer; see the module docstring."""

    def __init__(
        self, log: GroupLog, on_failure: Callable[[BaseException], None], *, inline: bool = False
    ) -> None:
        self._log = log
        self._inline = inline
        self._order = threading.Lock()
        """Held while a group is taken and committed: groups land in the order taken."""
        self._scheduled = False
        self._lingered = False
        """Inline: the scheduled commit has waited its one more turn of the loop."""
        self._on_failure = on_failure
        state = threading.Lock()
        self._changed = threading.Condition(state)
        """Notified when a write is committed or failed (`flush` waits for it)."""
        self._work = threading.Condition(state)
        """Notified when the writer's thread has work (`_for_thread`): inline, only then, so
        a small group on the loop wakes no thread."""
        self._waiting: list[Write] = []
        self._writing = False
        self._handed = False
        """Inline: what waits is for the writer's thread to commit."""
        self._failed: BaseException | None = None
        self._closed = False
        self._last: Write | None = None
        self.groups = 0
        """Database transactions committed so far (each holding one or more writes)."""
        self.writes = 0
        """Writes committed so far."""
        self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
        self._thread.start()

    def submit(self, entries: Entries, decided_at: datetime, *, awaited: bool = False) -> Write:
        """Queue a call's transactions with their decisions (made at `decided_at`); the
        write's futures complete once they are committed, or raise why they never will be.
        `awaited`: the caller awaits `Write.landing` on the running event loop (inline, the
        commit then waits for the requests already read); otherwise it blocks on `done`, and
        inline the commit is made at once (a caller blocking the loop would wait for ever)."""
        loop = asyncio._get_running_loop() if awaited else None
        write = Write(entries, decided_at, landed=None if loop is None else loop.create_future())
        # Running from the start, so it cannot be cancelled: the state holds its
        # transactions, which are logged whether or not the caller still waits.
        write.done.set_running_or_notify_cancel()
        with self._changed:
            if self._closed:
                raise RuntimeError("the decision log's writer is closed")
            if self._failed is not None:
                _fail([write], _not_logged(self._log.url))
            else:
                self._waiting.append(write)
                if not self._inline:
                    self._work.notify()
        self._last = write
        if self._inline:
            if awaited:
                self._schedule()
            else:
                self._drain()
        return write

    def _schedule(self) -> None:
        """Inline: commit once the event loop has run what is ready (the other requests
        already read), or at once for a caller without an event loop."""
        loop = asyncio._get_running_loop()
        if loop is None:
            self._drain()
            return
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._drain_scheduled)

    def _drain_scheduled(self) -> None:
        """Inline, on the event loop: commit what waits here after one more turn of the loop
        (over HTTP a group of single decisions then holds twice as many, and the server
        spends about a tenth less CPU a decision: docs/benchmarks.md, "The durable path: a
        commit waits one more turn"), or hand it to the writer's thread at once when
        it is large or that thread is writing (waiting for it would block the loop, and groups
        land in order)."""
        with self._changed:
            rows = sum(len(write.entries) for write in self._waiting)
            if self._writing or self._handed or rows >= INLINE_ROWS:
                self._scheduled = self._lingered = False
                self._handed = True
                self._work.notify()
                return
        if not self._lingered:
            self._lingered = True
            asyncio.get_running_loop().call_soon(self._drain_scheduled)
            return
        self._scheduled = self._lingered = False
        self._drain()

    @property
    def last(self) -> Write | None:
        """The last write submitted, None when that one is committed: what a call that only
        repeats decisions waits for."""
        last = self._last
        if last is not None and last.done.done() and last.done.exception() is None:
            return None
        return last

    def flush(self) -> None:
        """Wait until every write submitted is committed or failed."""
        if self._inline:
            self._drain()
            return
        with self._changed:
            self._changed.wait_for(lambda: not self._waiting and not self._writing)

    def reset(self) -> None:
        """After a failure, once the service rebuilt its state from the log: accept writes
        again."""
        self.flush()
        with self._changed:
            self._failed = None
        self._last = None

    def close(self) -> None:
        """Commit what is waiting, then stop the thread."""
        with self._changed:
            self._closed = True
            self._work.notify()
        self._thread.join(STOP_SECONDS)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._work.wait_for(self._for_thread)
                if not self._waiting:
                    return  # closed, nothing left
            self._drain()

    def _for_thread(self) -> bool:
        """Whether the writer's thread has something to do: commit what waits (inline, only
        what was handed to it), or, closed, what is left and then stop."""
        return (bool(self._waiting) and (self._handed or not self._inline)) or self._closed

    def _drain(self) -> None:
        """Commit everything waiting, as one group."""
        with self._order:
            with self._changed:
                group, self._waiting = self._waiting, []
                self._handed = False
                if not group:
                    return
                self._writing = True
            try:
                self._commit(group)
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()

    def _commit(self, group: list[Write]) -> None:
        failed = self._failed
        if failed is not None:  # failed by a write before these: none of them may land
            _fail(group, _not_logged(self._log.url))
            return
        try:
            self._log.append_group([(write.entries, write.decided_at) for write in group])
        except Conflict:
            self._commit_before_reused(group)
            return
        except Exception as error:  # noqa: BLE001 - the waiting calls raise it
            self._failure(group, 0, error)
            return
        self.groups += 1
        self.writes += len(group)
        _land(group, None)

    def _commit_before_reused(self, group: list[Write]) -> None:
        """A transaction id of the group is in the log already: another writer logged it
        after the service read which of the call's ids the log held (`DecisionLog.watch`).
        The writes before the first such one are committed; it fails as a conflict, and every
        write after it as not logged (their decisions were made on a state holding it)."""
        logged = self._log.logged_ids([tx.tx_id for write in group for tx, _ in write.entries])
        first = next(
            i for i, write in enumerate(group) if any(tx.tx_id in logged for tx, _ in write.entries)
        )
        try:
            if first:
                self._log.append_group([(w.entries, w.decided_at) for w in group[:first]])
        except Exception as error:  # noqa: BLE001 - the waiting calls raise it
            self._failure(group, 0, error)
            return
        if first:
            self.groups += 1
            self.writes += first
            _land(group[:first], None)
        reused = next(tx.tx_id for tx, _ in group[first].entries if tx.tx_id in logged)
        self._failure(
            group,
            first,
            Conflict(
                f"transaction {reused} is in the log already (another process wrote it since "
                "this call arrived); nothing of this call was decided, the engine reloads its "
                "state from the log"
            ),
        )

    def _failure(self, group: list[Write], first: int, error: BaseException) -> None:
        """`group[first]` failed with `error`: it raises that, the rest of the group and every
        write after it are not logged, and the service hears of it."""
        with self._changed:
            self._failed = error
        _fail(group[first : first + 1], error)
        _fail(group[first + 1 :], _not_logged(self._log.url))
        self._on_failure(error)


def _not_logged(url: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        url, "an earlier decision could not be logged; the engine reloads its state from the log"
    )


def _fail(writes: Sequence[Write], error: BaseException) -> None:
    _land(writes, error)


def _land(writes: Sequence[Write], error: BaseException | None) -> None:
    """Complete `writes` (with `error`, or as committed): their `done`, then their `landed`
    futures, each on its loop: at once on the loop's own thread, else in one call of the
    loop for them all."""
    landed: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for write in writes:
        if error is None:
            write.done.set_result(None)
        else:
            write.done.set_exception(error)
        if write.landed is not None:
            landed.setdefault(write.landed.get_loop(), []).append(write.landed)
    here = asyncio._get_running_loop()
    for loop, futures in landed.items():
        if loop is here:
            _complete(futures, error)
        elif not loop.is_closed():  # closed: nobody awaits on it any more
            loop.call_soon_threadsafe(_complete, futures, error)


def _complete(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.cancelled():  # its caller went away; `done` tells the service
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
