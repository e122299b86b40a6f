"""Per-entity window state of the online form: one `Track` per (stream, entity).

A track keeps the entity's events of the last 30 days in compact arrays (no object per event,
so the garbage collector has nothing to walk) and, per window, the absolute index of the
oldest event still inside it, the running sum, a multiset of counterparts (distinct count)
and a monotonic deque of indices (max). Windows slide lazily: `advance(t)` evicts whatever
fell out before t, whenever the entity is read or written.
"""

from __future__ import annotations

from array import array
from collections import deque
from typing import Final

from fundwall.engine.features.catalog import WINDOWS, Measure

WINDOW_US: Final = tuple(window.micros for window in WINDOWS)
N_WINDOWS: Final = len(WINDOWS)
_COMPACT_AT: Final = 256
"""Drop events that left every window once at least this many have piled up."""

Snapshot = tuple[
    bytes, bytes, list[str | None], int, list[int], list[int], list[dict[str, int]] | None,
    list[list[int]] | None,
]  # fmt: skip


class Track:
    __slots__ = ("amount", "base", "cp", "distinct", "maxq", "sums", "tails", "ts")

    def __init__(self, distinct: bool, maximum: bool) -> None:
        self.ts = array("q")
        self.amount = array("q")
        self.cp: list[str | None] = []
        self.base = 0
        self.tails = [0] * N_WINDOWS
        self.sums = [0] * N_WINDOWS
        self.distinct: list[dict[str, int]] | None = [{} for _ in WINDOW_US] if distinct else None
        self.maxq: list[deque[int]] | None = [deque() for _ in WINDOW_US] if maximum else None

    def advance(self, t: int) -> None:
        """Evict events with ts < t - W from each window W."""
        ts = self.ts
        base = self.base
        end = base + len(ts)
        tails = self.tails
        for w in range(N_WINDOWS):
            tail = tails[w]
            bound = t - WINDOW_US[w]
            if tail == end or ts[tail - base] >= bound:
                continue
            amount = self.amount
            total = self.sums[w]
            counts = self.distinct[w] if self.distinct is not None else None
            while tail < end and ts[tail - base] < bound:
                total -= amount[tail - base]
                if counts is not None:
                    party = self.cp[tail - base]
                    if party is not None:
                        left = counts[party] - 1
                        if left:
                            counts[party] = left
                        else:
                            del counts[party]
                tail += 1
            tails[w] = tail
            self.sums[w] = total
            if self.maxq is not None:
                queue = self.maxq[w]
                while queue and queue[0] < tail:
                    queue.popleft()

    def add(self, t: int, amount: int, counterpart: str | None) -> None:
        """Append an event; call `advance(t)` first."""
        index = self.base + len(self.ts)
        self.ts.append(t)
        self.amount.append(amount)
        self.cp.append(counterpart)
        sums = self.sums
        for w in range(N_WINDOWS):
            sums[w] += amount
        if self.distinct is not None and counterpart is not None:
            for counts in self.distinct:
                counts[counterpart] = counts.get(counterpart, 0) + 1
        if self.maxq is not None:
            values = self.amount
            base = self.base
            for queue in self.maxq:
                while queue and values[queue[-1] - base] <= amount:
                    queue.pop()
                queue.append(index)
        stale = min(self.tails) - self.base
        if stale >= _COMPACT_AT and 2 * stale >= len(self.ts):
            del self.ts[:stale]
            del self.amount[:stale]
            del self.cp[:stale]
            self.base += stale

    def read(self, measure: Measure, out: list[int | float]) -> None:
        """Append the measure over every window to `out`."""
        if measure is Measure.COUNT:
            end = self.base + len(self.ts)
            out.extend([end - tail for tail in self.tails])
        elif measure is Measure.SUM:
            out.extend(self.sums)
        elif measure is Measure.DISTINCT:
            assert self.distinct is not None
            out.extend([len(counts) for counts in self.distinct])
        else:
            assert self.maxq is not None
            values = self.amount
            base = self.base
            out.extend([values[q[0] - base] if q else 0 for q in self.maxq])

    def dump(self) -> Snapshot:
        return (
            self.ts.tobytes(),
            self.amount.tobytes(),
            list(self.cp),
            self.base,
            list(self.tails),
            list(self.sums),
            [dict(counts) for counts in self.distinct] if self.distinct is not None else None,
            [list(queue) for queue in self.maxq] if self.maxq is not None else None,
        )

    @classmethod
    def load(cls, data: Snapshot) -> Track:
        ts, amount, cp, base, tails, sums, distinct, maxq = data
        track = cls(distinct is not None, maxq is not None)
        track.ts.frombytes(ts)
        track.amount.frombytes(amount)
        track.cp = list(cp)
        track.base = base
        track.tails = list(tails)
        track.sums = list(sums)
        if distinct is not None:
            track.distinct = [dict(counts) for counts in distinct]
        if maxq is not None:
            track.maxq = [deque(queue) for queue in maxq]
        return track
