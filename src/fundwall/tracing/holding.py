"""What one account the trace reached holds, by origin, under an attribution rule; and how
a run of its movements that carries none of the traced money is passed over in one step.

A movement out of the account is *quiet* when, under the rule, it carries none of the traced
money: FIFO, while what leaves is still the clean money older than the first traced lot; LIFO,
while it is still the clean money newer than the last traced lot; proportional, while each
source's share of it rounds down to no fen. A movement in is clean unless it comes from a
reached account whose payment carries traced money, and that payment is walked one by one.
So a run of quiet movements changes only the amount of clean money, which running sums give
at once (`Holding.quiet`, `Holding.skip`): a busy account (a merchant the money reached) is
not walked movement by movement. Where the account holds no traced money at all, the clean
balance follows the rule's floor at zero (Lindley's recursion: after steps x_1..x_n from T_0,
T_n = S_n + max(T_0, -min_k S_k)).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fundwall.tracing.model import AttributionRule

I64 = npt.NDArray[np.int64]
CLEAN = ""
"""The origin of money an account held apart from the traced sources."""


@dataclass
class Holding:
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

    def holds_traced(self, rule: AttributionRule) -> bool:
        if rule is AttributionRule.PROPORTIONAL:
            return any(fen > 0 for fen in self.traced.values())
        return any(origin != CLEAN for origin, _ in self.lots)

    def quiet(self, rule: AttributionRule, out: I64, into: I64) -> int:
        """How many of the next movements (what each took out of the account, what each
        brought in) are quiet, from the state now, if what comes in is clean."""
        if not self.holds_traced(rule):
            return len(out)
        if rule is AttributionRule.FIFO:
            return int(np.searchsorted(np.cumsum(out), self._clean_end(newest=False), "right"))
        # Each movement takes out first, then brings in (a payment to itself does both).
        after_out = np.cumsum(into - out) - into
        if rule is AttributionRule.LIFO:
            loud = np.flatnonzero(self._clean_end(newest=True) + after_out < 0)
        else:
            # Shares of fen * out // balance round to 0 while out <= (balance - 1) // fen.
            most = max(self.traced.values())
            before = self.balance + after_out + out
            loud = np.flatnonzero((out > 0) & (out > (before - 1) // most))
        return int(loud[0]) if len(loud) else len(out)

    def skip(self, rule: AttributionRule, out: I64, into: I64) -> None:
        """Apply quiet movements (see `quiet`) as walking them one by one would."""
        if not len(out):
            return
        gone, came = int(out.sum()), int(into.sum())
        if not self.holds_traced(rule):
            steps = np.empty(2 * len(out), dtype=np.int64)
            steps[0::2], steps[1::2] = -out, into
            sums = np.cumsum(steps)
            now = self.balance if rule is AttributionRule.PROPORTIONAL else self._clean_end()
            clean = int(sums[-1]) + max(now, -int(sums.min()))
            if rule is AttributionRule.PROPORTIONAL:
                self.balance = clean
            else:
                self.lots = deque([[CLEAN, clean]] if clean > 0 else [])
            return
        if rule is AttributionRule.PROPORTIONAL:
            self.balance += came - gone
            return
        newest = rule is AttributionRule.LIFO
        clean = self._clean_end(newest=newest)
        end = -1 if newest else 0
        while self.lots and self.lots[end][0] == CLEAN:
            del self.lots[end]
        if newest:
            clean += came - gone
        elif clean > gone:
            self.lots.appendleft([CLEAN, clean - gone])
        rest = clean if newest else came
        if rest > 0:
            self.lots.append([CLEAN, rest])

    def _clean_end(self, *, newest: bool = False) -> int:
        """The clean money at the oldest end of the lots (or the newest), up to the first
        traced lot: all of it when none is traced."""
        clean = 0
        for origin, fen in reversed(self.lots) if newest else self.lots:
            if origin != CLEAN:
                break
            clean += int(fen)
        return clean

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
