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
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from fundwall.domain.errors import InvalidInput
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

CLEAN = ""
"""The origin of money an account held apart from the traced sources."""
REPORT_TIME_SLACK: Final = timedelta(hours=6)
"""How far a victim's remembered time may be from the payment's booked time."""
REPORT_AMOUNT_SLACK: Final = 0.2
"""How far a victim's remembered amount may be from the payment's, as a share of it."""
TIME_SLACK_US: Final = int(REPORT_TIME_SLACK.total_seconds() * 1_000_000)


@dataclass
class _Holding:
    """What one reached account holds, by origin, as the trace walks its movements."""

    hop: int
    reached_us: int
    lots: deque[list[int | str]] = field(default_factory=deque)
    """FIFO and LIFO: [origin, fen] in arrival order."""
    balance: int = 0
    """PROPORTIONAL: the whole balance (never below zero)."""
    traced: dict[str, int] = field(default_factory=dict)
    """PROPORTIONAL: each source's money in the balance."""
    received: dict[str, int] = field(default_factory=dict)

    def take(self, rule: AttributionRule, amount: int) -> dict[str, int]:
        """Remove `amount` and return what of each source it carries."""
        if rule is AttributionRule.PROPORTIONAL:
            return self._take_share(amount)
        return self._take_in_order(amount, newest=rule is AttributionRule.LIFO)

    def put(self, rule: AttributionRule, parts: dict[str, int], clean: int) -> None:
        """Add money: `parts` by source, and `clean` money of no traced origin."""
        for source, fen in parts.items():
            self.received[source] = self.received.get(source, 0) + fen
        if rule is not AttributionRule.PROPORTIONAL:
            if clean > 0:
                self.lots.append([CLEAN, clean])
            self.lots.extend([source, fen] for source, fen in parts.items() if fen > 0)
            return
        self.balance += clean + sum(parts.values())
        for source, fen in parts.items():
            self.traced[source] = self.traced.get(source, 0) + fen

    def held(self, rule: AttributionRule) -> dict[str, int]:
        if rule is AttributionRule.PROPORTIONAL:
            return {source: fen for source, fen in self.traced.items() if fen > 0}
        held: dict[str, int] = {}
        for origin, fen in self.lots:
            if origin != CLEAN:
                held[str(origin)] = held.get(str(origin), 0) + int(fen)
        return held

    def _take_in_order(self, amount: int, *, newest: bool) -> dict[str, int]:
        """Take lots from the oldest end (FIFO) or the newest (LIFO)."""
        carried: dict[str, int] = {}
        end = -1 if newest else 0
        while amount > 0 and self.lots:
            lot = self.lots[end]
            part = min(int(lot[1]), amount)
            if lot[0] != CLEAN:
                carried[str(lot[0])] = carried.get(str(lot[0]), 0) + part
            lot[1] = int(lot[1]) - part
            amount -= part
            if lot[1] == 0:
                if newest:
                    self.lots.pop()
                else:
                    self.lots.popleft()
        return carried

    def _take_share(self, amount: int) -> dict[str, int]:
        if self.balance <= 0:
            return {}
        leaving = min(amount, self.balance)
        carried = {
            source: fen * leaving // self.balance for source, fen in self.traced.items() if fen
        }
        for source, fen in carried.items():
            self.traced[source] -= fen
        self.balance -= leaving
        return {source: fen for source, fen in carried.items() if fen > 0}


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


class _Walk:
    """One trace's state: the reached accounts' holdings and the movements still to take, in
    time order: a heap of (time, arrival, account) keys holding the next movement of each
    reached account (its cursor moves on when that one is taken, so a busy account's later
    movements are read one by one, never queued all at once)."""

    def __init__(self, index: TransferIndex, rule: AttributionRule, hops: int, as_us: int):
        self.index, self.rule, self.max_hops, self.as_us = index, rule, hops, as_us
        self.holdings: dict[int, _Holding] = {}
        self.pending: list[tuple[int, int, int]] = []
        self.cursors: dict[int, Iterator[int]] = {}
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
            return
        self._reach(account, 1, (index.ts_us[seq], seq))
        # The booked amount, not the remembered one: the statement is exact.
        self.injected[seq] = {start.source: index.amount_fen[seq]}
        heapq.heappush(self.pending, (index.ts_us[seq], seq, NO_ACCOUNT))

    def run(self) -> None:
        index = self.index
        while self.pending:
            ts_us, seq, account = heapq.heappop(self.pending)
            if ts_us > self.as_us:
                break
            if account != NO_ACCOUNT:
                self._advance(account)
            if seq in self.taken:
                continue  # met again in the other party's movements
            self.taken.add(seq)
            payer, payee, amount = index.payer[seq], index.payee[seq], index.amount_fen[seq]
            paying = self.holdings.get(payer) if payer != NO_ACCOUNT else None
            carried = paying.take(self.rule, amount) if paying is not None else {}
            if paying is not None and carried:
                self._record(seq, paying.hop, carried)
            if payee == NO_ACCOUNT:
                continue
            parts = dict(carried)
            for source, fen in self.injected.pop(seq, {}).items():
                parts[source] = parts.get(source, 0) + fen
            traced = sum(parts.values())
            receiving = self.holdings.get(payee)
            if receiving is None and carried and paying is not None:
                if paying.hop >= self.max_hops:
                    continue
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

    def _reach(self, account: int, hop: int, key: tuple[int, int]) -> _Holding:
        """The holding of `account`, reached at `key` (time, arrival): created with what it
        held before as clean money, and its later movements queued."""
        holding = self.holdings.get(account)
        if holding is not None:
            return holding
        index = self.index
        holding = _Holding(hop, key[0])
        before = max(index.balance_before(account, *key), 0)
        holding.put(self.rule, {}, before)
        self.holdings[account] = holding
        self.cursors[account] = index.events_after(account, *key)
        self._advance(account)
        return holding

    def _advance(self, account: int) -> None:
        """Queue the next movement of `account` up to the trace's moment."""
        seq = next(self.cursors[account], None)
        if seq is None or self.index.ts_us[seq] > self.as_us:
            del self.cursors[account]
            return
        heapq.heappush(self.pending, (self.index.ts_us[seq], seq, account))

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
            if index.ts_us[seq] > at_us + TIME_SLACK_US:
                break
            off_us = abs(index.ts_us[seq] - at_us)
            if index.payee[seq] != account or seq in self.injected:
                continue
            off_fen = abs(index.amount_fen[seq] - start.amount_fen) / start.amount_fen
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
