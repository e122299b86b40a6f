"""The decision service (决策服务): the online path, what the API and `fundwall decide` call.

    service = DecisionService.open(settings)          # over the store: durable, restartable
    service = DecisionService.from_region(folder)      # in memory, for replay-like use
    decision = service.decide(tx)
    decisions = service.decide_batch(txs)

Per call: idempotency first (a transaction id seen before gets its first decision back and is
not counted again), then hard controls, online features, the live pack and the shadow pack
(`DecisionEngine`). Over the store, each call commits its transactions and decisions (a batch
commits once) before answering, and starts by checking whether anything the engine enforces
changed (the audit head moved): new restrictions, list entries and status changes are read,
and a newly promoted or shadowed pack replaces the running one. A restart folds the logged
transactions in log order (from the latest snapshot when there is one), so nothing answered is
lost or counted twice. If the store fails while writing, the state in memory may be ahead of
the log; the service then rebuilds it from the log before the next decision.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from fundwall.clock import Clock, SystemClock
from fundwall.config import PolicySettings, Settings, get_settings
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.domain.errors import Conflict
from fundwall.domain.transactions import Transaction
from fundwall.engine.controls import ControlBook
from fundwall.engine.controls.book import region_book
from fundwall.engine.controls.doors import apply_changes, load_book
from fundwall.engine.decider import DecisionEngine, Outcome
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.features import AccountDirectory, settle_gc
from fundwall.engine.registry import ensure_live, last_revision, running_packs
from fundwall.engine.rules import RulePack, default_pack
from fundwall.store import UnitOfWork, open_engine
from fundwall.store.migrate import require_current

RECENT: Final = 50_000
"""Decisions kept in memory for quick repeats; older repeats are read from the log."""


class DecisionService:
    """Decides on transactions; implements `fundwall.api.DecisionServiceProtocol`."""

    def __init__(
        self,
        engine: DecisionEngine,
        log: DecisionLog | None = None,
        *,
        keyring: Keyring | None = None,
        snapshot_every: int | None = None,
    ) -> None:
        """Use `open` or `from_region`; this wires parts already built."""
        self.engine = engine
        self.log = log
        self._keyring = keyring
        self._snapshot_every = snapshot_every
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._recent: OrderedDict[str, Decision] = OrderedDict()
        self._revision = 0
        self._stale = False
        self._digest = ""
        self._history = 0
        self._last_decision = 0
        self._since_snapshot = 0
        self.folded = 0
        """How many logged transactions the last start folded (after its snapshot, if any)."""

    @classmethod
    def from_region(
        cls,
        folder: Path,
        *,
        pack: RulePack | None = None,
        shadow: RulePack | None = None,
        policy: PolicySettings | None = None,
        book: ControlBook | None = None,
    ) -> DecisionService:
        """An in-memory service over a region folder's accounts and parties (no log: its
        memory of decisions lasts as long as the object)."""
        directory = AccountDirectory.from_region(folder)
        if book is None:
            book = region_book(folder)
        policy = policy if policy is not None else get_settings().policy
        engine = DecisionEngine(directory, book, policy, pack or default_pack(), shadow)
        return cls(engine)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        keyring: Keyring | None = None,
        snapshot_every: int | None = None,
    ) -> DecisionService:
        """A service over the store of `settings` (its schema must be current): packs from
        the registry, controls from the store, the state folded from the decision log.
        `snapshot_every` saves the state after that many decided transactions, so a restart
        folds only the tail."""
        settings = settings if settings is not None else get_settings()
        database = open_engine(settings.database_url)
        require_current(database)
        return cls.over(
            DecisionLog(database, clock or SystemClock()),
            policy=settings.policy,
            keyring=keyring if keyring is not None else Keyring.from_settings(settings),
            snapshot_every=snapshot_every,
        )

    @classmethod
    def over(
        cls,
        log: DecisionLog,
        *,
        policy: PolicySettings | None = None,
        keyring: Keyring | None = None,
        snapshot_every: int | None = None,
    ) -> DecisionService:
        """A service over an open decision log (see `open`); without `keyring` holders' ages
        are unknown to the features."""
        placeholder = DecisionEngine(
            AccountDirectory.empty(),
            ControlBook(),
            policy if policy is not None else get_settings().policy,
            default_pack(),
        )
        service = cls(placeholder, log, keyring=keyring, snapshot_every=snapshot_every)
        service._rebuild()
        return service

    def _rebuild(self) -> None:
        """Build the state from the store: packs, controls, directory, then the log."""
        log = self.log
        assert log is not None
        revision = log.head()
        with UnitOfWork(log.engine, clock=log.clock) as uow:
            live, shadow = ensure_live(uow)
            book = load_book(uow.session)
        directory, digest = log.directory(self._keyring)
        engine = DecisionEngine(directory, book, self.engine.policy, live, shadow)
        history = log.history_size()
        snapshot = log.latest_snapshot()
        after: int | None = None
        self._last_decision = 0
        if (
            snapshot is not None
            and snapshot.directory_digest == digest
            and snapshot.history == history
        ):
            engine.restore(snapshot.state)
            after = self._last_decision = snapshot.last_decision_id
        folded = 0
        for logged in log.history(after):
            engine.fold(logged.event, logged.action)
            folded += 1
            if logged.decision_id is not None:
                self._last_decision = logged.decision_id
        self.folded = folded
        self.engine = engine
        self._seen = log.tx_ids()
        self._recent.clear()
        self._revision = revision
        self._digest = digest
        self._history = history
        self._since_snapshot = folded
        self._stale = False
        settle_gc()

    def _refresh(self) -> None:
        """Take in what changed in the store since the last call (see the module docstring)."""
        log = self.log
        if log is None:
            return
        if self._stale:
            self._rebuild()
            return
        head = log.head()
        if head == self._revision:
            return
        with UnitOfWork(log.engine, clock=log.clock) as uow:
            apply_changes(uow.session, self.engine.book, self._revision)
            if last_revision(uow.session) > self._revision:
                live, shadow = running_packs(uow.session)
                if live is not None:
                    self.engine.set_packs(live, shadow)
        self._revision = head

    def _first(self, tx_id: str) -> Decision | None:
        known = self._recent.get(tx_id)
        if known is not None or tx_id not in self._seen or self.log is None:
            return known
        first = self.log.first_decision(tx_id)
        if first is None:
            raise Conflict(
                f"transaction {tx_id} is in the history loaded without a decision; "
                "send new transactions with new ids"
            )
        return first

    def _remember(self, decision: Decision) -> None:
        self._seen.add(decision.tx_id)
        self._recent[decision.tx_id] = decision
        if self.log is not None and len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    def decide(self, tx: Transaction) -> Decision:
        """The decision on one transaction (its first decision if its id was seen)."""
        return self.decide_batch([tx])[0]

    def decide_batch(self, txs: Sequence[Transaction]) -> list[Decision]:
        """One decision per transaction, in order; the batch is logged in one commit."""
        with self._lock:
            self._refresh()
            answers: list[Decision] = []
            made: dict[str, Decision] = {}
            entries: list[tuple[Transaction, Outcome]] = []
            try:
                for tx in txs:
                    first = made.get(tx.tx_id) or self._first(tx.tx_id)
                    if first is not None:
                        answers.append(first)
                        continue
                    outcome = self.engine.decide(tx)
                    made[tx.tx_id] = outcome.decision
                    entries.append((tx, outcome))
                    answers.append(outcome.decision)
            except BaseException:
                # The transactions decided before the failure are in the state, not the log.
                self._abandon(entries)
                raise
            if entries:
                self._write(entries)
            for _, outcome in entries:
                self._remember(outcome.decision)
            return answers

    def _abandon(self, entries: list[tuple[Transaction, Outcome]]) -> None:
        """A batch failed half way: over a log, rebuild from it before the next call; in
        memory, keep the decisions already folded so their repeats are not counted again."""
        if self.log is not None:
            self._stale = bool(entries) or self._stale
            return
        for _, outcome in entries:
            self._remember(outcome.decision)

    def _write(self, entries: list[tuple[Transaction, Outcome]]) -> None:
        if self.log is None:
            return
        try:
            self.log.append(
                [
                    (tx, (o.decision,) if o.shadow is None else (o.decision, o.shadow))
                    for tx, o in entries
                ]
            )
        except BaseException:
            # The state already holds these transactions and the log does not.
            self._stale = True
            raise
        self._since_snapshot += len(entries)
        if self._snapshot_every is not None and self._since_snapshot >= self._snapshot_every:
            self._save_snapshot()

    def snapshot(self) -> None:
        """Save the state, so a restart folds only what is logged after this point."""
        with self._lock:
            self._save_snapshot()

    def _save_snapshot(self) -> None:
        log = self.log
        if log is None:
            return
        # The service is the log's only writer, so the newest live decision is its own.
        self._last_decision = log.last_decision_id()
        log.save_snapshot(self.engine.snapshot(), self._history, self._last_decision, self._digest)
        self._since_snapshot = 0

    def bank_of(self, account_no: str) -> str | None:
        """The member holding an account per the account directory (None: unknown), which
        decides how much of a decision the submitting member reads (`Decision.seen_by`)."""
        return self.engine.directory.bank_of(account_no)

    @property
    def live_pack(self) -> RulePack:
        return self.engine.live

    @property
    def shadow_pack(self) -> RulePack | None:
        return self.engine.shadow

    def close(self) -> None:
        """Save the state when it holds transactions no snapshot has (so the next start folds
        nothing), then release the database connections."""
        if self.log is None:
            return
        with self._lock:
            if self._since_snapshot and not self._stale:
                self._save_snapshot()
        self.log.close()
