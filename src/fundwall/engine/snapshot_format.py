"""The engine's snapshot format: named columns of integers, bytes and strings with a small JSON
header, in one byte string. No pickled or marshalled Python objects.

The online state holds millions of small values (event times, running totals, counterparts,
the places an account paid from). Each column is one buffer that numpy or Arrow writes and
reads in C: reading a snapshot costs a few passes over the buffers plus building the Python
objects the live state is made of, linear in its size; writing one costs reading every
object of the live state (docs/benchmarks.md has the figures).

Layout (integers little-endian):

    b"FWSNAP\\r\\n"            magic, 8 bytes
    uint32                    header length
    header                    UTF-8 JSON: {"format": FORMAT, "parts": {name: {"version": v,
                              "meta": {...}}}, "columns": {name: [type, count, [[offset,
                              size], ...]]}}
    buffers                   from the first multiple of 8 after the header, each at a
                              multiple of 8 (offsets count from the start of the buffers)

Column types: "int" (int64), "optional_int" (int64, 0 where None, and a bit per value, 0 for None),
"bytes" (uint8), "strings" (int32 codes into the snapshot's one table of distinct strings, -1 for
None; the table, column "~strings" of type "table", is Arrow's large_string: int64 offsets and the
UTF-8 bytes end to end).

A snapshot is made of parts (`features`, `ledger`, `engine`), each with its own version: the
component that writes a part reads it back and refuses a version it does not know with an
`InvalidInput` that says so, and the service then folds the whole log instead.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.errors import InvalidInput

MAGIC: Final = b"FWSNAP\r\n"
FORMAT: Final = 1
"""Version of the container layout above (each part has a version of its own)."""
_LENGTH: Final = struct.Struct("<I")
STRING_TABLE: Final = "~strings"
"""The column of the distinct strings that string columns hold codes into."""
_ALIGN: Final = 8

I64 = npt.NDArray[np.int64]
Meta = dict[str, Any]


def _padded(size: int) -> int:
    return -size % _ALIGN


def _raw(array: npt.NDArray[Any]) -> memoryview:
    """The bytes of a contiguous array, without a copy."""
    return array.data.cast("B")


def _int64(values: Iterable[int] | I64, name: str) -> I64:
    if isinstance(values, np.ndarray):
        return np.ascontiguousarray(values, dtype=np.int64)
    try:
        return np.fromiter(values, dtype=np.int64)
    except OverflowError as error:
        # Times are µs and amounts fen: beyond int64 means a corrupt state, not a big one.
        raise ValueError(f"snapshot column {name} holds a number beyond 64 bits") from error


class SnapshotWriter:
    """Collects parts and columns, then `to_bytes()`."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[str, Any]] = {}
        self._columns: dict[str, tuple[str, int, list[bytes | memoryview]]] = {}
        self._texts: list[tuple[str, Sequence[str | None]]] = []

    def part(self, name: str, version: int, **meta: Any) -> PartWriter:
        """A new part; `meta` (and what is added to `PartWriter.meta`) must be JSON."""
        if name in self._parts:
            raise ValueError(f"snapshot part {name} written twice")
        self._parts[name] = {"version": version, "meta": dict(meta)}
        return PartWriter(self, name, self._parts[name]["meta"])

    def _add(self, name: str, kind: str, count: int, buffers: list[bytes | memoryview]) -> None:
        if name in self._columns:
            raise ValueError(f"snapshot column {name} written twice")
        self._columns[name] = (kind, count, buffers)

    def _add_strings(self, name: str, values: Sequence[str | None]) -> None:
        if name in self._columns or any(name == seen for seen, _ in self._texts):
            raise ValueError(f"snapshot column {name} written twice")
        self._texts.append((name, values))

    def _encode_strings(self) -> None:
        """Every string column as codes into one table of the distinct strings: the same
        account number in a hundred places is stored, decoded and hashed once."""
        everything = pa.array(
            list(chain.from_iterable(values for _, values in self._texts)), pa.large_string()
        ).dictionary_encode()
        table = everything.dictionary
        assert table.offset == 0
        _, offsets, data = table.buffers()
        ends = np.frombuffer(offsets, np.int64, len(table) + 1)  # buffers may hold padding
        text = memoryview(data if data is not None else b"")[: int(ends[-1])]
        self._add(STRING_TABLE, "table", len(table), [_raw(ends), text])
        codes = everything.indices.fill_null(-1).to_numpy().astype(np.int32)
        start = 0
        for name, values in self._texts:
            run = codes[start : start + len(values)]
            self._add(name, "strings", len(values), [_raw(run)])
            start += len(values)

    def to_bytes(self) -> bytes:
        """The snapshot: magic, header, buffers (call once)."""
        self._encode_strings()
        columns: dict[str, list[Any]] = {}
        chunks: list[bytes | memoryview] = []
        offset = 0
        for name, (kind, count, buffers) in self._columns.items():
            places = []
            for buffer in buffers:
                size = memoryview(buffer).nbytes
                places.append([offset, size])
                chunks.append(buffer)
                gap = _padded(size)
                if gap:
                    chunks.append(bytes(gap))
                offset += size + gap
            columns[name] = [kind, count, places]
        header = json.dumps(
            {"format": FORMAT, "parts": self._parts, "columns": columns},
            separators=(",", ":"),
        ).encode()
        start = len(MAGIC) + _LENGTH.size + len(header)
        return b"".join([MAGIC, _LENGTH.pack(len(header)), header, bytes(_padded(start)), *chunks])


class PartWriter:
    """Writes the columns of one part (names are kept apart from other parts')."""

    def __init__(self, writer: SnapshotWriter, name: str, meta: Meta) -> None:
        self._writer = writer
        self._prefix = f"{name}."
        self.meta = meta

    def ints(self, name: str, values: Iterable[int] | I64) -> None:
        """Whole numbers that fit 64 bits."""
        array = _int64(values, self._prefix + name)
        self._writer._add(self._prefix + name, "int", len(array), [_raw(array)])

    def optional_ints(self, name: str, values: Sequence[int | None]) -> None:
        """Whole numbers or None."""
        try:
            array = pa.array(values, pa.int64())
        except (pa.ArrowInvalid, OverflowError) as error:
            raise ValueError(f"snapshot column {self._prefix}{name}: {error}") from error
        numbers = np.ascontiguousarray(array.fill_null(0).to_numpy(), np.int64)
        present = np.packbits(array.is_valid().to_numpy(zero_copy_only=False), bitorder="little")
        self._writer._add(
            self._prefix + name,
            "optional_int",
            len(numbers),
            [_raw(numbers), _raw(present)],
        )

    def bytes(self, name: str, data: bytes | bytearray | memoryview) -> None:
        """Raw bytes."""
        view = memoryview(data).cast("B")
        self._writer._add(self._prefix + name, "bytes", view.nbytes, [view])

    def strings(self, name: str, values: Sequence[str | None]) -> None:
        """Strings or None (kept as they are until `to_bytes`: do not change them)."""
        self._writer._add_strings(self._prefix + name, values)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn what a damaged snapshot makes the readers raise (columns of the wrong lengths,
    missing keys) into an `InvalidInput` naming the snapshot, which the service answers by
    folding the whole log."""
    try:
        yield
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise InvalidInput(
            f"not {what} snapshot (it does not read: {error})", "snapshot"
        ) from error


class SnapshotReader:
    """Reads a snapshot's header; its parts are then read with `part`."""

    def __init__(self, data: bytes, what: str) -> None:
        """`what` names the snapshot in errors ("an engine", "a feature state")."""
        self._what = what
        head = len(MAGIC) + _LENGTH.size
        if len(data) < head or data[: len(MAGIC)] != MAGIC:
            raise InvalidInput(f"not {what} snapshot (no snapshot header)", "snapshot")
        (length,) = _LENGTH.unpack_from(data, len(MAGIC))
        try:
            header = json.loads(bytes(data[head : head + length]))
            layout, parts, columns = header["format"], header["parts"], header["columns"]
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidInput(f"not {what} snapshot (bad header: {error})", "snapshot") from error
        if layout != FORMAT:
            raise InvalidInput(
                f"{what} snapshot in layout {layout}, which this version does not read "
                f"(it reads layout {FORMAT})",
                "snapshot",
            )
        start = head + length
        self._buffers = memoryview(data)[start + _padded(start) :]
        self._parts: Mapping[str, Mapping[str, Any]] = parts
        self._columns: Mapping[str, list[Any]] = columns
        self._strings: npt.NDArray[np.object_] | None = None
        for name, (_kind, _count, places) in columns.items():
            for offset, size in places:
                if offset < 0 or size < 0 or offset + size > self._buffers.nbytes:
                    raise InvalidInput(f"not {what} snapshot (column {name} is cut)", "snapshot")

    def _string_table(self) -> npt.NDArray[np.object_]:
        """The distinct strings, then None (code -1), decoded once."""
        if self._strings is None:
            count, buffers = self._column(STRING_TABLE, "table")
            offsets, data = (pa.py_buffer(buffer) for buffer in buffers)
            table = pa.LargeStringArray.from_buffers(count, offsets, data)
            try:
                table.validate(full=True)
            except pa.ArrowInvalid as error:
                raise InvalidInput(
                    f"not {self._what} snapshot (its strings are cut: {error})", "snapshot"
                ) from error
            strings = np.empty(count + 1, dtype=object)  # the last one, None, is code -1
            strings[:count] = table.to_numpy(zero_copy_only=False)
            self._strings = strings
        return self._strings

    def part(self, name: str, version: int) -> PartReader:
        """The part `name`, which must be of `version`."""
        part = self._parts.get(name)
        if part is None:
            raise InvalidInput(f"not {self._what} snapshot (it has no {name} part)", "snapshot")
        if part["version"] != version:
            raise InvalidInput(
                f"{self._what} snapshot with {name} version {part['version']}, which this "
                f"version does not read (it reads version {version})",
                "snapshot",
            )
        return PartReader(self, name, part["meta"])

    def _column(self, name: str, kind: str) -> tuple[int, list[memoryview]]:
        column = self._columns.get(name)
        if column is None or column[0] != kind:
            raise InvalidInput(f"not {self._what} snapshot (no {kind} column {name})", "snapshot")
        _, count, places = column
        return count, [self._buffers[offset : offset + size] for offset, size in places]


class PartReader:
    """Reads the columns of one part."""

    def __init__(self, reader: SnapshotReader, name: str, meta: Meta) -> None:
        self._reader = reader
        self._prefix = f"{name}."
        self.meta = meta

    def ints(self, name: str) -> I64:
        """A read-only view of the column's bytes."""
        count, (data,) = self._reader._column(self._prefix + name, "int")
        return np.frombuffer(data, np.int64, count)

    def optional_ints(self, name: str) -> list[int | None]:
        count, (data, bits) = self._reader._column(self._prefix + name, "optional_int")
        values = np.frombuffer(data, np.int64, count).astype(object)
        present = np.unpackbits(np.frombuffer(bits, np.uint8), count=count, bitorder="little")
        values[present == 0] = None
        return values.tolist()  # type: ignore[no-any-return]

    def bytes(self, name: str) -> memoryview:
        _, (data,) = self._reader._column(self._prefix + name, "bytes")
        return data

    def strings(self, name: str) -> list[str | None]:
        count, (raw,) = self._reader._column(self._prefix + name, "strings")
        table = self._reader._string_table()
        codes = np.frombuffer(raw, np.int32, count)
        if count and (codes.min() < -1 or codes.max() >= len(table) - 1):
            raise ValueError(f"column {self._prefix}{name} has codes beyond its strings")
        return table[codes].tolist()  # type: ignore[no-any-return]
