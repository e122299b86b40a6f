"""Which transaction ids the decision log may hold, in about 1.2 bytes an id.

The decision service must tell a new transaction id (the common case, decided at once) from
one sent before (answered from the log) without reading the log for every transaction. A set
of every id grew by about 90 bytes a decision for as long as the server ran; this Bloom filter
(布隆过滤器) answers "maybe seen" or "surely new" in a tenth of that. "Maybe seen" of an id never
logged (about one in a hundred) costs one read of the log, which then says it is new.

It starts with room for twice the ids the log holds and grows as filters of doubling
capacity, each kept at its planned false-positive rate.
Python's `hash` of a string is salted per process; the filter lives in one process and is
filled from the log at every start, so that does not matter.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

BITS_PER_ID: Final = 10
HASHES: Final = 7
"""Ten bits and seven hashes an id: about 1% false positives at capacity."""
FIRST_CAPACITY: Final = 1 << 16
_MASK64: Final = (1 << 64) - 1


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


class SeenIds:
    """The ids added, as a Bloom filter: `in` is never wrong for an id added, and wrong for
    about 1% of the others."""

    def __init__(self, ids: Collection[str] = ()) -> None:
        # Room for twice the ids given: one filter until the log has doubled.
        self._filters = [_Filter(max(FIRST_CAPACITY, 2 * len(ids)))]
        for tx_id in ids:
            self.add(tx_id)

    def add(self, tx_id: str) -> None:
        current = self._filters[-1]
        if current.count >= current.capacity:
            current = _Filter(2 * current.capacity)
            self._filters.append(current)
        current.add(hash(tx_id) & _MASK64)

    def __contains__(self, tx_id: object) -> bool:
        key = hash(tx_id) & _MASK64
        return any(key in each for each in self._filters)

    @property
    def nbytes(self) -> int:
        """The memory its bits take."""
        return sum(len(each.bits) for each in self._filters)
