"""Per-entity window state of the online form: one `Track` per (stream, entity).

A track keeps the entity's recent events in compact arrays (no object per event, so the
garbage collector has nothing to walk, a snapshot copies them as they are and a batch
as a few blocks of memory: `tracks_bulk`): times, running totals of amounts (int64, as the
columnar kernels keep them; a window's sum is a difference of two totals), a byte per event
that says whether it is still the latest event with its counterpart (distinct counts), and the
stack of suffix maxima (a window's maximum is the first stack entry inside the window). Each
window is the index of its oldest event (its tail); `advance(t)` moves it with a binary search
and subtracts the latest-flags it passes from the window's distinct count. The expiry is the
earliest time any window loses an event, so a read of an entity that has not aged since its
last touch costs one comparison. The expiry, the tails and the distinct counts are one
`array('q')`, the track's head (`EXPIRY_AT`, `TAILS_AT`, `DIST_AT`): a batch writes a track's
windows back as one block.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from sys import intern
from typing import Final

from fundwall.engine.features.catalog import WINDOWS, Measure

WINDOW_US: Final = tuple(window.micros for window in WINDOWS)
SHORTEST_US: Final = min(WINDOW_US)
LONGEST: Final = WINDOW_US.index(max(WINDOW_US))
"""The index of the longest window, whose tail is the oldest."""
NO_EXPIRY: Final = 2**63 - 1
"""After any time (the largest int64, so snapshots store it as one)."""
EXPIRY_AT: Final = 0
TAILS_AT: Final = 1
DIST_AT: Final = TAILS_AT + len(WINDOW_US)
HEAD_SIZE: Final = DIST_AT + len(WINDOW_US)
"""Where a track's head holds its expiry, its tails and its distinct counts (one a window
each), and how many numbers it holds."""
_NEW_HEAD: Final = array("q", [NO_EXPIRY] + [0] * (HEAD_SIZE - 1)).tobytes()
"""The head of a new track, as bytes."""
_TAILS: Final = range(TAILS_AT, DIST_AT)
_WIDTHS: Final = tuple(zip(_TAILS, range(DIST_AT, HEAD_SIZE), WINDOW_US, strict=True))
"""Per window: where its tail and its distinct count are in the head, and its width."""
_LONGEST_AT: Final = TAILS_AT + LONGEST
_INT64_MIN: Final = -(2**63)
_WRAP_AT: Final = 2**63
_WRAP: Final = 2**64
"""Running totals are int64 and wrap round past the largest (two's complement), as the
compiled kernels' do: a difference of two totals, wrapped the same way, is the money between
them however often they wrapped, as long as it is below 2**63 fen (¥92 quadrillion); a
window holding more reads wrapped in every path alike. Without the wrap a member sending
thousands of the largest amounts to one account would stop every decision touching it."""
COMPACT_AT: Final = 16
"""Drop events that left every window once at least this many have piled up and they are at
least half the track: the work stays proportional to the events added, and a quiet entity
keeps at most this many old events (256 kept 1.4 KB of them per track for good, which a
30-minute soak showed as steady growth)."""


def kept(key: str | int) -> str | int:
    """A key as the feature state keeps it: a text interned, one object however many places
    keep it (`online`'s module doc says why), a code as it is."""
    return intern(key) if isinstance(key, str) else key


def _int64(value: int) -> int:
    """`value` wrapped into int64, as a compiled kernel's arithmetic wraps it."""
    return (value - _INT64_MIN) % _WRAP + _INT64_MIN


class Track:
    __slots__ = ("base", "cum", "flags", "head", "latest", "stack", "ts")

    def __init__(self, distinct: bool, maximum: bool) -> None:
        self.ts = array("q")
        self.cum = array("q", [0])
        self.base = 0
        self.head = array("q", _NEW_HEAD)
        self.flags: bytearray | None = bytearray() if distinct else None
        self.latest: dict[str, int] = {}
        self.stack: array[int] | None = array("q") if maximum else None

    def advance(self, t: int) -> None:
        """Drop events with ts < t - W from each window W."""
        head = self.head
        if t <= head[EXPIRY_AT]:
            return
        ts = self.ts
        base = self.base
        n = len(ts)
        flags = self.flags
        expiry = NO_EXPIRY
        for tail_at, dist_at, width in _WIDTHS:
            tail = head[tail_at] - base
            if tail == n:
                continue
            bound = t - width
            if ts[tail] < bound:
                old = tail
                tail = bisect_left(ts, bound, old, n)
                head[tail_at] = tail + base
                if flags is not None:
                    head[dist_at] -= flags.count(1, old, tail)
                if tail == n:
                    continue
            if ts[tail] + width < expiry:
                expiry = ts[tail] + width
        head[EXPIRY_AT] = expiry

    def add(self, t: int, amount: int, counterpart: str | None) -> None:
        """Append an event; call `advance(t)` first."""
        base = self.base
        head = self.head
        index = base + len(self.ts)
        self.ts.append(t)
        cum = self.cum
        # `_int64` inlined for the hot path: amounts are positive, so a total only wraps up.
        total = cum[-1] + amount
        cum.append(total if total < _WRAP_AT else total - _WRAP)
        if t + SHORTEST_US < head[EXPIRY_AT]:
            head[EXPIRY_AT] = t + SHORTEST_US
        flags = self.flags
        if flags is not None:
            if counterpart is None:
                flags.append(0)
            else:
                latest = self.latest
                previous = latest.get(counterpart, -1)
                # A counterpart new to the track is kept as the one object of its text.
                latest[counterpart if previous >= 0 else intern(counterpart)] = index
                flags.append(1)
                if previous >= base:
                    flags[previous - base] = 0
                for tail_at, dist_at, _ in _WIDTHS:
                    if previous < head[tail_at]:
                        head[dist_at] += 1
        stack = self.stack
        if stack is not None:
            while stack and _int64(cum[stack[-1] - base + 1] - cum[stack[-1] - base]) <= amount:
                stack.pop()
            stack.append(index)
        stale = head[_LONGEST_AT] - base
        if stale >= COMPACT_AT and 2 * stale >= len(self.ts):
            self._compact(stale)

    def _compact(self, stale: int) -> None:
        del self.ts[:stale]
        del self.cum[:stale]
        if self.flags is not None:
            del self.flags[:stale]
        self.base += stale
        if self.stack is not None:
            del self.stack[: bisect_left(self.stack, self.base)]
        # A counterpart last seen before every window reads the same as one never seen, so
        # forgetting it keeps the map to the counterparts of the longest window.
        base = self.base
        self.latest = {party: index for party, index in self.latest.items() if index >= base}

    def counts(self) -> list[int]:
        end = self.base + len(self.ts)
        head = self.head
        return [end - head[at] for at in _TAILS]

    def sums(self) -> list[int]:
        cum = self.cum
        base = self.base
        head = self.head
        total = cum[-1]
        # `_int64` inlined: sums are read on every decision.
        low = total - _INT64_MIN
        return [(low - cum[head[at] - base]) % _WRAP + _INT64_MIN for at in _TAILS]

    def maxima(self) -> list[int]:
        stack = self.stack
        assert stack is not None
        cum = self.cum
        base = self.base
        head = self.head
        out = []
        for at in _TAILS:
            i = bisect_left(stack, head[at])
            out.append(
                _int64(cum[stack[i] - base + 1] - cum[stack[i] - base]) if i < len(stack) else 0
            )
        return out

    def distincts(self) -> list[int]:
        return self.head[DIST_AT:].tolist()


READERS: Final[dict[Measure, Callable[[Track], list[int]]]] = {
    Measure.COUNT: Track.counts,
    Measure.SUM: Track.sums,
    Measure.MAX: Track.maxima,
    Measure.DISTINCT: Track.distincts,
}
"""How each measure is read from a track, over every window (in `WINDOWS` order)."""
