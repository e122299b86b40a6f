"""The trace: victims' money followed forward through the index, movement by movement in time
order, amount-aware (docs/tracing.md).

Every account the money reaches keeps its holdings apart by origin: the money it held before
(clean) and each source's money. A movement out of a reached account carries a part of each,
by the rule: FIFO takes the oldest money first (what the account held before the victims'
money came is older, so it leaves first); PROPORTIONAL carries each origin's share of the
balance it leaves from, in whole fen rounded down (so traced money is never over-counted).
A payee that receives traced money is reached, one hop further; cash withdrawn and money paid
to an account the region's banks do not hold leave the chain (exits). Conservation: what a
reached account holds of a source plus what it passed on never exceeds what it received.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from fundwall.domain.errors import InvalidInput
from fundwall.tracing.holding import CLEAN, I64, Holding
from fundwall.tracing.index import NO_ACCOUNT, TransferIndex, from_us, to_us
from fundwall.tracing.model import (
    MAX_HOPS,
    MAX_STARTS,
    AttributionRule,
    ExitKind,
    Share,
    TracedAccount,
    TracedTransfer,
    TraceResult,
    TraceStart,
)

REPORT_TIME_SLACK: Final = timedelta(hours=6)
"""How far a victim's remembered time may be from the payment's booked time."""
REPORT_AMOUNT_SLACK: Final = 0.2
"""How far a victim's remembered amount may be from the payment's, as a share of it."""
TIME_SLACK_US: Final = int(REPORT_TIME_SLACK.total_seconds() * 1_000_000)


def trace(
    index: TransferIndex,
    starts: list[TraceStart] | tuple[TraceStart, ...],
    rule: AttributionRule,
    *,
    as_of: datetime,
    max_hops: int = MAX_HOPS,
) -> TraceResult:
    """Follow `starts` forward through `index` up to `as_of`, `max_hops` accounts deep."""
    rule = AttributionRule(rule)
    _check(starts, max_hops)
    walk = _Walk(index, rule, max_hops, to_us(as_of))
    for start in sorted(starts, key=lambda s: (s.at, s.source, s.account_no)):
        walk.start(start)
    walk.run()
    return TraceResult(rule, tuple(starts), as_of, walk.accounts(), tuple(walk.transfers))


def _check(starts: list[TraceStart] | tuple[TraceStart, ...], max_hops: int) -> None:
    if not starts:
        raise InvalidInput("a trace starts from at least one victim's payment", "starts")
    if len(starts) > MAX_STARTS:
        raise InvalidInput(f"at most {MAX_STARTS} victims' payments in one trace", "starts")
    if not 1 <= max_hops <= MAX_HOPS:
        raise InvalidInput(f"from 1 to {MAX_HOPS} hops", "max_hops")
    for i, start in enumerate(starts):
        if type(start.amount_fen) is not int or start.amount_fen <= 0:
            raise InvalidInput("a whole, positive number of fen", f"starts[{i}].amount_fen")
        if not start.source or start.source == CLEAN:
            raise InvalidInput("name the victim or report", f"starts[{i}].source")
        if start.at.utcoffset() is None:
            raise InvalidInput("time has no UTC offset", f"starts[{i}].at")


BUSY: Final = 1_000
"""A reached account with more movements than this is walked by runs of quiet movements
(`fundwall.tracing.holding`), one with fewer movement by movement."""
_FIRST_WINDOW: Final = 256
"""Movements of a busy account looked at first for a run of quiet ones (doubled while all are)."""


@dataclass
class _Plan:
    """Where a busy account's walk is: every movement up to `synced` is in its holding; the
    heap holds its next movement that is not quiet (or a wake-up at the end of a window of
    quiet ones), valid while its `version` is the plan's."""

    synced: tuple[int, int]
    version: int = 0
    window: int = _FIRST_WINDOW


class _Walk:
    """One trace's state: the reached accounts' holdings and the movements still to take, in
    time order: a heap of (time, arrival, wake-up, account, version) keys. A reached account's
    cursor queues its next movement when one is taken, so its later movements are never all
    queued at once; a busy one's plan (`_Plan`) queues only its next movement that may carry
    traced money, and the quiet ones before it are applied in one step when the walk meets the
    account again (`Holding.skip`). Quiet movements whose other party the walk meets are
    walked as any other."""

    def __init__(self, index: TransferIndex, rule: AttributionRule, hops: int, as_us: int):
        self.index, self.rule, self.max_hops, self.as_us = index, rule, hops, as_us
        # The columns as numpy arrays (`.item` gives a Python int fastest): the index does not
        # change during a trace.
        self.ts, self.amount = index.ts_us.values, index.amount_fen.values
        self.payer, self.payee = index.payer.values, index.payee.values
        self.holdings: dict[int, Holding] = {}
        self.pending: list[tuple[int, int, int, int, int]] = []
        self.cursors: dict[int, Iterator[int]] = {}
        self.plans: dict[int, _Plan] = {}
        self.reached: npt.NDArray[np.bool_] | None = None
        """Which accounts have a holding, once a busy account is planned."""
        self.taken: set[int] = set()
        self.injected: dict[int, dict[str, int]] = {}
        """Victims' payments met by the walk: what of each source they bring."""
        self.transfers: list[TracedTransfer] = []

    def start(self, start: TraceStart) -> None:
        """Put a victim's payment into its first-level account: the matching movement into it
        (by id, or by time and amount) carries the source's money when the walk meets it;
        without one, the money is put there at `at`."""
        index = self.index
        account = index.position.get(start.account_no)
        if account is None:
            return  # the first level is outside the region: nothing here to follow
        at_us = to_us(start.at)
        seq = self._victims_payment(account, start, at_us)
        if seq is None:
            self._reach(account, 1, (at_us, len(index))).put(
                self.rule, {start.source: start.amount_fen}, 0
            )
        else:
            self._reach(account, 1, (index.ts_us[seq], seq))
            # The booked amount, not the remembered one: the statement is exact.
            self.injected[seq] = {start.source: index.amount_fen[seq]}
            heapq.heappush(self.pending, (index.ts_us[seq], seq, 0, NO_ACCOUNT, 0))

    def run(self) -> None:
        for account in self.plans:
            self._plan(account)  # once every start has reached its account
        while self.pending:
            ts_us, seq, wake, account, version = heapq.heappop(self.pending)
            if ts_us > self.as_us:
                break
            plan = self.plans.get(account)
            if plan is not None:
                if version != plan.version:
                    continue  # planned before the walk met the account again
                if wake:
                    self._sync(account, (ts_us, seq + 1))
                    self._plan(account, grow=True)
                    continue
            elif account != NO_ACCOUNT:
                self._advance(account)
            if seq in self.taken:
                continue  # met again in the other party's movements
            self.taken.add(seq)
            self._move(ts_us, seq)

    def _move(self, ts_us: int, seq: int) -> None:
        """Take one movement: the busy parties brought up to it first, planned again after."""
        parties = {self.payer.item(seq), self.payee.item(seq)}
        if self.plans:
            for account in parties & self.plans.keys():
                self._sync(account, (ts_us, seq))
        self._take(ts_us, seq)
        if not self.plans:
            return
        for account in parties & self.plans.keys():
            plan = self.plans[account]
            plan.synced = max(plan.synced, (ts_us, seq))
            self._plan(account)

    def _take(self, ts_us: int, seq: int) -> None:
        payer, payee = self.payer.item(seq), self.payee.item(seq)
        amount = self.amount.item(seq)
        paying = self.holdings.get(payer) if payer != NO_ACCOUNT else None
        carried = paying.take(self.rule, amount) if paying is not None else {}
        if paying is not None and carried:
            self._record(seq, paying.hop, carried)
        if payee == NO_ACCOUNT:
            return
        parts = dict(carried)
        for source, fen in self.injected.pop(seq, {}).items():
            parts[source] = parts.get(source, 0) + fen
        traced = sum(parts.values())
        receiving = self.holdings.get(payee)
        if receiving is None and carried and paying is not None:
            if paying.hop >= self.max_hops:
                return
            receiving = self._reach(payee, paying.hop + 1, (ts_us, seq))
        if receiving is not None:
            receiving.put(self.rule, parts, max(amount - traced, 0))

    def accounts(self) -> tuple[TracedAccount, ...]:
        index, rule = self.index, self.rule
        found = []
        for account, holding in self.holdings.items():
            held = holding.held(rule)
            found.append(
                TracedAccount(
                    index.account_no[account],
                    index.bank[account],
                    holding.hop,
                    from_us(holding.reached_us),
                    _shares(holding.received),
                    _shares(held),
                )
            )
        found.sort(key=lambda a: (a.hop, a.reached_at, a.account_no))
        return tuple(found)

    def _reach(self, account: int, hop: int, key: tuple[int, int]) -> Holding:
        """The holding of `account`, reached at `key` (time, arrival): created with what it
        held before as clean money, and its later movements queued or planned."""
        holding = self.holdings.get(account)
        if holding is not None:
            return holding
        index = self.index
        holding = Holding(hop, key[0])
        before = max(index.balance_before(account, *key), 0)
        holding.put(self.rule, {}, before)
        self.holdings[account] = holding
        if self.reached is not None:
            self.reached[account] = True
        if index.movement_count(account) > BUSY:
            self.plans[account] = _Plan(key)  # planned once what it takes at `key` is in
            return holding
        self.cursors[account] = index.events_after(account, *key)
        self._advance(account)
        return holding

    def _advance(self, account: int) -> None:
        """Queue the next movement of `account` up to the trace's moment."""
        seq = next(self.cursors[account], None)
        if seq is None or self.ts.item(seq) > self.as_us:
            del self.cursors[account]
            return
        heapq.heappush(self.pending, (self.ts.item(seq), seq, 0, account, 0))

    def _plan(self, account: int, *, grow: bool = False) -> None:
        """Queue the first movement of a busy account after where it is synced that may
        carry traced money; or, when a whole window of them is quiet, a wake-up at its end."""
        plan, index = self.plans[account], self.index
        plan.version += 1
        plan.window = plan.window * 2 if grow else _FIRST_WINDOW
        seqs = index.span(account, plan.synced, (self.as_us + 1, -1), plan.window)
        if not len(seqs):
            return
        quiet = self.holdings[account].quiet(self.rule, *self._flows(account, seqs))
        # A movement with another reached account is walked as any other: the other's
        # holding may take part in it (a start can reach an account ahead of the walk).
        payer, payee = index.payer.values[seqs], index.payee.values[seqs]
        other = np.where(payer == account, payee, payer)
        met = np.flatnonzero(self._reached_mask()[other] & (other != NO_ACCOUNT))
        quiet = min(quiet, int(met[0])) if len(met) else quiet
        seq, wake = (int(seqs[quiet]), 0) if quiet < len(seqs) else (int(seqs[-1]), 1)
        heapq.heappush(self.pending, (index.ts_us[seq], seq, wake, account, plan.version))

    def _reached_mask(self) -> npt.NDArray[np.bool_]:
        if self.reached is None:
            self.reached = np.zeros(self.index.accounts, dtype=np.bool_)
            self.reached[list(self.holdings)] = True
        return self.reached

    def _sync(self, account: int, before: tuple[int, int]) -> None:
        """Apply the quiet movements of a busy account up to `before`."""
        plan = self.plans[account]
        if plan.synced >= before:
            return
        seqs = self.index.span(account, plan.synced, before)
        if len(seqs):
            self.holdings[account].skip(self.rule, *self._flows(account, seqs))
        plan.synced = (before[0], before[1] - 1)

    def _flows(self, account: int, seqs: I64) -> tuple[I64, I64]:
        """What each of the movements `seqs` took out of `account`, and brought in."""
        index = self.index
        amount = index.amount_fen.values[seqs]
        out = np.where(index.payer.values[seqs] == account, amount, 0)
        into = np.where(index.payee.values[seqs] == account, amount, 0)
        return out, into

    def _victims_payment(self, account: int, start: TraceStart, at_us: int) -> int | None:
        """The movement into `account` that is the victim's payment: by its id when given,
        else the inflow closest to what the victim told (a report's time and amount are
        remembered, not read off a statement) within `REPORT_TIME_SLACK` and
        `REPORT_AMOUNT_SLACK`, not taken by another start."""
        index = self.index
        if start.tx_id is not None:
            return index.find_paid_into(account, start.tx_id)
        best: tuple[float, int] | None = None
        for seq in index.events_after(account, at_us - TIME_SLACK_US, -1):
            ts_us = self.ts.item(seq)
            if ts_us > at_us + TIME_SLACK_US:
                break
            off_us = abs(ts_us - at_us)
            if self.payee.item(seq) != account or seq in self.injected:
                continue
            off_fen = abs(self.amount.item(seq) - start.amount_fen) / start.amount_fen
            if off_fen > REPORT_AMOUNT_SLACK:
                continue
            distance = off_us / TIME_SLACK_US + off_fen / REPORT_AMOUNT_SLACK
            if best is None or distance < best[0]:
                best = (distance, seq)
        return best[1] if best is not None else None

    def _record(self, seq: int, hop: int, carried: dict[str, int]) -> None:
        movement = self.index.movement(seq)
        exit_kind = None
        if movement.payee == NO_ACCOUNT:
            exit_kind = ExitKind.CASH if movement.payee_account is None else ExitKind.OUTSIDE
        elif hop >= self.max_hops and movement.payee not in self.holdings:
            exit_kind = ExitKind.BEYOND
        self.transfers.append(
            TracedTransfer(
                movement.tx_id,
                from_us(movement.ts_us),
                self.index.account_no[movement.payer],
                movement.payee_account,
                movement.payee_bank,
                movement.amount_fen,
                hop,
                _shares(carried),
                exit_kind,
            )
        )


def _shares(parts: dict[str, int]) -> tuple[Share, ...]:
    return tuple(Share(source, fen) for source, fen in sorted(parts.items()) if fen > 0)
