"""The hub's in-memory index of the risk list, for bulk matching (批量比对).

Every entry not retracted or expired when read is held as fixed-width columns: a 256-bit
digest of its key, its kind, key version, bank, category, evidence, reporting member,
validity and id. A shared hash's digest is the hash itself (the version and kind are compared
besides); a key that travels raw (account, device, IP, merchant) is digested with
BLAKE2b-256, separated by its kind. So a match is exact: a member cannot make one hash hit
another's entry by sharing a prefix with it. Matching a file is then array work: digest the
file's keys, `searchsorted` their first words (sorted first) in the index's sorted first
words, and compare the few candidates' other words, kinds, versions, banks and validity; no
Python per row for shared hashes.

The index keeps current by revision, as the decision service does: each use refreshes it
with the entries whose revision is above the last it read. A changed entry's old copy is
masked out and its current copy (if still in force) joins a small recent segment; when that
grows past a twentieth of the base, both are merged into a new base (one sort).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.features.inputs import micros
from fundwall.store.engine_tables import RiskListEntryRow

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]

KINDS: Final = tuple(ListKind)
CATEGORIES: Final = tuple(RiskCategory)
EVIDENCE: Final = tuple(Evidence)
NO_END: Final = np.iinfo(np.int64).max
_MERGE_SHARE: Final = 20
_MERGE_AT_LEAST: Final = 50_000
_HEX: Final = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i


@dataclass(frozen=True)
class SharedKeys:
    """Shared hashes (`vN:<64 hex>`) read as arrays: which were well formed, their version,
    and each hash's 256 bits as its first uint64 and the three others (zero where not well
    formed)."""

    valid: npt.NDArray[np.bool_]
    version: I32
    hi: U64
    rest: U64


def shared_keys(keys: pa.Array) -> SharedKeys:
    """Check and decode a column of shared hashes (no nulls) with numpy over its bytes: the
    keys of each length (one, usually) form a matrix of characters, checked and decoded by
    lookup tables, without a Python step per key."""
    n = len(keys)
    valid = np.zeros(n, dtype=np.bool_)
    version = np.zeros(n, dtype=np.int32)
    words = np.zeros((n, 4), dtype=np.uint64)
    strings = pc.cast(keys, pa.string())
    lengths = pc.utf8_length(strings).to_numpy(zero_copy_only=False)
    for length in np.unique(lengths):
        digits = int(length) - 66  # "v", the version's digits, ":", 64 hex digits
        if not 1 <= digits <= 6:
            continue
        rows = np.flatnonzero(lengths == length)
        part = strings if len(rows) == n else pc.take(strings, pa.array(rows))
        offsets = np.frombuffer(part.buffers()[1], dtype=np.int32)[part.offset :]
        data = np.frombuffer(part.buffers()[2], dtype=np.uint8)
        chars = data[offsets[0] : offsets[0] + int(length) * len(part)].reshape(-1, int(length))
        number = chars[:, 1 : 1 + digits].astype(np.int32) - ord("0")
        nibbles = _HEX[chars[:, 2 + digits :]]
        ok = (chars[:, 0] == ord("v")) & (chars[:, 1 + digits] == ord(":"))
        ok &= ((number >= 0) & (number <= 9)).all(axis=1) & (number[:, 0] != 0)
        ok &= (nibbles < 16).all(axis=1)
        value = np.zeros(len(rows), dtype=np.int32)
        for column in range(digits):
            value = value * 10 + number[:, column]
        halves = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
        decoded = np.ascontiguousarray(halves).view(">u8").astype(np.uint64)
        valid[rows], version[rows] = ok, np.where(ok, value, 0)
        words[rows] = np.where(ok[:, None], decoded, 0)
    return SharedKeys(valid, version, words[:, 0].copy(), words[:, 1:].copy())


def raw_words(kind: ListKind, keys: Sequence[str]) -> tuple[U64, U64]:
    """BLAKE2b-256 of each raw key, separated by its kind, as its first uint64 and the three
    others."""
    label = kind.value.encode() + b"\x00"
    joined = b"".join(hashlib.blake2b(label + key.encode("utf-8")).digest()[:32] for key in keys)
    words = np.frombuffer(joined, dtype=">u8").reshape(-1, 4).astype(np.uint64)
    return np.ascontiguousarray(words[:, 0]), np.ascontiguousarray(words[:, 1:])


@dataclass(frozen=True)
class Columns:
    """Entries as the index holds them, one array each, aligned: the first uint64 of the
    key's 256-bit digest (`hi`, what the index is sorted by) and its other three (`rest`)."""

    hi: U64
    rest: U64
    kind: U8
    version: I32
    bank: I32
    category: U8
    evidence: U8
    member: I32
    start: I64
    end: I64
    entry: I64

    def __len__(self) -> int:
        return len(self.entry)

    def take(self, order: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Columns:
        return Columns(*(getattr(self, f.name)[order] for f in fields(self)))

    @classmethod
    def concat(cls, parts: Sequence[Columns]) -> Columns:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def sorted(self) -> Columns:
        return self.take(np.argsort(self.hi, kind="stable"))

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def _empty() -> Columns:
    return Columns(
        np.zeros(0, np.uint64),
        np.zeros((0, 3), np.uint64),
        np.zeros(0, np.uint8),
        np.zeros(0, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0, np.uint8),
        np.zeros(0, np.uint8),
        np.zeros(0, np.int32),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
    )


@dataclass(frozen=True)
class Probes:
    """Identifiers to look up, aligned: their row in the input, digest, kind, version
    (0 for raw kinds) and bank code (-1: none given; -2: a bank no entry names)."""

    row: I64
    hi: U64
    rest: U64
    kind: U8
    version: I32
    bank: I32


@dataclass(frozen=True)
class Found:
    """Hits: the probe's row, and the entry's position in `columns` (a sorted segment)."""

    row: I64
    columns: Columns


class RiskIndex:
    """The risk list in memory for bulk matching; see the module docstring. Thread-safe."""

    def __init__(self, *, merge_at_least: int = _MERGE_AT_LEAST) -> None:
        """`merge_at_least`: the recent segment is merged into the base once it holds more
        entries than this and than a twentieth of the base."""
        self._merge_at_least = merge_at_least
        self._lock = threading.Lock()
        self.revision = -1
        self._base = _empty()
        self._recent: dict[int, tuple[Any, ...]] = {}
        self._recent_columns = _empty()
        self._stale = np.zeros(0, dtype=np.int64)
        self.banks: dict[str, int] = {}
        self.members: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._base) - len(self._stale) + len(self._recent)

    def memory_bytes(self) -> int:
        """The index's arrays (the dictionaries of banks and members are small)."""
        return self._base.nbytes() + self._recent_columns.nbytes() + self._stale.nbytes

    def refresh(self, session: Session, now: datetime) -> None:
        """Read the entries changed since the last refresh (all of them the first time)."""
        with self._lock:
            head = int(session.scalar(select(func.max(RiskListEntryRow.revision))) or 0)
            if head == self.revision:
                return
            query = select(
                RiskListEntryRow.id,
                RiskListEntryRow.kind,
                RiskListEntryRow.key,
                RiskListEntryRow.key_version,
                RiskListEntryRow.bank,
                RiskListEntryRow.category,
                RiskListEntryRow.evidence,
                RiskListEntryRow.reporting_member,
                RiskListEntryRow.valid_from,
                RiskListEntryRow.valid_until,
            ).where(
                RiskListEntryRow.retracted_at.is_(None),
                or_(RiskListEntryRow.valid_until.is_(None), RiskListEntryRow.valid_until > now),
            )
            if self.revision < 0:
                rows = session.execute(query.where(RiskListEntryRow.revision <= head)).all()
                self._base = self._columns(rows).sorted()
                self.revision = head
                return
            changed = list(
                session.scalars(
                    select(RiskListEntryRow.id).where(
                        RiskListEntryRow.revision > self.revision,
                        RiskListEntryRow.revision <= head,
                    )
                )
            )
            live = session.execute(query.where(RiskListEntryRow.id.in_(changed))).all()
            self._stale = np.union1d(self._stale, np.asarray(changed, dtype=np.int64))
            for entry_id in changed:
                self._recent.pop(entry_id, None)
            for row in live:
                self._recent[row[0]] = tuple(row)
            self.revision = head
            if len(self._recent) > max(self._merge_at_least, len(self._base) // _MERGE_SHARE):
                kept = self._base.take(~np.isin(self._base.entry, self._stale))
                self._base = Columns.concat([kept, self._columns(list(self._recent.values()))])
                self._base = self._base.sorted()
                self._recent.clear()
                self._stale = np.zeros(0, dtype=np.int64)
                self._recent_columns = _empty()
            else:
                self._recent_columns = self._columns(list(self._recent.values())).sorted()

    def _code(self, codes: dict[str, int], value: str | None) -> int:
        if value is None:
            return -1
        return codes.setdefault(value, len(codes))

    def _columns(self, rows: Sequence[Sequence[Any]]) -> Columns:
        """Rows of (id, kind, key, version, bank, category, evidence, member, from, until)."""
        n = len(rows)
        if not n:
            return _empty()
        hi = np.zeros(n, dtype=np.uint64)
        rest = np.zeros((n, 3), dtype=np.uint64)
        kinds = np.fromiter((KINDS.index(ListKind(r[1])) for r in rows), np.uint8, n)
        keys = [str(r[2]) for r in rows]
        for k, kind in enumerate(KINDS):
            where = np.flatnonzero(kinds == k)
            if not len(where):
                continue
            chosen = [keys[i] for i in where]
            if kind.hash_kind is not None:
                decoded = shared_keys(pa.array(chosen, pa.string()))
                hi[where], rest[where] = decoded.hi, decoded.rest
            else:
                hi[where], rest[where] = raw_words(kind, chosen)
        return Columns(
            hi,
            rest,
            kinds,
            np.fromiter((r[3] or 0 for r in rows), np.int32, n),
            np.fromiter((self._code(self.banks, r[4]) for r in rows), np.int32, n),
            np.fromiter((CATEGORIES.index(RiskCategory(r[5])) for r in rows), np.uint8, n),
            np.fromiter((EVIDENCE.index(Evidence(r[6])) for r in rows), np.uint8, n),
            np.fromiter((self._code(self.members, r[7]) for r in rows), np.int32, n),
            np.fromiter((micros(r[8], "valid_from") for r in rows), np.int64, n),
            np.fromiter(
                (NO_END if r[9] is None else micros(r[9], "valid_until") for r in rows),
                np.int64,
                n,
            ),
            np.fromiter((r[0] for r in rows), np.int64, n),
        )

    def bank_code(self, bank: str | None) -> int:
        """A probe's bank: -1 none given, -2 one that no entry names."""
        if bank is None:
            return -1
        return self.banks.get(bank, -2)

    def match(self, probes: Probes, now_us: int) -> Found:
        """The entries in force at `now_us` that each probe names."""
        with self._lock:
            base, recent, stale = self._base, self._recent_columns, self._stale
        rows: list[I64] = []
        found: list[Columns] = []
        order = np.argsort(probes.hi, kind="stable")  # sorted needles: a cache-friendly search
        wanted = probes.hi[order]
        for segment, masked in ((base, stale), (recent, None)):
            if not len(segment):
                continue
            left = np.searchsorted(segment.hi, wanted, side="left")
            inside = left < len(segment)
            seen = np.flatnonzero(inside)[segment.hi[left[inside]] == wanted[inside]]
            if not len(seen):
                continue
            first = left[seen]
            counts = np.searchsorted(segment.hi, wanted[seen], side="right") - first
            which = order[np.repeat(seen, counts)]
            total = int(counts.sum())
            positions = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(total)
            hits = segment.take(positions)
            keep = (
                (hits.rest == probes.rest[which]).all(axis=1)
                & (hits.kind == probes.kind[which])
                & (hits.version == probes.version[which])
                & (hits.start <= now_us)
                & (now_us < hits.end)
            )
            bank = probes.bank[which]
            keep &= (bank == -1) | (hits.bank == -1) | (hits.bank == bank)
            if masked is not None and len(masked):
                keep &= ~np.isin(hits.entry, masked)
            rows.append(probes.row[which][keep])
            found.append(hits.take(keep))
        if not found:
            return Found(np.zeros(0, dtype=np.int64), _empty())
        merged = Columns.concat(found)
        row = np.concatenate(rows)
        order = np.lexsort((merged.entry, row))
        return Found(row[order], merged.take(order))
