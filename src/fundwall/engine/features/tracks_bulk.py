"""A batch's window aggregates from the online state's tracks, by one compiled pass per
stream, leaving every track exactly as `Track.advance`, the readers and `Track.add` of one
transaction after another would.

Per stream, the tracks the batch touches (read or added to) are gathered end to end into flat
arrays, each followed by room for the events the batch adds to it: times, running totals,
latest-counterpart flags and the maxima stack, with each track's base and head (expiry, tails
and distinct counts) as a row of numbers. `_stream_pass` then walks the batch in time order
doing what the online state does per transaction (read each queried track's windows, then
advance the owner's and add the event), by the same steps: the same binary searches, expiries
and compaction points, so that what is written back is the one-by-one state, not an
equivalent one. A compaction inside the batch only moves the track's base; the events before
it are cut off when the track is written back (`_Gathered._compact`).

A counterpart's latest event (`Track.latest`) is looked up once per (owner, counterpart) pair
of the batch and carried by the pass; the online state forgets a pair at a compaction when its
latest event is before the new base, which reads the same as the old index (both are before
every window), so the pass keeps the index and the write-back forgets it as compaction would.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain, compress, repeat
from operator import attrgetter, is_, setitem
from sys import intern
from typing import Final, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

from fundwall.engine.features.catalog import (
    AGGREGATES,
    SINGLES,
    STREAMS,
    WINDOWS,
    Measure,
    aggregate_feature,
    feature_index,
    stream_measures,
)
from fundwall.engine.features.tracks import (
    COMPACT_AT,
    DIST_AT,
    HEAD_SIZE,
    LONGEST,
    NO_EXPIRY,
    SHORTEST_US,
    TAILS_AT,
    Track,
    kept,
)

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Key = str | int
T = TypeVar("T")

N_PHYS, BASE, BASE0, STACK_LO, STACK_HI, EXPIRY, TAILS = range(7)
"""Columns of a track's row: events laid out so far in its segment (the compacted ones too),
its base now and when gathered (position 0 of the segment is event BASE0), where its maxima
stack starts and ends in the segment, then its head (`Track.head`): its expiry, its tails
and its distinct counts (one per window each)."""
_NW: Final = len(WINDOWS)
_DIST: Final = TAILS + _NW
_WIDTH: Final = _DIST + _NW
assert (TAILS - EXPIRY, _DIST - EXPIRY, _WIDTH - EXPIRY) == (TAILS_AT, DIST_AT, HEAD_SIZE)
_HEAD: Final = 1 + HEAD_SIZE
"""Numbers of a track gathered beside its arrays: its base, then its head."""
AGGREGATES_AT: Final = len(SINGLES)
"""Where the window aggregates start in a feature vector."""

_jit = njit(nogil=True, cache=True)
_inline = njit(nogil=True, cache=True, inline="always")


@dataclass(frozen=True)
class _StreamPlan:
    owner: int
    counterpart: int
    query_roles: tuple[int, ...]
    cols: I64
    """cols[q, measure, w]: the column of the aggregates block of the value (-1: none)."""
    distinct: bool
    maximum: bool


@cache
def _plans() -> tuple[_StreamPlan, ...]:
    where = feature_index()
    plans = []
    for spec in STREAMS:
        queries = [a for a in AGGREGATES if a.stream is spec.stream]
        cols = np.full((len(queries), len(Measure), _NW), -1, dtype=np.int64)
        for q, aggregate in enumerate(queries):
            for measure in aggregate.measures:
                for w, window in enumerate(WINDOWS):
                    name = aggregate_feature(aggregate, measure, window).name
                    cols[q, measure, w] = where[name] - AGGREGATES_AT
        measures = stream_measures(spec.stream)
        plans.append(
            _StreamPlan(
                int(spec.owner),
                int(spec.counterpart),
                tuple(int(a.key) for a in queries),
                cols,
                Measure.DISTINCT in measures,
                Measure.MAX in measures,
            )
        )
    return tuple(plans)


def aggregate_count() -> int:
    """Values of the window aggregates in a feature vector."""
    return sum(len(a.measures) for a in AGGREGATES) * _NW


@_inline
def _bisect(values: I64, x: int, lo: int, hi: int) -> int:
    """`bisect.bisect_left(values, x, lo, hi)`."""
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_inline
def _advance(
    e: int, t: int, row: I64, off: I64, ts: I64, flags: U8, windows: I64, distinct: bool
) -> None:
    """`Track.advance(t)` of track e."""
    if t <= row[e, EXPIRY]:
        return
    o = off[e] - row[e, BASE0]  # segment position of event a: o + a
    hi = off[e] + row[e, N_PHYS]
    expiry = NO_EXPIRY
    for w in range(windows.shape[0]):
        tail = o + row[e, TAILS + w]
        if tail == hi:
            continue
        width = windows[w]
        bound = t - width
        if ts[tail] < bound:
            old = tail
            tail = _bisect(ts, bound, old, hi)
            row[e, TAILS + w] = tail - o
            if distinct:
                gone = 0
                for p in range(old, tail):
                    gone += flags[p]
                row[e, _DIST + w] -= gone
            if tail == hi:
                continue
        if ts[tail] + width < expiry:
            expiry = ts[tail] + width
    row[e, EXPIRY] = expiry


@_inline
def _amount(a: int, o: int, cum: I64) -> int:
    """The amount of event a of the track whose totals start at cum[o]."""
    return int(cum[o + a + 1] - cum[o + a])


@_inline
def _add(
    e: int, t: int, amount: int, previous: int, paired: bool, row: I64, off: I64, ts: I64,
    cum: I64, flags: U8, stack: I64, distinct: bool, maximum: bool,
) -> int:  # fmt: skip
    """`Track.add(t, amount, counterpart)` of track e (`previous`: the counterpart's latest
    event, -1 none; `paired`: the counterpart is not None); the index of the new event."""
    b0 = row[e, BASE0]
    n = row[e, N_PHYS]
    o = off[e] - b0
    oc = o + e  # each track's totals hold one more value than its times
    index = b0 + n
    p = off[e] + n
    ts[p] = t
    cum[p + e + 1] = cum[p + e] + amount
    row[e, N_PHYS] = n + 1
    if t + SHORTEST_US < row[e, EXPIRY]:
        row[e, EXPIRY] = t + SHORTEST_US
    base = row[e, BASE]
    if distinct:
        if not paired:
            flags[p] = 0
        else:
            flags[p] = 1
            if previous >= base:
                flags[o + previous] = 0
            for w in range(_NW):
                if previous < row[e, TAILS + w]:
                    row[e, _DIST + w] += 1
    if maximum:
        lo, hi = row[e, STACK_LO], row[e, STACK_HI]
        while hi > lo and _amount(stack[hi - 1], oc, cum) <= amount:
            hi -= 1
        stack[hi] = index
        row[e, STACK_HI] = hi + 1
    stale = row[e, TAILS + LONGEST] - base
    if stale >= COMPACT_AT and 2 * stale >= index + 1 - base:
        base += stale
        row[e, BASE] = base
        if maximum:
            lo, hi = row[e, STACK_LO], row[e, STACK_HI]
            row[e, STACK_LO] = _bisect(stack, base, lo, hi)
    return int(index)


@_jit
def _stream_pass(
    times: I64, amounts: I64, queried: I64, owner: I64, pair: I64, latest: I64, cols: I64,
    windows: I64, row: I64, off: I64, ts: I64, cum: I64, flags: U8, stack: I64,
    distinct: bool, maximum: bool, out: I64,
) -> None:  # fmt: skip
    """One stream over the batch: per transaction, read the windows of each queried track
    (queried[q, i], -1: none) into `out`, then advance the owner's track and add the event.
    pair[i] is the (owner, counterpart) pair of the event (-1: no counterpart), whose latest
    event `latest` carries."""
    for i in range(times.shape[0]):
        t = times[i]
        for q in range(queried.shape[0]):
            e = queried[q, i]
            if e < 0:
                for m in range(cols.shape[1]):
                    for w in range(_NW):
                        if cols[q, m, w] >= 0:
                            out[i, cols[q, m, w]] = 0
                continue
            _advance(e, t, row, off, ts, flags, windows, distinct)
            b0 = row[e, BASE0]
            o = off[e] - b0
            oc = o + e
            end = b0 + row[e, N_PHYS]
            for w in range(_NW):
                tail = row[e, TAILS + w]
                if cols[q, Measure.COUNT, w] >= 0:
                    out[i, cols[q, Measure.COUNT, w]] = end - tail
                if cols[q, Measure.SUM, w] >= 0:
                    out[i, cols[q, Measure.SUM, w]] = cum[oc + end] - cum[oc + tail]
                if cols[q, Measure.MAX, w] >= 0:
                    lo, hi = row[e, STACK_LO], row[e, STACK_HI]
                    k = _bisect(stack, tail, lo, hi)
                    out[i, cols[q, Measure.MAX, w]] = _amount(stack[k], oc, cum) if k < hi else 0
                if cols[q, Measure.DISTINCT, w] >= 0:
                    out[i, cols[q, Measure.DISTINCT, w]] = row[e, _DIST + w]
        e = owner[i]
        if e >= 0:
            _advance(e, t, row, off, ts, flags, windows, distinct)
            c = pair[i]
            previous = latest[c] if c >= 0 else -1
            index = _add(
                e, t, amounts[i], previous, c >= 0, row, off, ts, cum, flags, stack, distinct,
                maximum,
            )  # fmt: skip
            if c >= 0:
                latest[c] = index


@_jit
def _lay_out(
    sizes: I64, adds: I64, heights: I64, heads: I64, ts_in: I64, cum_in: I64, flags_in: U8,
    stack_in: I64, distinct: bool, maximum: bool,
) -> tuple[I64, I64, I64, I64, U8, I64]:  # fmt: skip
    """The gathered tracks (their arrays end to end, `heads` their base and head) laid out
    in segments with room for the events the batch adds: the segment starts, the tracks' rows
    and the segmented times, totals, flags and stacks."""
    n_ent = sizes.shape[0]
    off = np.empty(n_ent, dtype=np.int64)
    total = 0
    for e in range(n_ent):
        off[e] = total
        total += sizes[e] + adds[e]
    ts = np.zeros(total + 1, dtype=np.int64)
    cum = np.zeros(total + n_ent, dtype=np.int64)
    flags = np.zeros(total + 1 if distinct else 1, dtype=np.uint8)
    stack = np.zeros(total + 1 if maximum else 1, dtype=np.int64)
    row = np.empty((n_ent, _WIDTH), dtype=np.int64)
    source = 0
    source_stack = 0
    for e in range(n_ent):
        n, o, height = sizes[e], off[e], heights[e]
        ts[o : o + n] = ts_in[source : source + n]
        cum[o + e : o + e + n + 1] = cum_in[source + e : source + e + n + 1]
        if distinct:
            flags[o : o + n] = flags_in[source : source + n]
        if maximum:
            stack[o : o + height] = stack_in[source_stack : source_stack + height]
        row[e, N_PHYS] = n
        row[e, BASE] = heads[e, 0]
        row[e, BASE0] = heads[e, 0]
        row[e, STACK_LO] = o
        row[e, STACK_HI] = o + height
        row[e, EXPIRY:] = heads[e, 1:]
        source += n
        source_stack += height
    return off, row, ts, cum, flags, stack


def _at(items: Sequence[T], at: list[int]) -> list[T]:
    """The items at positions `at` (a C-level loop)."""
    return list(map(items.__getitem__, at))


def _cuts(values: I64 | U8, starts: I64, stops: I64) -> Iterator[memoryview]:
    """Views of the bytes of items [start, stop) of `values`, one per start."""
    size = values.itemsize
    data = values.data.cast("B")
    return map(data.__getitem__, map(slice, (size * starts).tolist(), (size * stops).tolist()))


class _Gathered:
    """The tracks of one stream that a batch touches (see the module's doc): each one that
    had a track, or gets one now because the batch adds to it; an entity only read that has
    no track reads zeros, as an empty track would."""

    def __init__(
        self, plan: _StreamPlan, tracks: dict[Key, Track], keys: Sequence[Sequence[Key | None]]
    ) -> None:
        self.plan = plan
        owners = keys[plan.owner]
        readers = [keys[role] for role in plan.query_roles]
        unique = dict.fromkeys(chain(owners, *readers))
        unique.pop(None, None)
        seen = cast(list[Key], list(unique))  # None popped
        got = list(map(tracks.get, seen))
        absent = list(compress(seen, map(is_, got, repeat(None))))
        if absent:
            adding = dict.fromkeys(owners)
            for key in absent:
                if key in adding:
                    tracks[kept(key)] = Track(plan.distinct, plan.maximum)
            # An entity only read that has no track is left out: it reads zeros.
            seen = list(filter(tracks.__contains__, seen))
            got = list(map(tracks.__getitem__, seen))
        code: dict[Key | None, int] = dict(zip(seen, range(len(seen)), strict=True))
        self.found = cast(list[Track], got)  # each key left has its track
        n = len(owners)
        self.owner = np.fromiter(map(code.get, owners, repeat(-1)), np.int64, n)
        queried = chain.from_iterable(map(code.get, each, repeat(-1)) for each in readers)
        self.queried = np.fromiter(queried, np.int64, len(readers) * n).reshape(len(readers), n)
        self.pairs: dict[tuple[int, str], int] = {}
        if plan.distinct:
            pairs = self.pairs
            # A pair per (owner, counterpart account), -1: no counterpart.
            pair = [
                pairs.setdefault((e, counterpart), len(pairs))
                if e >= 0 and isinstance(counterpart, str)
                else -1
                for e, counterpart in zip(self.owner.tolist(), keys[plan.counterpart], strict=True)
            ]
            self.pair = np.array(pair, dtype=np.int64)
        else:
            self.pair = np.full(n, -1, dtype=np.int64)

    def run(self, times: I64, amounts: I64, out: I64) -> None:
        """Read and fold the batch (its times and amounts) into the tracks, the values read
        into `out`."""
        plan = self.plan
        found = self.found
        n_ent = len(found)
        # One pass over the tracks, which lie all over the heap: a pass costs a cache miss
        # a track (`online_snapshot` gathers them so too).
        times_of, totals_of, flags_of, stacks_of, bases, heads_of, latests = (
            zip(*map(_PARTS_OF, found), strict=True) if found else ((),) * 7
        )
        sizes = np.fromiter(map(len, times_of), np.int64, n_ent)
        heights = (
            np.fromiter(map(len, stacks_of), np.int64, n_ent)
            if plan.maximum
            else np.zeros(n_ent, np.int64)
        )
        heads = np.empty((n_ent, _HEAD), dtype=np.int64)
        heads[:, 0] = bases
        heads[:, 1:] = _int64s(b"".join(heads_of)).reshape(n_ent, HEAD_SIZE)
        adds = np.bincount(self.owner[self.owner >= 0], minlength=n_ent).astype(np.int64)
        off, row, ts, cum, flags, stack = _lay_out(
            sizes, adds, heights, heads,
            _int64s(b"".join(times_of)), _int64s(b"".join(totals_of)),
            np.frombuffer(b"".join(flags_of) if plan.distinct else b"", np.uint8),
            _int64s(b"".join(stacks_of) if plan.maximum else b""),
            plan.distinct, plan.maximum,
        )  # fmt: skip
        owners, texts = zip(*self.pairs, strict=True) if self.pairs else ((), ())
        # Interned: a counterpart new to its track is kept (`Track.add` does the same).
        counterparts = list(map(intern, texts))
        latest_of = list(map(latests.__getitem__, owners))
        latest = np.fromiter(
            map(dict.get, latest_of, counterparts, repeat(-1)), np.int64, len(counterparts)
        )
        _stream_pass(
            times, amounts, self.queried, self.owner, self.pair, latest, plan.cols, _windows(),
            row, off, ts, cum, flags, stack, plan.distinct, plan.maximum, out,
        )  # fmt: skip
        # The heads that moved, each in one block, in place.
        moved = np.flatnonzero((row[:, EXPIRY:] != heads[:, 1:]).any(axis=1))
        block = row[moved, EXPIRY:].ravel()
        starts = np.arange(0, len(block), HEAD_SIZE)
        _refill(_at(heads_of, moved.tolist()), _cuts(block, starts, starts + HEAD_SIZE))
        grown_at = np.flatnonzero(adds)
        at = grown_at.tolist()
        self._grow(
            grown_at, _at(times_of, at), _at(totals_of, at), _at(flags_of, at),
            _at(stacks_of, at), sizes, row, off, ts, cum, flags, stack,
        )  # fmt: skip
        deque(map(dict.__setitem__, latest_of, counterparts, latest.tolist()), maxlen=0)
        for e in np.flatnonzero(row[:, BASE] != row[:, BASE0]).tolist():
            self._compact(found[e], int(row[e, BASE] - row[e, BASE0]))

    def _grow(
        self, grown_at: I64, times_of: list[array[int]], totals_of: list[array[int]],
        flags_of: list[bytearray], stacks_of: list[array[int]], sizes: I64, row: I64, off: I64,
        ts: I64, cum: I64, flags: U8, stack: I64,
    ) -> None:  # fmt: skip
        """Append the batch's events to the tracks it added to: their times and totals at
        the end, their flags (an older one may have been cleared) and maxima stack whole."""
        plan = self.plan
        start = off[grown_at]
        old, end = start + sizes[grown_at], start + row[grown_at, N_PHYS]
        deque(map(array.frombytes, times_of, _cuts(ts, old, end)), 0)
        e = grown_at  # a track's totals sit one further on per track before it
        deque(map(array.frombytes, totals_of, _cuts(cum, old + e + 1, end + e + 1)), 0)
        if plan.distinct:
            whole = repeat(slice(None))
            deque(map(setitem, flags_of, whole, _cuts(flags, start, end)), 0)
        if plan.maximum:
            low, high = row[grown_at, STACK_LO], row[grown_at, STACK_HI]
            _refill(stacks_of, _cuts(stack, low, high))

    @staticmethod
    def _compact(track: Track, stale: int) -> None:
        """Drop what compaction dropped inside the batch (`Track._compact`): the events
        before the new base, and the counterparts last seen before it."""
        del track.ts[:stale]
        del track.cum[:stale]
        if track.flags is not None:
            del track.flags[:stale]
        track.base += stale
        base = track.base
        track.latest = {party: index for party, index in track.latest.items() if index >= base}


def _refill(targets: list[array[int]], cuts: Iterator[memoryview]) -> None:
    """Replace what each array of `targets` holds by its cut of `cuts`, in place."""
    deque(map(array.__delitem__, targets, repeat(slice(None))), 0)
    deque(map(array.frombytes, targets, cuts), 0)


def _int64s(data: bytes) -> I64:
    return np.frombuffer(data, np.int64)


_PARTS_OF = attrgetter("ts", "cum", "flags", "stack", "base", "head", "latest")
"""What a batch reads of a track."""


@cache
def _windows() -> I64:
    return np.array([window.micros for window in WINDOWS], dtype=np.int64)


def aggregates_of_batch(
    tracks: Sequence[dict[Key, Track]],
    keys: Sequence[Sequence[Key | None]],
    times: Sequence[int],
    amounts: Sequence[int],
) -> I64:
    """Each transaction's window aggregates (a row each, catalogue order), reading and
    folding the batch into `tracks` (one dict per stream) as one transaction after another
    would.

    keys[role][i] is the entity of transaction i in that role (None: none); `times` are the
    transactions' times in µs, in order (never decreasing)."""
    n = len(times)
    out = np.zeros((n, aggregate_count()), dtype=np.int64)
    if n == 0:
        return out
    time_np = np.asarray(times, dtype=np.int64)
    amount_np = np.asarray(amounts, dtype=np.int64)
    for plan, stream_tracks in zip(_plans(), tracks, strict=True):
        _Gathered(plan, stream_tracks, keys).run(time_np, amount_np, out)
    return out


def warm_up() -> None:
    """Compile the batch pass (or load it from numba's cache) on one transaction over empty
    tracks, so that a server's first batch does not wait for it."""
    aggregates_of_batch(tuple({} for _ in STREAMS), (["a"], ["b"], ["d"], ["i"], [0]), [0], [1])
