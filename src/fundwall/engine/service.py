"""The decision service (决策服务): the online path, what the API and `fundwall decide` call.

    service = platform.decision_service()              # over the store (fundwall.bootstrap)
    service = DecisionService.from_region(folder)      # in memory, for replay-like use
    decision = service.decide(tx)
    decisions = service.decide_batch(txs, member="301")   # a member's own transactions only
    service.observe_logins(logins, member="301")          # its own accounts' login events

Per call: which of the call's transaction ids the log holds is read with the audit head
(`DecisionLog.watch`); with a `member`, admission (`fundwall.engine.admission`: the member's
own accounts, real banks, ids used once; the service is the admission's register), then
idempotency (a transaction id seen before gets its first decision back and is not counted
again: from the latest decisions in memory, else from the log, however old the id), then hard
controls, online features, the live pack and the shadow pack (`DecisionCore`). No logged id is
decided again, so no request makes the service rebuild its state. Over the store, each call
commits its transactions and decisions (a batch commits once) before answering, and starts by
checking whether anything the engine enforces changed (the audit head moved): new restrictions,
list entries and status changes are read, accounts that members reported (opened or changed)
join the directory, and a newly promoted or shadowed pack replaces the running one. The call's
transactions and decisions are committed by the log's one writer (`fundwall.engine.committer`:
group commit), together with those of the calls decided meanwhile; `decide` and `decide_batch`
return once they are committed, and the server's routes await `decide_durably`, so the event
loop decides the next calls during the commit. A restart folds the logged transactions in log
order (from the latest snapshot when there is one), so nothing answered is lost or counted
twice. If the store fails while writing, the state in memory may be ahead of the log; the
service then rebuilds it from the log before the next decision.

Login events (`observe_logins`: the accounts' logins with their face checks, which the login
features read) pass the same admission, are committed to `login_events` in one database
transaction, then folded; a restart folds them among the transactions by time.

Over the store, the service reads its clock once per call: that instant caps the time of every
transaction of the call (one stamped later is decided as of now, so no client's stamp moves the
engine's clock ahead of the service's) and is the decisions' `decided_at`, which a restart
folds with. The in-memory service has no clock and no cap: it decides a region's simulated
history on that history's own time, and a stamp far ahead moves its clock (its callers check
times before, or replay what they trust).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from fundwall.config import PolicySettings, get_settings
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.domain.devices import LoginEvent
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.institutions import InstitutionKind
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal, admit, admit_logins, login_changes, refusals
from fundwall.engine.committer import Committer, Write
from fundwall.engine.controls import ControlBook
from fundwall.engine.controls.batch import warm_up
from fundwall.engine.controls.book import PartyHasher, region_book
from fundwall.engine.controls.changes import (
    apply_changes,
    load_book,
    sharing_keys,
)
from fundwall.engine.core import DecisionCore, Instant, Outcome, event_of
from fundwall.engine.decision_log import DecisionLog, Logged, Watch
from fundwall.engine.features import AccountDirectory, entity_state, settle_gc
from fundwall.engine.features.entity_state import Entity
from fundwall.engine.head import SharedHead
from fundwall.engine.model_registry import ModelState, running_models
from fundwall.engine.models.artifact import Model, Target
from fundwall.engine.pump import Work
from fundwall.engine.registry import ensure_live, running_packs
from fundwall.engine.revisions import Revisions, latest_revisions
from fundwall.engine.rules import RulePack, default_pack
from fundwall.engine.shared import (
    Asking,
    Busy,
    EpochChanged,
    Lease,
    SharedState,
    SharedStateUnavailable,
    StateMissing,
)
from fundwall.ingest import MAX_ERRORS, InvalidRecords
from fundwall.region import read_table
from fundwall.store import UnitOfWork

Earlier = dict[str, tuple[Transaction, Decision | None]]
"""The first transaction and live decision (None: history without one) of logged ids."""
logger = logging.getLogger(__name__)
RECENT: Final = 50_000
"""Decisions kept in memory for quick repeats; older repeats are read from the log."""
BUSY_PAUSE_S: Final = 0.002
"""How long a call whose entities another replica's decision holds first waits before it
asks again; each further wait doubles, up to `BUSY_PAUSE_MAX_S` (a busy hot account would
otherwise cost every waiting call a Redis round trip every 2 ms)."""
BUSY_PAUSE_MAX_S: Final = 0.032
FREED_WAIT_S: Final = 0.05
"""How long a call waits to be told that the entity kept for it was let go before it asks
anyway (the holder stopped, or Redis's message was lost: its lease or the mark runs out)."""
COMPLETION_WAIT_S: Final = 0.2
"""The same, for a call whose lease the release will complete (`SharedState.ask`): it asks
again (and keeps the entity kept for it) only if not told by then."""
Pending = tuple[list[Decision], Write | None, Lease | None]
"""A call's answers, the write they wait for, and the entities it holds in the
replicas' shared state until that write is done (None: no replicas, or nothing held)."""


class _Again(Exception):
    """The call holds nothing in the shared state any more and asks for its entities again
    at once: the state was rebuilt, or this replica started anew, while it asked."""


class DecisionService:
    """Decides on transactions; implements `fundwall.api.DecisionServiceProtocol`."""

    def __init__(
        self,
        core: DecisionCore,
        log: DecisionLog | None = None,
        *,
        keyring: Keyring | None = None,
        keys_dir: Path | None = None,
        snapshot_every: int | None = None,
        account_holders: frozenset[str] = frozenset(),
        shared: SharedState | None = None,
    ) -> None:
        """Use `open` or `from_region`; this wires parts already built. `account_holders`
        are the codes of the region's banks and payment institutions; `keys_dir` holds the
        regional sharing keys' files; `shared`: the state of several replicas, in Redis
        (`fundwall.engine.shared`; it needs a log)."""
        self.core = core
        self.log = log
        self._shared = shared
        self._holding: dict[Entity, int] = {}
        """The entities this replica's calls hold in the shared state, until settled."""
        self._waiting: dict[Entity, list[asyncio.Future[None]]] = {}
        """Calls on the event loop waiting for an entity of `_holding` to be let go."""
        self._waiting_remote: dict[Entity, list[asyncio.Future[None]]] = {}
        """Calls on the event loop waiting for an entity another replica's call holds, woken
        by `_freed` alone: not when a call of this replica lets go of it, which is not the
        holder they wait for (woken, they would ask Redis again for nothing)."""
        self._account_holders = account_holders
        self._keyring = keyring
        self._keys_dir = keys_dir
        self._hasher: PartyHasher | None = None
        self._snapshot_every = snapshot_every
        self._lock = threading.RLock()
        self._recent: OrderedDict[str, tuple[Transaction, Decision, Write | None]] = OrderedDict()
        """The latest decisions, each with its write (None in memory): one
        still being written is never dropped, as the log cannot answer for it yet."""
        self._committer: Committer | None = None
        self._head: SharedHead | None = None
        self._logins: dict[str, LoginEvent] = {}
        """Every login of the in-memory service, by id (over a log, the log holds them)."""
        self._revision = 0
        self._stale = False
        self._digest = ""
        self._history = 0
        self._last_decision = 0
        self._since_snapshot = 0
        self.folded = 0
        """How many logged transactions the last start folded (after its snapshot, if any)."""
        self.published_s: float | None = None
        """How long this replica last took to rebuild the shared state from the log."""

    @classmethod
    def from_region(
        cls,
        folder: Path,
        *,
        pack: RulePack | None = None,
        shadow: RulePack | None = None,
        policy: PolicySettings | None = None,
        book: ControlBook | None = None,
        model: Model | None = None,
    ) -> DecisionService:
        """An in-memory service over a region folder's accounts and parties (no log: its
        memory of decisions lasts as long as the object), scoring with `model` when given."""
        directory = AccountDirectory.from_region(folder)
        if book is None:
            book = region_book(folder)
        policy = policy if policy is not None else get_settings().policy
        core = DecisionCore(directory, book, policy, pack or default_pack(), shadow, model)
        institutions = read_table(folder, "institutions").to_pylist()
        holders = frozenset(
            row["code"] for row in institutions if InstitutionKind(row["kind"]).holds_accounts
        )
        return cls(core, account_holders=holders)

    @classmethod
    def over(
        cls,
        log: DecisionLog,
        *,
        policy: PolicySettings | None = None,
        keyring: Keyring | None = None,
        keys_dir: Path | None = None,
        snapshot_every: int | None = None,
        shared: SharedState | None = None,
    ) -> DecisionService:
        """A service over an open decision log (`fundwall.bootstrap` opens one); without
        `keyring` holders' ages are unknown to the features, and without `keyring` and
        `keys_dir` (the sharing keys' files) the risk list's ID, credit code and phone
        entries match nobody. With `shared`, one of several replicas: the features' and
        controls' state lives in Redis (no snapshots: `snapshot_every` is ignored), and the
        first replica to find it missing rebuilds it from the log."""
        placeholder = DecisionCore(
            AccountDirectory.empty(),
            ControlBook(),
            policy if policy is not None else get_settings().policy,
            default_pack(),
        )
        service = cls(
            placeholder,
            log,
            keyring=keyring,
            keys_dir=keys_dir,
            snapshot_every=None if shared is not None else snapshot_every,
            shared=shared,
        )
        service._rebuild()
        if shared is not None:
            with service._lock:
                service._recover_shared(waiting=False)
            # From the start: a lease keeps a busy entity for its call in the same script
            # that finds it busy, and the release that lets it go tells at once.
            shared.listen(service._freed)
        return service

    def _rebuild(self) -> None:
        """Build the state from the store: packs, controls, directory, then the log."""
        log = self.log
        assert log is not None
        if self._committer is not None:
            self._committer.flush()  # what the state holds is in the log or failed
        revision = log.head()
        with UnitOfWork(log.database, clock=log.clock) as uow:
            live, shadow = ensure_live(uow)
            self._hasher = self._party_hasher(uow.session)
            book = load_book(uow.session, self._hasher)
            champion, trial = _running(uow.session)
        directory, digest = log.directory(self._keyring)
        self._account_holders = log.account_holders()
        self._digest = digest
        self._history = log.history_size()
        core = DecisionCore(directory, book, self.core.policy, live, shadow)
        core.set_model(champion, trial)
        if self._shared is None:
            core = self._folded(core)
        else:  # the state is in Redis: this replica holds none of it yet
            self._shared.versions.clear()
            self.folded = 0
        self.core = core
        self._recent.clear()
        self._revision = revision
        self._since_snapshot = self.folded
        self._stale = False
        if self._committer is None:
            self._committer = Committer(log, self._log_failed, inline=log.embedded)
        else:
            self._committer.reset()
        warm_up()  # the controls' batch pass, as `settle_gc` makes the features' ready
        settle_gc()

    def _folded(self, core: DecisionCore) -> DecisionCore:
        """`core` (fresh over the store's directory, controls, packs and models) with the log
        folded in, from the latest snapshot when it fits."""
        log = self.log
        assert log is not None
        snapshot = log.latest_snapshot()
        after: int | None = None
        logins_since: int | None = None
        self._last_decision = 0
        if (
            snapshot is not None
            and snapshot.directory_digest == self._digest
            and snapshot.history == self._history
        ):
            restored = _fresh(core)
            if _restores(restored, snapshot.state, log):
                core = restored
                after = self._last_decision = snapshot.last_decision_id
                logins_since = core.features.login_horizon()
        folded = 0
        for logged in log.history(after, logins_since=logins_since):
            if not isinstance(logged, Logged):
                core.observe_login(logged)
                continue
            until = None if logged.decided_at is None else Instant.of(logged.decided_at)
            core.fold(logged.event, logged.action, until)
            folded += 1
            if logged.decision_id is not None:
                self._last_decision = logged.decision_id
        self.folded = folded
        return core

    def _recover_shared(self, *, waiting: bool = True) -> None:
        """The shared state is missing (a new deployment, or Redis lost it): rebuild it from
        the log if no other replica is doing so; else, with `waiting`, the 503 of a state
        being rebuilt."""
        shared = self._shared
        assert shared is not None
        if shared.has_epoch():
            return
        if not shared.claim_rebuild():
            if waiting:
                raise SharedStateUnavailable("another replica is rebuilding it from the log")
            return
        started = time.perf_counter()
        core = self._folded(_fresh(self.core))
        shared.publish(core, entity_state.every_entity(core.features, core.controls))
        self.core = core
        self.published_s = time.perf_counter() - started
        warm_up()  # the controls' batch pass, as `settle_gc` makes the features' ready
        settle_gc()

    def _log_failed(self, error: BaseException) -> None:
        """The committer could not log decisions the state holds (its thread calls this)."""
        self._stale = True

    def _refresh(self, tx_ids: Collection[str] = (), watch: Watch | None = None) -> frozenset[str]:
        """Take in what changed in the store since the last call (see the module docstring);
        which of `tx_ids` (the call's) the log holds. `watch`: the head and those ids, read
        since the call arrived; else they are read now."""
        log = self.log
        if log is None:
            return frozenset()
        if self._stale:
            self._rebuild()
            watch = None
        if watch is None:
            watch = log.watch(tx_ids)
        if watch.head <= self._revision:
            return watch.logged
        since = self._revision
        with UnitOfWork(log.database, clock=log.clock) as uow:
            # Most audited changes concern nothing the engine reads: only the kinds that
            # changed are read (`fundwall.engine.revisions`).
            latest = latest_revisions(uow.session)
            if latest.share_keys <= since:
                self._take_in(uow.session, log, latest, since)
        if latest.share_keys > since:
            # A sharing key version came or went: every holder's shared hashes change.
            self._rebuild()
            return watch.logged
        self._revision = watch.head
        return watch.logged

    def _take_in(self, session: Session, log: DecisionLog, latest: Revisions, since: int) -> None:
        """Read the rows of the kinds `latest` says changed after revision `since`."""
        if latest.controls > since:
            apply_changes(session, self.core.book, since)
        if latest.accounts > since:
            for account, bound, keys in log.account_reports(since, self._keyring, self._hasher):
                self.core.report_account(account)
                self.core.book.party_keys[account.account_no] = keys
                if bound is not None:
                    self.core.book.bound[account.account_no] = bound
        if latest.packs > since:
            live, shadow = running_packs(session)
            if live is not None:
                self.core.set_packs(live, shadow)
        if latest.models > since:
            self.core.set_model(*_running(session))

    def _party_hasher(self, session: Session) -> PartyHasher | None:
        """What makes holders' list keys: the keyring and the accepted sharing keys."""
        if self._keyring is None:
            return None
        sharing = None if self._keys_dir is None else sharing_keys(session, self._keys_dir)
        return PartyHasher(self._keyring, sharing)

    def runs_timers(self) -> bool:
        """Whether this process runs the server's timers now (order expiry, score refresh,
        screening, the SMS outbox): always alone; of several replicas, the one holding the
        timers' lease in Redis (taken over when its holder stops renewing it)."""
        return self._shared is None or self._shared.leads_timers()

    def bank_of(self, account_no: str) -> str | None:
        """The bank holding an account in the engine's directory: for admission, and for how
        much of a decision the submitting member reads (`Decision.seen_by`)."""
        return self.core.directory.bank_of(account_no)

    def holds_accounts(self, code: str) -> bool:
        """Whether `code` is a bank or payment institution of the region."""
        return code in self._account_holders

    def _earlier(self, logged: frozenset[str]) -> Earlier:
        """The first transaction and decision of each id of `logged` (the call's ids the log
        held as it arrived) that is not among the recent decisions, read at once."""
        ids = [tx_id for tx_id in logged if tx_id not in self._recent]
        if not ids:
            return {}
        assert self.log is not None
        return self.log.firsts(ids)

    def _first_transaction(self, tx_id: str, earlier: Earlier) -> Transaction | None:
        """The transaction first decided under `tx_id`, None for a new id (`earlier`: the
        call's logged ids, `_earlier`; a decision since is among the recent ones)."""
        known = self._recent.get(tx_id)
        if known is not None:
            return known[0]
        logged = earlier.get(tx_id)
        return None if logged is None else logged[0]

    def _first(self, tx: Transaction, earlier: Earlier) -> Decision | None:
        """The first decision on `tx`'s id, None for a new id (`earlier`: as above)."""
        tx_id = tx.tx_id
        known = self._recent.get(tx_id)
        if known is not None:
            return known[1]
        logged = earlier.get(tx_id)
        if logged is None:
            return None
        if logged[1] is None:
            raise Conflict(
                f"transaction {tx_id} is in the history loaded without a decision; "
                "send new transactions with new ids"
            )
        return logged[1]

    def _remember(self, tx: Transaction, decision: Decision, durable: Write | None) -> None:
        """Keep `decision` for repeats."""
        recent = self._recent
        recent[decision.tx_id] = (tx, decision, durable)
        if self.log is None:
            return  # in memory, `_recent` keeps every decision
        while len(recent) > RECENT:
            writing = next(iter(recent.values()))[2]
            if writing is not None and not writing.done.done():
                break
            recent.popitem(last=False)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        """The decision on one transaction (its first decision if its id was seen), once
        logged."""
        return self._answered(lambda held: self._decide([tx], member, batch=False, held=held))[0]

    def _answered(self, call: Callable[[Lease | None], Pending]) -> list[Decision]:
        """The answers of `call` once logged (and, for a replica, written to the shared
        state); a replica asks again while another decision holds the call's entities, going
        on from those it kept (`call`'s argument)."""
        deadline: float | None = None
        held: Lease | None = None
        for attempt in itertools.count():
            try:
                answers, durable, lease = call(held)
                break
            except Busy as busy:
                held = busy.held
                deadline = self._busy_until(deadline, held)
                time.sleep(_pause(attempt, busy))
        try:
            self._wait(durable)
        except BaseException:
            self._settle(lease, written=False)
            raise
        released = self._settle(lease, written=True)
        if released is not None:
            released.wait()
        return answers

    async def _until_free(self, busy: Busy, deadline: float, attempt: int) -> None:
        """Wait until it is worth asking again: a call of this replica settles (`busy.local`);
        another replica's call lets go of the entity kept for this call (Redis tells, at most
        `FREED_WAIT_S` later it asks anyway), having completed the call's lease when it could
        (`COMPLETION_WAIT_S`; the call's next ask takes it without Redis); else a pause."""
        pause = _pause(attempt, busy)
        if not busy.local:
            held = busy.held
            awaited = None if held is None else held.awaited
            if held is None or awaited is None or self._shared is None or not pause:
                await asyncio.sleep(pause)
                return
            settled = asyncio.get_running_loop().create_future()
            waiters = self._waiting_remote.setdefault(awaited, [])
            waiters.append(settled)
            try:
                if held.granted is None:  # else told already (`SharedState._completed`)
                    await asyncio.wait_for(
                        settled, COMPLETION_WAIT_S if held.completing else FREED_WAIT_S
                    )
            except TimeoutError:
                pass  # not told (Redis away, or the holder stopped): ask anyway
            finally:
                if settled in waiters:
                    waiters.remove(settled)
                if not waiters and self._waiting_remote.get(awaited) is waiters:
                    del self._waiting_remote[awaited]
            return
        loop = asyncio.get_running_loop()
        settled = loop.create_future()
        assert busy.entity is not None
        self._waiting.setdefault(busy.entity, []).append(settled)
        if busy.entity not in self._holding:  # let go by another thread meanwhile
            return
        # Awaited as is (not through `wait_for`): woken by `_unhold`, the call asks again
        # before the pump sends the round that holds the release (`fundwall.engine.pump`).
        # At the deadline, the next ask gives up (`_busy_until`).
        timer = loop.call_later(max(deadline - time.monotonic(), 0.0), _resolve, settled)
        try:
            await settled
        finally:
            timer.cancel()

    def _freed(self, entity: Entity) -> None:
        """Wake the calls waiting for `entity`, another replica's call having let go of it
        (`SharedState.listen`, from its thread)."""
        for settled in list(self._waiting_remote.get(entity, ())):
            settled.get_loop().call_soon_threadsafe(_resolve, settled)

    def _busy_until(self, deadline: float | None, held: Lease | None) -> float:
        """When a call kept waiting for busy entities gives up (from its first wait on); on
        giving up, the entities it `held` are given back."""
        assert self._shared is not None
        now = time.monotonic()
        if deadline is None:
            return now + self._shared.wait_s
        if now >= deadline:
            self._settle(held, written=False)
            raise SharedStateUnavailable(
                f"the call's accounts stayed busy for {self._shared.wait_s:g} s"
            )
        return deadline

    def _wait(self, durable: Write | None) -> None:
        """Block until `durable` is committed: a write still queued for the event loop's
        commit (a repeat's first decision) is committed now, as this caller may be blocking
        that very loop."""
        if durable is None:
            return
        if not durable.done.done() and self._committer is not None:
            self._committer.flush()
        durable.done.result()

    async def decide_durably(
        self, txs: Sequence[Transaction], *, member: str | None = None, batch: bool = True
    ) -> list[Decision]:
        """`decide_batch` (`decide` of one transaction without `batch`) for a caller on an
        event loop: decided at once, answered once logged, the loop free meanwhile. Over
        PostgreSQL the audit head is read off the loop, once for the calls waiting
        (`fundwall.engine.head`)."""
        watch = None
        if self.log is not None and not self.log.embedded:
            if self._head is None:
                self._head = SharedHead(self.log.watch_on_loop)
            watch = await self._head.after_now(tx.tx_id for tx in txs)
        deadline: float | None = None
        held: Lease | None = None
        for attempt in itertools.count():
            # Asked again, the call keeps its watch: an id another replica logged since is
            # seen once the entities are held (`_take_txs`).
            try:
                with self._lock:
                    earlier, asking = self._prepare(
                        txs, member, batch=batch, watch=watch, held=held, awaited=True
                    )
                if asking is not None:
                    await self._asked(asking)
                answers, durable, lease = self._decided(txs, batch, earlier, asking, awaited=True)
                break
            except _Again:
                held = None
            except Busy as busy:
                held = busy.held
                deadline = self._busy_until(deadline, held)
                try:
                    await self._until_free(busy, deadline, attempt)
                except asyncio.CancelledError:
                    self._settle(held, written=False)
                    raise
        if durable is not None:
            try:
                await durable.landing()
            except asyncio.CancelledError:
                # Its caller went away; the write goes on: the entities are given back once
                # it is known whether the decisions are logged.
                loop = asyncio.get_running_loop()
                durable.done.add_done_callback(
                    lambda ended: loop.call_soon_threadsafe(self._settle_when_logged, lease, ended)
                )
                raise
            except BaseException:
                self._settle(lease, written=False)
                raise
        # Answered once logged: the log is the truth, and were this replica to stop before the
        # release goes, the next holder of the entities folds the call's intent from it. The
        # release lingers for another call's lease to share its round.
        released = self._settle(lease, written=True, awaited=True, linger=True)
        if released is not None:
            released.awaitable.add_done_callback(_released)
        return answers

    async def _asked(self, asking: Asking) -> None:
        """Wait for the pump to answer `asking` (an error is read from it by `_take`); were
        the call to go away meanwhile, what the lease takes is given back once answered."""
        try:
            await asyncio.wait((asking.work.awaitable,))
        except asyncio.CancelledError:
            asking.work.awaitable.add_done_callback(lambda _: self._forsake(asking))
            raise

    def _forsake(self, asking: Asking) -> None:
        """Give back what `asking` took and held before: its call went away before deciding."""
        assert self._shared is not None
        with self._lock:
            self._unhold(asking.todo)
            self._settle(asking.lease, written=False)
            if asking.work.done.exception() is None:
                self._shared.give_back(asking)

    def _settle_when_logged(self, lease: Lease | None, durable: Future[None]) -> None:
        self._settle(lease, written=durable.exception() is None)

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        """Why `member` may not have each transaction decided (None: it may), as of now."""
        with self._lock:
            earlier = self._earlier(self._refresh([tx.tx_id for tx in txs]))
            return refusals(member, txs, _CallRegister(self, earlier))

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        """One decision per transaction, in order; the batch is logged in one commit. With
        `member`, the batch is refused whole unless the member may have each decided (the
        refusal names the record by its index)."""
        return self._answered(lambda held: self._decide(txs, member, batch=True, held=held))

    def _decide(
        self,
        txs: Sequence[Transaction],
        member: str | None,
        *,
        batch: bool,
        held: Lease | None = None,
    ) -> Pending:
        """The answers, the write they wait for (None: nothing to wait for):
        this call's own, or for repeats the last write submitted, and the entities held in the
        shared state until it is done; for a caller that blocks (the lease too)."""
        with self._lock:
            while True:
                earlier, asking = self._prepare(txs, member, batch=batch, held=held)
                try:
                    return self._decided(txs, batch, earlier, asking, awaited=False)
                except _Again:
                    held = None

    def _prepare(
        self,
        txs: Sequence[Transaction],
        member: str | None,
        *,
        batch: bool,
        watch: Watch | None = None,
        held: Lease | None = None,
        awaited: bool = False,
    ) -> tuple[Earlier, Asking | None]:
        """A call up to its decisions: what changed taken in, the call's logged ids, its
        admission, and for a replica the lease of its entities, queued (`_ask_txs`). `watch`:
        the audit head and the call's logged ids, read since the call arrived (None: read
        them now)."""
        try:
            earlier = self._earlier(self._refresh([tx.tx_id for tx in txs], watch))
            if member is not None:
                admit(member, txs, _CallRegister(self, earlier), batch=batch)
            asking = None
            if self._shared is not None:
                asking = self._ask_txs(txs, earlier, held, awaited=awaited)
        except Busy:
            raise
        except BaseException:
            self._settle(held, written=False)
            raise
        return earlier, asking

    def _decided(
        self,
        txs: Sequence[Transaction],
        batch: bool,
        earlier: Earlier,
        asking: Asking | None,
        *,
        awaited: bool,
    ) -> Pending:
        """`_decide` from the call `_prepare`d, its lease answered."""
        with self._lock:
            lease = None
            if asking is not None:
                lease, earlier = self._take_txs(asking, earlier)
            until = None if self.log is None else Instant.of(self.log.clock.now())
            try:
                if batch:
                    answers, entries = self._decide_all(txs, until, earlier)
                else:
                    answers, entries = self._decide_each(txs, until, earlier)
            except BaseException:
                self._settle(lease, written=False)
                raise
            durable = None
            if entries and until is not None:  # over a log: `until` is when it decided
                durable = self._write(entries, until.ts, awaited=awaited)
            elif self._committer is not None:
                durable = self._committer.last
            for tx, outcome in entries:
                self._remember(tx, outcome.decision, durable)
            return answers, durable, lease

    def _ask_txs(
        self, txs: Sequence[Transaction], earlier: Earlier, held: Lease | None, *, awaited: bool
    ) -> Asking | None:
        """Queue the lease of the entities of the call's new transactions (`_ask`), going on
        from those an earlier try `held`; None when the call has no new transaction."""
        new = [tx for tx in txs if tx.tx_id not in self._recent and tx.tx_id not in earlier]
        if not new:
            self._settle(held, written=False)
            return None
        features = self.core.features
        intents: dict[Entity, list[str]] = {}
        for tx in new:
            for entity in features.entities_of(event_of(tx, tx.ts)):
                intents.setdefault(entity, []).append(tx.tx_id)
        return self._ask(intents, [tx.tx_id for tx in new], held, awaited=awaited)

    def _take_txs(self, asking: Asking, earlier: Earlier) -> tuple[Lease, Earlier]:
        """The lease `asking` took (`_take`); the call's logged ids again, if another replica
        may have decided one of them since the call arrived."""
        lease = self._take(asking)
        if lease.changed:  # another replica decided on these entities since: maybe these ids
            assert self.log is not None
            try:
                again = self.log.watch(asking.ids).logged
                if again:
                    earlier = {**earlier, **self._earlier(again)}
            except BaseException:
                self._settle(lease, written=False)
                raise
        return lease, earlier

    def _hold(self, intents: dict[Entity, list[str]], ids: list[str], held: Lease | None) -> Lease:
        """`_ask` and `_take`, for a caller that blocks."""
        while True:
            try:
                return self._take(self._ask(intents, ids, held, awaited=False))
            except _Again:
                held = None

    def _ask(
        self,
        intents: dict[Entity, list[str]],
        ids: list[str],
        held: Lease | None,
        *,
        awaited: bool,
    ) -> Asking:
        """Queue the lease of the entities of `intents` (each with the ids of the call's
        transactions or logins that touch it) for the call of `ids`, going on from `held`,
        with the pump's next round. `Busy` (keeping the entities held so far) while a call of
        this replica holds one or asks for it, seen here without asking Redis."""
        shared = self._shared
        assert shared is not None
        if held is not None and held.core is not self.core:  # this replica started anew
            self._settle(held, written=False)
            held = None
        kept = set() if held is None else set(held.entities)
        busy = next((e for e in sorted(intents) if e not in kept and e in self._holding), None)
        if busy is not None:
            raise Busy(local=True, held=held, entity=busy)
        asking = shared.ask(intents, ids, held, awaited=awaited)
        asking.core = self.core
        for entity in asking.todo:
            self._holding[entity] = self._holding.get(entity, 0) + 1
        return asking

    def _take(self, asking: Asking) -> Lease:
        """The lease `asking` took, this replica's copy of its entities brought up to date.
        `Busy` (keeping the entities held so far) while another replica's call holds one;
        `_Again` when the call holds nothing any more and asks again at once (the state was
        rebuilt meanwhile)."""
        shared = self._shared
        assert shared is not None
        lease, before = asking.lease, list(asking.lease.entities)
        try:
            _, loaded, complete = shared.taken(asking)
        except (EpochChanged, StateMissing, Busy) as lost:
            lease.settled = True  # given back by `taken`
            self._unhold([*before, *asking.todo])
            if isinstance(lost, Busy):  # a lease ran out while waiting
                raise Busy from None
            if isinstance(lost, EpochChanged):  # rebuilt: what this replica holds is old
                self.core = _fresh(self.core)
            else:
                self._recover_shared()
            raise _Again from None
        except BaseException:
            self._unhold(asking.todo)
            self._settle(lease, written=False)
            raise
        taken = set(lease.entities)
        self._unhold([entity for entity in asking.todo if entity not in taken])
        if asking.core is not self.core:  # started anew since the ask: its copies are gone
            lease.core = asking.core
            self._settle(lease, written=False)
            raise _Again
        core = lease.core = self.core
        try:
            for entity, data in loaded:
                entity_state.load(core.features, core.controls, entity, data)
            lease.changed = lease.changed or bool(loaded)
            if not complete:
                raise Busy(held=lease)
            core.set_clock(lease.clock)
            if lease.orphans:
                self._fold_orphans(lease)
        except Busy:
            raise
        except BaseException:
            self._settle(lease, written=False)
            raise
        return lease

    def _unhold(self, entities: list[Entity]) -> None:
        """This replica's calls no longer hold `entities` (once each); wake the calls waiting
        for one no call holds any more (only those: a hot account's waiters are not all
        woken by every other account's release)."""
        for entity in entities:
            left = self._holding.pop(entity) - 1
            if left:
                self._holding[entity] = left
                continue
            for settled in self._waiting.pop(entity, ()):
                # Woken before the pump's round: at once.
                if asyncio._get_running_loop() is settled.get_loop():
                    _resolve(settled)
                else:
                    settled.get_loop().call_soon_threadsafe(_resolve, settled)

    def _fold_orphans(self, lease: Lease) -> None:
        """Fold the transactions that a replica logged and then stopped before writing their
        entities (the leases' orphaned intents), each into the held entities whose intent
        names it; every other entity it touched is forgotten here, to be read again."""
        assert self.log is not None and self._shared is not None
        core = self.core
        features, controls = core.features, core.controls
        ids = list(dict.fromkeys(i for intent in lease.orphans.values() for i in intent))
        for login in self.log.logins_with_ids(ids).values():
            core.observe_login(login)  # a login's one entity is its account, which named it
        for logged in self.log.decided(ids):
            touched = features.entities_of(logged.event)
            named = {e for e, intent in lease.orphans.items() if logged.event.tx_id in intent}
            # What the replica's calls hold (this one's, and others' in flight) stays as is.
            kept = {
                e: entity_state.dump(features, controls, e)
                for e in touched
                if e in self._holding and e not in named
            }
            until = None if logged.decided_at is None else Instant.of(logged.decided_at)
            core.fold(logged.event, logged.action, until)
            for entity in touched:
                if entity in named:
                    continue
                entity_state.load(features, controls, entity, kept.get(entity))
                if entity not in kept:
                    self._shared.versions.pop(entity, None)

    def _settle(
        self, lease: Lease | None, *, written: bool, awaited: bool = False, linger: bool = False
    ) -> Work | None:
        """Give back the entities a call held, with the pump's next round: with their new
        state when its decisions are `written` to the log; else unchanged, and forgotten here
        (this replica's copy holds decisions the log does not). The pump's work, which fails
        when the lease was lost (`SharedState.release`); None when nothing was held.
        `awaited`, `linger`: as `Pump.submit`."""
        if lease is None or lease.settled:
            return None
        shared = self._shared
        assert shared is not None
        with self._lock:
            lease.settled = True
            # First: the calls of this replica waiting for these entities ask for them in the
            # round that gives them back.
            self._unhold(lease.entities)
            if not lease.entities and lease.awaited is None:
                return None
            # The core the call decided in: the service may have started a new one since.
            core = lease.core
            assert isinstance(core, DecisionCore)
            if not written:
                for entity in lease.entities:
                    entity_state.forget(core.features, core.controls, entity)
                return shared.release(lease, None, None, awaited=awaited)
            states = {e: entity_state.dump(core.features, core.controls, e) for e in lease.entities}
            clock = (
                None
                if core.clock_us is None or core.clock_ts is None
                else (core.clock_us, core.clock_ts)
            )
            released = shared.release(lease, states, clock, awaited=awaited, linger=linger)
            if core is not self.core:  # the current core does not hold these entities
                for entity in lease.entities:
                    shared.versions.pop(entity, None)
            return released

    def _decide_each(
        self, txs: Sequence[Transaction], until: Instant | None, earlier: Earlier
    ) -> tuple[list[Decision], list[tuple[Transaction, Outcome]]]:
        """The answers, one transaction after the other, and the transactions decided now."""
        answers: list[Decision] = []
        made: dict[str, Decision] = {}
        entries: list[tuple[Transaction, Outcome]] = []
        try:
            for tx in txs:
                first = made.get(tx.tx_id) or self._first(tx, earlier)
                if first is not None:
                    answers.append(first)
                    continue
                outcome = self.core.decide(tx, until)
                made[tx.tx_id] = outcome.decision
                entries.append((tx, outcome))
                answers.append(outcome.decision)
        except BaseException:
            # The transactions decided before the failure are in the state, not the log.
            self._abandon(entries)
            raise
        return answers, entries

    def _decide_all(
        self, txs: Sequence[Transaction], until: Instant | None, earlier: Earlier
    ) -> tuple[list[Decision], list[tuple[Transaction, Outcome]]]:
        """The answers of a batch and the transactions decided now: the ids seen before get
        their first decisions, the new ones are decided together (`DecisionCore.decide_many`,
        the same decisions as one by one), and an id repeated in the batch gets the decision
        made for its first occurrence."""
        fresh: list[Transaction] = []
        position: dict[str, int] = {}
        plan: list[Decision | int] = []
        for tx in txs:
            at = position.get(tx.tx_id)
            if at is None:
                first = self._first(tx, earlier)
                if first is not None:
                    plan.append(first)
                    continue
                at = position[tx.tx_id] = len(fresh)
                fresh.append(tx)
            plan.append(at)
        try:
            outcomes = self.core.decide_many(fresh, until)
        except BaseException:
            # Part of the batch may be folded into the state; over a log, rebuild from it.
            self._stale = self.log is not None or self._stale
            raise
        answers = [outcomes[step].decision if isinstance(step, int) else step for step in plan]
        return answers, list(zip(fresh, outcomes, strict=True))

    def observe_logins(self, logins: Sequence[LoginEvent], *, member: str | None = None) -> int:
        """Take in login events (any time order): with `member`, refused whole unless they are
        of the member's accounts and their ids are its own (`fundwall.engine.admission`); over
        the store, committed in one database transaction before they are folded. A login id
        sent again with the same content is taken once, with other content it is a Conflict.
        How many logins were new."""
        deadline: float | None = None
        held: Lease | None = None
        for attempt in itertools.count():
            try:
                return self._observe_logins(logins, member, held)
            except Busy as busy:
                held = busy.held
                deadline = self._busy_until(deadline, held)
                time.sleep(_pause(attempt, busy))
        raise AssertionError("unreachable")

    def _observe_logins(
        self, logins: Sequence[LoginEvent], member: str | None, held: Lease | None
    ) -> int:
        with self._lock:
            try:
                self._refresh()
                first = self._first_logins(logins)
                if member is not None:
                    admit_logins(member, logins, self, first)
                new = self._new_logins(logins, first)
                lease = None
                if new and self._shared is not None:
                    lease = self._lease_accounts(new, held)
                else:
                    self._settle(held, written=False)
            except Busy:
                raise
            except BaseException:
                self._settle(held, written=False)
                raise
            try:
                if new and self.log is not None:
                    self.log.append_logins(new)
            except BaseException:
                self._settle(lease, written=False)
                raise
            try:
                for login in new:
                    self.core.observe_login(login)
            except BaseException:
                if self.log is not None:  # logged, and not all of them folded
                    self._stale = True
                self._settle(lease, written=False)
                raise
            released = self._settle(lease, written=True)
            if released is not None:
                released.wait()
            if self.log is None:
                self._logins.update((login.event_id, login) for login in new)
            return len(new)

    def _lease_accounts(self, logins: Sequence[LoginEvent], held: Lease | None) -> Lease:
        """Hold the accounts of `logins` in the shared state (as `_lease` for transactions)."""
        intents: dict[Entity, list[str]] = {}
        for login in logins:
            account = (entity_state.EntityKind.ACCOUNT, login.account_no)
            intents.setdefault(account, []).append(login.event_id)
        return self._hold(intents, [login.event_id for login in logins], held)

    def _first_logins(self, logins: Sequence[LoginEvent]) -> dict[str, LoginEvent]:
        """The logins taken before under the ids of `logins`."""
        ids = {login.event_id for login in logins}
        if self.log is not None:
            return self.log.logins_with_ids(ids)
        return {i: self._logins[i] for i in ids if i in self._logins}

    def _new_logins(
        self, logins: Sequence[LoginEvent], first: dict[str, LoginEvent]
    ) -> list[LoginEvent]:
        """The logins not taken before (`first`: those taken before under their ids), each
        checked as the features will fold it: every bad one is named by its index
        (InvalidRecords); an id sent again with other content is a Conflict."""
        taken = dict(first)
        new: list[LoginEvent] = []
        errors: list[InvalidInput] = []
        for index, login in enumerate(logins):
            before = taken.setdefault(login.event_id, login)
            if before is not login:
                changed = login_changes(before, login)
                if changed is not None:
                    raise Conflict(f"record {index}, login_id: {changed}")
                continue
            try:
                if self.log is not None and self.bank_of(login.account_no) is None:
                    # The log keeps logins of the directory's accounts only.
                    raise InvalidInput("not an account of the account directory", "account_no")
                self.core.features.check_login(login)
            except InvalidInput as error:
                errors.append(error.at(index))
                continue
            new.append(login)
        if errors:
            raise InvalidRecords.of(errors[:MAX_ERRORS], more=len(errors) > MAX_ERRORS)
        return new

    def _abandon(self, entries: list[tuple[Transaction, Outcome]]) -> None:
        """A batch failed half way: over a log, rebuild from it before the next call; in
        memory, keep the decisions already folded so their repeats are not counted again."""
        if self.log is not None:
            self._stale = bool(entries) or self._stale
            return
        for tx, outcome in entries:
            self._remember(tx, outcome.decision, None)

    def _write(
        self, entries: list[tuple[Transaction, Outcome]], decided_at: datetime, *, awaited: bool
    ) -> Write:
        """Hand the decided transactions to the committer; their write, completed once
        committed."""
        assert self._committer is not None
        durable = self._committer.submit(
            [
                (tx, (o.decision,) if o.shadow is None else (o.decision, o.shadow))
                for tx, o in entries
            ],
            decided_at,
            awaited=awaited,
        )
        self._since_snapshot += len(entries)
        if self._snapshot_every is not None and self._since_snapshot >= self._snapshot_every:
            self._save_snapshot()
        return durable

    def snapshot(self) -> None:
        """Save the state, so a restart folds only what is logged after this point."""
        with self._lock:
            self._save_snapshot()

    def _save_snapshot(self) -> None:
        log = self.log
        if log is None or self._shared is not None:  # a replica holds part of the state
            return
        if self._committer is not None:
            self._committer.flush()
        if self._stale:  # the state holds what the log could not take: not a state to keep
            return
        # The service is the log's only writer, so the newest live decision is its own.
        self._last_decision = log.last_decision_id()
        log.save_snapshot(self.core.snapshot(), self._history, self._last_decision, self._digest)
        self._since_snapshot = 0

    @property
    def live_pack(self) -> RulePack:
        return self.core.live

    @property
    def shadow_pack(self) -> RulePack | None:
        return self.core.shadow

    def close(self) -> None:
        """Save the state when it holds transactions no snapshot has (so the next start folds
        nothing), then release the database connections."""
        if self.log is None:
            return
        with self._lock:
            if self._since_snapshot and not self._stale:
                self._save_snapshot()
            if self._committer is not None:
                self._committer.close()
        self.log.close()
        if self._shared is not None:
            # Releases lingering for a round that a stopped event loop will never send.
            self._shared.pump.flush()
            self._shared.close()


class _CallRegister:
    """Admission's register for one call: the service's directory and institutions, and the
    first content of the call's ids, read from the log only for the ids it held as the call
    arrived (`DecisionLog.watch`, `DecisionService._earlier`)."""

    __slots__ = ("_earlier", "_service")

    def __init__(self, service: DecisionService, earlier: Earlier) -> None:
        self._service, self._earlier = service, earlier

    def bank_of(self, account_no: str) -> str | None:
        return self._service.bank_of(account_no)

    def holds_accounts(self, code: str) -> bool:
        return self._service.holds_accounts(code)

    def first_transaction(self, tx_id: str) -> Transaction | None:
        return self._service._first_transaction(tx_id, self._earlier)


def _pause(attempt: int, busy: Busy) -> float:
    """How long the `attempt`-th wait for busy entities lasts (from 0): none when the call
    took the entity it waited for and has the rest to ask for; the shortest while the entity
    is kept for the call once let go (`SharedState`'s `_WAIT`), as it idles until the call
    asks again."""
    if busy.held is not None and busy.held.blocked is None:
        return 0.0
    if busy.held is not None and busy.held.awaited is not None:
        return BUSY_PAUSE_S
    return float(min(BUSY_PAUSE_S * 2 ** min(attempt, 8), BUSY_PAUSE_MAX_S))


def _released(done: asyncio.Future[object]) -> None:
    """The release of an answered call ended: a lease lost meanwhile had the shared state
    dropped (`SharedState.release`), which the replicas rebuild; the call's answer stands."""
    if not done.cancelled() and done.exception() is not None:
        logger.warning("an answered call's release failed: %s", done.exception())


def _resolve(settled: asyncio.Future[None]) -> None:
    if not settled.done():
        settled.set_result(None)


def _fresh(core: DecisionCore) -> DecisionCore:
    """A core with `core`'s directory, controls, policy, packs and models and no history."""
    fresh = DecisionCore(core.directory, core.book, core.policy, core.live, core.shadow)
    fresh.set_model(core.model, core.shadow_model)
    return fresh


def _restores(core: DecisionCore, state: bytes, log: DecisionLog) -> bool:
    """Whether `core` took the snapshot `state`, and the log holds no login older than the
    state's login horizon that the state has not folded (loaded after the snapshot): then the
    logins from the horizon on, with the tail of the log, complete it."""
    try:
        core.restore(state)
    except InvalidInput:  # a snapshot of another version of the state: fold the whole log
        return False
    features = core.features
    return log.logins_before(features.login_horizon()) == features.logins_dropped


def _running(session: Session) -> tuple[Model | None, Model | None]:
    """The transactions models the registry runs: the champion, which decides beside the
    rules, and the shadow model, tried in the shadow decision (each None when there is none)."""
    running = running_models(session, Target.TRANSACTIONS)
    return running.get(ModelState.CHAMPION), running.get(ModelState.SHADOW)
