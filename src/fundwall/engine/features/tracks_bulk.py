"""A batch's window aggregates from the online state's tracks, by one compiled pass per
stream, leaving every track exactly as `Track.advance`, the readers and `Track.add` of one
transaction after another would.

Per stream, the tracks the batch touches (read or added to) are gathered end to end into flat
arrays, each followed by room for the events the batch adds to it: times, running totals,
latest-counterpart flags and the maxima stack, with each track's base, tails, distinct counts
and expiry as a row of numbers. `_stream_pass` then walks the batch in time order doing what
the online state does per transaction (read each queried track's windows, then advance the
owner's and add the event), by the same steps: the same binary searches, expiries and
compaction points, so that what is written back (`_scatter`) is the one-by-one state, not an
equivalent one. A compaction inside the batch only moves the track's base; the events before
it are cut off when the track is written back.

A counterpart's latest event (`Track.latest`) is looked up once per (owner, counterpart) pair
of the batch and carried by the pass; the online state forgets a pair at a compaction when its
latest event is before the new base, which reads the same as the old index (both are before
every window), so the pass keeps the index and the write-back forgets it as compaction would.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

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
from fundwall.engine.features.tracks import _COMPACT_AT, _LONGEST, _NEVER, _SHORTEST, Track

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Key = str | int

N_PHYS, BASE, BASE0, EXPIRY, STACK_LO, STACK_HI, TAILS = range(7)
"""Columns of a track's row: events laid out so far in its segment (the compacted ones too),
its base now and when gathered (position 0 of the segment is event BASE0), its expiry, where
its maxima stack starts and ends in the segment, then its tails and distinct counts (one per
window each)."""
_NW: Final = len(WINDOWS)
_DIST: Final = TAILS + _NW
_WIDTH: Final = _DIST + _NW
_AGGREGATES_AT: Final = len(SINGLES)
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
                    cols[q, measure, w] = where[name] - _AGGREGATES_AT
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
    expiry = _NEVER
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
    if t + _SHORTEST < row[e, EXPIRY]:
        row[e, EXPIRY] = t + _SHORTEST
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
    stale = row[e, TAILS + _LONGEST] - base
    if stale >= _COMPACT_AT and 2 * stale >= index + 1 - base:
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


class _Gathered:
    """The tracks of one stream that a batch touches, end to end (see the module's doc)."""

    def __init__(self, plan: _StreamPlan, tracks: dict[Key, Track]) -> None:
        self.plan = plan
        self.tracks = tracks
        self.keys: list[Key] = []
        self.entity: dict[Key, int] = {}
        self.adds: list[int] = []
        self.pairs: dict[tuple[int, str], int] = {}
        self.pair_keys: list[tuple[int, str]] = []

    def code(self, key: Key) -> int:
        e = self.entity.get(key)
        if e is None:
            e = self.entity[key] = len(self.keys)
            self.keys.append(key)
            self.adds.append(0)
        return e

    def pair(self, e: int, counterpart: str) -> int:
        pair = (e, counterpart)
        c = self.pairs.get(pair)
        if c is None:
            c = self.pairs[pair] = len(self.pair_keys)
            self.pair_keys.append(pair)
        return c

    def run(self, times: I64, amounts: I64, queried: I64, owner: I64, pair: I64, out: I64) -> None:
        plan = self.plan
        existing = [self.tracks.get(key) for key in self.keys]
        off = array("q")
        rows = array("q")
        ts = array("q")
        cum = array("q")
        flags = bytearray()
        stack = array("q")
        at = 0
        for track, added in zip(existing, self.adds, strict=True):
            off.append(at)
            if track is None:
                rows.extend((0, 0, 0, _NEVER, at, at, *([0] * (2 * _NW))))
                n = 0
                cum.append(0)
            else:
                n = len(track.ts)
                ts.extend(track.ts)
                cum.extend(track.cum)
                if track.flags is not None:
                    flags += track.flags
                height = 0
                if track.stack is not None:
                    stack.extend(track.stack)
                    height = len(track.stack)
                    stack.frombytes(bytes(8 * (n - height)))
                base = track.base
                rows.extend((n, base, base, track.expiry, at, at + height))
                rows.extend(track.tails)
                rows.extend(track.dist)
            room = bytes(8 * added)
            ts.frombytes(room)
            cum.frombytes(room)
            if plan.maximum:
                stack.frombytes(room)
            if plan.distinct:
                flags += bytes(added)
            at += n + added
        row = np.frombuffer(rows, dtype=np.int64).reshape(len(existing), _WIDTH)
        latest = np.array(
            [
                -1 if (track := existing[e]) is None else track.latest.get(counterpart, -1)
                for e, counterpart in self.pair_keys
            ],
            dtype=np.int64,
        )
        ts_np = np.frombuffer(ts, dtype=np.int64)
        cum_np = np.frombuffer(cum, dtype=np.int64)
        flags_np = np.frombuffer(flags, dtype=np.uint8) if flags else np.zeros(1, np.uint8)
        stack_np = np.frombuffer(stack, dtype=np.int64) if stack else np.zeros(1, np.int64)
        _stream_pass(
            times, amounts, queried, owner, pair, latest, plan.cols, _windows(), row,
            np.frombuffer(off, dtype=np.int64), ts_np if ts else np.zeros(1, np.int64), cum_np,
            flags_np, stack_np, plan.distinct, plan.maximum, out,
        )  # fmt: skip
        self._scatter(existing, row, off, ts, cum, flags, stack, latest)

    def _scatter(
        self, existing: list[Track | None], row: I64, off: array[int], ts: array[int],
        cum: array[int], flags: bytearray, stack: array[int], latest: I64,
    ) -> None:  # fmt: skip
        """Write the tracks back: those added to whole, those only read their windows."""
        plan = self.plan
        tracks = self.tracks
        times, totals, maxima = (memoryview(values).cast("B") for values in (ts, cum, stack))
        compacted: list[Track] = []
        for e, (values, track, added, at) in enumerate(
            zip(row.tolist(), existing, self.adds, off, strict=True)
        ):
            n_phys, base, base0, expiry, stack_lo, stack_hi = values[:TAILS]
            if added:
                if track is None:
                    track = tracks[self.keys[e]] = Track(plan.distinct, plan.maximum)
                lo, hi = at + base - base0, at + n_phys
                track.ts = _copied(times, lo, hi)
                track.cum = _copied(totals, lo + e, hi + e + 1)
                if plan.distinct:
                    track.flags = flags[lo:hi]
                if plan.maximum:
                    track.stack = _copied(maxima, stack_lo, stack_hi)
                if base != track.base:
                    track.base = base
                    compacted.append(track)
            elif track is None:
                continue
            track.tails = values[TAILS:_DIST]
            track.dist = values[_DIST:_WIDTH]
            track.expiry = expiry
        for c, index in enumerate(latest.tolist()):
            e, counterpart = self.pair_keys[c]
            tracks[self.keys[e]].latest[counterpart] = index
        for track in compacted:
            base = track.base
            track.latest = {party: index for party, index in track.latest.items() if index >= base}


def _copied(view: memoryview, start: int, stop: int) -> array[int]:
    """Items [start, stop) of an int64 array's bytes `view`, as a new array."""
    values = array("q")
    values.frombytes(view[8 * start : 8 * stop])
    return values


@cache
def _windows() -> I64:
    return np.array([window.micros for window in WINDOWS], dtype=np.int64)


def aggregates_of_batch(
    tracks: Sequence[dict[Key, Track]],
    keys: Sequence[Sequence[Key | None]],
    times: Sequence[int],
    amounts: Sequence[int],
) -> list[list[Any]]:
    """Each transaction's window aggregates (catalogue order), reading and folding the
    batch into `tracks` (one dict per stream) as one transaction after another would.

    keys[role][i] is the entity of transaction i in that role (None: none); `times` are the
    transactions' times in µs, in order (never decreasing)."""
    n = len(times)
    out = np.zeros((n, aggregate_count()), dtype=np.int64)
    if n == 0:
        return []
    time_np = np.asarray(times, dtype=np.int64)
    amount_np = np.asarray(amounts, dtype=np.int64)
    for plan, stream_tracks in zip(_plans(), tracks, strict=True):
        gathered = _Gathered(plan, stream_tracks)
        code = gathered.code
        queried = [
            [-1 if key is None else code(key) for key in keys[role]] for role in plan.query_roles
        ]
        owners = keys[plan.owner]
        counterparts = keys[plan.counterpart]
        owner = [-1] * n
        pair = [-1] * n
        adds = gathered.adds
        for i, key in enumerate(owners):
            if key is None:
                continue
            e = owner[i] = code(key)
            adds[e] += 1
            counterpart = counterparts[i]
            if plan.distinct and isinstance(counterpart, str):  # an account number
                pair[i] = gathered.pair(e, counterpart)
        gathered.run(
            time_np,
            amount_np,
            np.array(queried, dtype=np.int64).reshape(len(queried), n),
            np.array(owner, dtype=np.int64),
            np.array(pair, dtype=np.int64),
            out,
        )
    return out.tolist()
