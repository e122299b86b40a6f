"""Growable columns for the transfer index: whole numbers in one numpy array that grows by a
quarter when full, and text in Arrow arrays (one per batch added, joined when the index folds
its tail), so ten million movements take a few bytes each instead of a Python object each.

Reading one entry gives a plain Python value; a slice gives a numpy array (numbers) or a list
(text), which `Columns` accepts back.
"""

from __future__ import annotations

import bisect
import operator
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

_FIRST_CAPACITY = 1_024


class IntColumn:
    """Whole numbers of one numpy dtype, appended in batches."""

    def __init__(self, dtype: type[np.signedinteger[Any]]) -> None:
        self._data: npt.NDArray[np.signedinteger[Any]] = np.zeros(_FIRST_CAPACITY, dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, at: int) -> int: ...
    @overload
    def __getitem__(self, at: slice) -> npt.NDArray[np.signedinteger[Any]]: ...
    def __getitem__(self, at: int | slice) -> int | npt.NDArray[np.signedinteger[Any]]:
        if isinstance(at, slice):
            return self.values[at]
        if at < 0:
            at += self._size
        if not 0 <= at < self._size:
            raise IndexError(at)
        return int(self._data[at])

    @property
    def values(self) -> npt.NDArray[np.signedinteger[Any]]:
        """The column as a numpy array (a view: valid until the next `append`)."""
        return self._data[: self._size]

    @property
    def capacity_bytes(self) -> int:
        return int(self._data.nbytes)

    def append(self, values: npt.ArrayLike) -> None:
        batch = np.asarray(values, dtype=self._data.dtype)
        end = self._size + len(batch)
        if end > len(self._data):
            # A quarter more: ten million entries must not double for a thousand more.
            grown = np.zeros(max(end, len(self._data) * 5 // 4 + 1_024), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : end] = batch
        self._size = end


class TextColumn(ABC):
    """Read-only text by position: one entry as `str | None`, a slice as a list. Subclasses
    say how long they are and what one entry is."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def entry(self, at: int) -> str | None:
        """The entry at `at`, which is within the column."""

    @overload
    def __getitem__(self, at: int) -> str | None: ...
    @overload
    def __getitem__(self, at: slice) -> list[str | None]: ...
    def __getitem__(self, at: int | slice) -> str | list[str | None] | None:
        size = len(self)
        if isinstance(at, slice):
            return [self.entry(i) for i in range(*at.indices(size))]
        at = operator.index(at)
        if at < 0:
            at += size
        if not 0 <= at < size:
            raise IndexError(at)
        return self.entry(at)


class StringColumn(TextColumn):
    """Text (or None), appended in batches kept as Arrow arrays."""

    def __init__(self) -> None:
        self._chunks: list[pa.Array] = []
        self._starts: list[int] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def entry(self, at: int) -> str | None:
        chunk = bisect.bisect_right(self._starts, at) - 1
        value: str | None = self._chunks[chunk][at - self._starts[chunk]].as_py()
        return value

    def append(self, values: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> None:
        batch = as_strings(values)
        if len(batch):
            self._starts.append(self._size)
            self._chunks.append(batch)
            self._size += len(batch)

    @property
    def nbytes(self) -> int:
        return sum(chunk.nbytes for chunk in self._chunks)

    def join(self) -> None:
        """Make one array of the batches (done when the index folds its tail)."""
        if len(self._chunks) > 1:
            self._chunks = [pa.concat_arrays(self._chunks)]
            self._starts = [0]

    def find(self, value: str) -> int | None:
        """The first position holding `value` (a vectorised scan)."""
        for start, chunk in zip(self._starts, self._chunks, strict=True):
            found = pc.index(chunk, pa.scalar(value, chunk.type)).as_py()
            if found >= 0:
                return start + int(found)
        return None

    def find_among(self, value: str, positions: npt.NDArray[np.int64]) -> int | None:
        """The first of `positions` holding `value` (vectorised over them alone)."""
        for start, chunk in zip(self._starts, self._chunks, strict=True):
            inside = np.sort(positions[(positions >= start) & (positions < start + len(chunk))])
            if not len(inside):
                continue
            same = pc.fill_null(pc.equal(chunk.take(inside - start), value), False)
            hits = np.flatnonzero(same.to_numpy(zero_copy_only=False))
            if len(hits):
                return int(inside[hits[0]])
        return None


class Names:
    """Text that is never missing (account numbers, bank codes), in one Arrow array: a Python
    list of a million strings would cost every full garbage collection milliseconds."""

    def __init__(self, values: pa.Array | pa.ChunkedArray | Iterable[str]) -> None:
        self.arrow = as_strings(values)
        if self.arrow.null_count:
            raise ValueError("a name is missing")

    def __len__(self) -> int:
        return len(self.arrow)

    @overload
    def __getitem__(self, at: int) -> str: ...
    @overload
    def __getitem__(self, at: slice) -> list[str]: ...
    def __getitem__(self, at: int | slice) -> str | list[str]:
        if isinstance(at, slice):
            names: list[str] = self.arrow[at].to_pylist()
            return names
        name: str = self.arrow[operator.index(at)].as_py()
        return name

    def to_list(self) -> list[str]:
        names: list[str] = self.arrow.to_pylist()
        return names


def as_strings(values: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> pa.Array:
    """`values` as one Arrow array of large strings."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), pa.large_string())
    return values.cast(pa.large_string())


def as_ints(values: pa.Array | pa.ChunkedArray | Sequence[int]) -> npt.NDArray[np.int64]:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return np.asarray(values.to_numpy(), dtype=np.int64)
    return np.asarray(values, dtype=np.int64)
