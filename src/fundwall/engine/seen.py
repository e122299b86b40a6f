"""Which transaction ids the decision log may hold, among those stamped in a recent window of
time, in about 1.2 bytes an id.

The decision service must tell a new transaction id (the common case, decided at once) from
one sent before (answered from the log) without reading the log for every transaction. A set
of every id grew by about 90 bytes a decision for as long as the server ran; a Bloom filter
(布隆过滤器) answers "maybe seen" or "surely new" in a tenth of that. "Maybe seen" of an id never
logged (about one in a hundred) costs one read of the log, which then says it is new.

Even so a filter of every id ever seen grows without end (a province's year of transfers is
billions of ids). So the filter holds only the ids of transactions stamped within `window` of
the newest stamp it was given (`fundwall.config.PolicySettings.idempotency_window_days`), in
`SLICES` slices of time, each a filter of its own: when the newest stamp moves into a new
slice, the oldest slice is dropped whole. An id stamped before the window (`horizon`) is
"maybe seen" without looking: the service reads the log for it, whose unique key on the
transaction id answers beyond the window. The memory is then that of the window's ids, however
long the service runs. (An id sent again with another stamp, inside the window where the first
was outside, passes as new; the log's unique key refuses it when the decision is written, see
`fundwall.engine.committer`.)

Each slice starts with room for 65,536 ids and grows as filters of doubling capacity, each kept
at its planned false-positive rate. Python's `hash` of a string is salted per process; the
filter lives in one process and is filled from the log at every start, so that does not
matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

BITS_PER_ID: Final = 10
HASHES: Final = 7
"""Ten bits and seven hashes an id: about 1% false positives at capacity."""
FIRST_CAPACITY: Final = 1 << 16
SLICES: Final = 4
"""The window is cut in this many slices; one more is kept while the newest fills, so the
filter holds between one window and one window and a quarter of ids."""
_MASK64: Final = (1 << 64) - 1
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class _Filter:
    __slots__ = ("bits", "capacity", "count", "size")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = capacity * BITS_PER_ID
        self.bits = bytearray((self.size + 7) // 8)
        self.count = 0

    def add(self, key: int) -> None:
        # Double hashing (Kirsch–Mitzenmacher): the k positions from two halves of one hash.
        bits, size = self.bits, self.size
        position, step = key & 0xFFFFFFFF, (key >> 32) | 1
        for _ in range(HASHES):
            at = position % size
            bits[at >> 3] |= 1 << (at & 7)
            position += step
        self.count += 1

    def __contains__(self, key: int) -> bool:
        bits, size = self.bits, self.size
        position, step = key & 0xFFFFFFFF, (key >> 32) | 1
        for _ in range(HASHES):
            at = position % size
            if not bits[at >> 3] & (1 << (at & 7)):
                return False  # most ids asked about are new: out at the first clear bit
            position += step
        return True


class _Slice:
    """The ids of one slice of time: filters of doubling capacity."""

    __slots__ = ("filters",)

    def __init__(self) -> None:
        self.filters = [_Filter(FIRST_CAPACITY)]

    def add(self, key: int) -> None:
        current = self.filters[-1]
        if current.count >= current.capacity:
            current = _Filter(2 * current.capacity)
            self.filters.append(current)
        current.add(key)

    def __contains__(self, key: int) -> bool:
        return any(key in each for each in self.filters)


class SeenIds:
    """The ids added with their stamps, as Bloom filters over a window of time: `maybe_seen`
    is never False for an id added, True for about 1% of the others, and True for any id
    stamped before the window (see the module docstring)."""

    def __init__(self, window: timedelta, ids: Iterable[tuple[str, datetime]] = ()) -> None:
        if window <= timedelta(0):
            raise ValueError(f"the window of remembered ids must be positive, not {window}")
        self.window = window
        self._width_us = max(1, -(-_micros(window) // SLICES))
        self._slices: dict[int, _Slice] = {}
        self._newest: int | None = None
        for tx_id, stamped in ids:
            self.add(tx_id, stamped)

    def _slice_of(self, stamped: datetime) -> int:
        # A float of seconds loses microseconds only for stamps centuries away: a slice
        # boundary a microsecond off moves no id out of the window.
        return int(stamped.timestamp() * 1_000_000) // self._width_us

    @property
    def horizon(self) -> datetime | None:
        """Ids stamped before this are not held (None: nothing added yet)."""
        if self._newest is None:
            return None
        return _EPOCH + timedelta(microseconds=(self._newest - SLICES) * self._width_us)

    def add(self, tx_id: str, stamped: datetime) -> None:
        """Remember `tx_id`, stamped `stamped` (ignored when before the window: the log
        answers for it)."""
        index = self._slice_of(stamped)
        newest = self._newest
        if newest is None or index > newest:
            self._newest = newest = index
            for old in [i for i in self._slices if i < newest - SLICES]:
                del self._slices[old]
        if index < newest - SLICES:
            return
        held = self._slices.get(index)
        if held is None:
            held = self._slices[index] = _Slice()
        held.add(hash(tx_id) & _MASK64)

    def maybe_seen(self, tx_id: str, stamped: datetime) -> bool:
        """False when `tx_id`, stamped `stamped`, was surely never added; True when it may
        have been, or is stamped before the window."""
        newest = self._newest
        if newest is None:
            return False
        if self._slice_of(stamped) < newest - SLICES:
            return True
        key = hash(tx_id) & _MASK64
        for held in self._slices.values():
            for each in held.filters:
                if key in each:
                    return True
        return False

    @property
    def nbytes(self) -> int:
        """The memory its bits take."""
        return sum(len(f.bits) for held in self._slices.values() for f in held.filters)


def _micros(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
