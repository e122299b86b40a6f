"""The hub's in-memory index of the risk list, for bulk matching (批量比对).

Every entry not retracted or expired when read is held as fixed-width columns: a 128-bit
fingerprint of its (kind, key), its kind, key version, bank, category, evidence, reporting
member, validity and id. A shared hash's fingerprint is the first 128 bits of the hash itself
(already a keyed SM3 output; the version and kind are compared besides); a key that travels
raw (account, device, IP, merchant) is fingerprinted with BLAKE2b-128. Matching a file is
then array work: fingerprint the file's keys, `searchsorted` them in the sorted fingerprints,
and compare the few candidates' low halves, kinds, versions, banks and validity; no Python
per row for shared hashes.

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


def hash_words(digits: pa.Array) -> tuple[U64, U64]:
    """The first 128 bits of 64-hex-digit strings (all valid, none null) as two uint64."""
    fixed = pc.cast(digits, pa.binary(64))
    data = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
    start = fixed.offset * 64
    chars = data[start : start + 64 * len(fixed)].reshape(-1, 64)
    nibbles = _HEX[chars[:, :32]].astype(np.uint64)
    words = []
    for half in (nibbles[:, :16], nibbles[:, 16:]):
        word = np.zeros(len(fixed), dtype=np.uint64)
        for column in range(16):
            word = (word << np.uint64(4)) | half[:, column]
        words.append(word)
    return words[0], words[1]


def raw_words(kind: ListKind, keys: Sequence[str]) -> tuple[U64, U64]:
    """BLAKE2b-128 of each raw key, separated by its kind, as two uint64."""
    label = kind.value.encode() + b"\x00"
    joined = b"".join(
        hashlib.blake2b(label + key.encode("utf-8"), digest_size=16).digest() for key in keys
    )
    pairs = np.frombuffer(joined, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


@dataclass(frozen=True)
class Columns:
    """Entries as the index holds them, one array each, aligned."""

    hi: U64
    lo: U64
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
        return self.take(np.lexsort((self.lo, self.hi)))

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def _empty() -> Columns:
    return Columns(
        np.zeros(0, np.uint64),
        np.zeros(0, np.uint64),
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
    """Identifiers to look up, aligned: their row in the input, fingerprint, kind, version
    (0 for raw kinds) and bank code (-1: none given; -2: a bank no entry names)."""

    row: I64
    hi: U64
    lo: U64
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

    def __init__(self) -> None:
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
            if len(self._recent) > max(_MERGE_AT_LEAST, len(self._base) // _MERGE_SHARE):
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
        lo = np.zeros(n, dtype=np.uint64)
        kinds = np.fromiter((KINDS.index(ListKind(r[1])) for r in rows), np.uint8, n)
        keys = [str(r[2]) for r in rows]
        for k, kind in enumerate(KINDS):
            where = np.flatnonzero(kinds == k)
            if not len(where):
                continue
            chosen = [keys[i] for i in where]
            if kind.hash_kind is not None:
                digits = pa.array([key.partition(":")[2] for key in chosen], pa.string())
                hi[where], lo[where] = hash_words(digits)
            else:
                hi[where], lo[where] = raw_words(kind, chosen)
        return Columns(
            hi,
            lo,
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
        for segment, masked in ((base, stale), (recent, None)):
            if not len(segment):
                continue
            left = np.searchsorted(segment.hi, probes.hi, side="left")
            right = np.searchsorted(segment.hi, probes.hi, side="right")
            counts = right - left
            total = int(counts.sum())
            if not total:
                continue
            which = np.repeat(np.arange(len(counts)), counts)
            firsts = np.repeat(left - (np.cumsum(counts) - counts), counts)
            positions = firsts + np.arange(total)
            hits = segment.take(positions)
            keep = (
                (hits.lo == probes.lo[which])
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
