"""The hash chain of the audit log: canonical encoding, record hash, and verification.

A record's hash covers every field, `seq` and `prev_hash` included, so:

- changing any stored field breaks that record's own hash → **altered**;
- removing a record leaves a gap in `seq` (or a chain head pointing past the end) → **deleted**;
- moving records (swapping their `seq`, or their contents) leaves a record whose `prev_hash`
  names a record other than its predecessor → **reordered**;
- a record rewritten *and re-hashed* no longer matches the `prev_hash` its successor (or the
  chain head) recorded → **altered**, naming the rewritten record.

An attacker able to rewrite the whole table could recompute every hash; the head hash that
`fundwall audit verify` prints, kept outside the database (a report, a ticket), closes that gap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from sqlalchemy import Connection, func, select

from fundwall.domain.errors import InvalidInput
from fundwall.store.tables import AuditHeadRow, AuditRow

GENESIS_HASH = "0" * 64
ENCODING_VERSION = 1
VERIFY_BATCH = 2000

ProgressCallback = Callable[[int], None]
BreakKind = Literal["altered", "deleted", "reordered", "inserted"]


def _reject_floats_that_json_cannot_keep(value: object, field: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{value} cannot be recorded; use a finite number", field)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"keys must be text, not {type(key).__name__}", field)
            _reject_floats_that_json_cannot_keep(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_floats_that_json_cannot_keep(item, f"{field}[{index}]")


def canonical_json(details: Mapping[str, Any]) -> str:
    """The one spelling of `details` that is stored and hashed: sorted keys, no spaces."""
    _reject_floats_that_json_cannot_keep(details, "details")
    try:
        return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except TypeError as error:
        raise InvalidInput(
            f"only text, numbers, true/false, null, lists and objects can be recorded ({error})",
            "details",
        ) from None


def canonical_ts(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    *,
    seq: int,
    ts: datetime,
    actor: str,
    action: str,
    subject: str,
    details: str,
    prev_hash: str,
) -> str:
    """SM3 over the canonical encoding of every field, `details` given as canonical JSON."""
    encoded = json.dumps(
        [ENCODING_VERSION, seq, canonical_ts(ts), actor, action, subject, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    digest = hashes.Hash(hashes.SM3())
    digest.update(encoded)
    return digest.finalize().hex()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first bad record found: its seq, what happened to it, and the evidence."""

    seq: int
    kind: BreakKind
    detail: str

    def __str__(self) -> str:
        return f"record {self.seq} {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of walking the chain: how many records are sound, and the first break."""

    records: int
    head_hash: str
    problem: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.problem is None


_COLUMNS = (
    AuditRow.seq,
    AuditRow.ts,
    AuditRow.actor,
    AuditRow.action,
    AuditRow.subject,
    AuditRow.details,
    AuditRow.prev_hash,
    AuditRow.hash,
)


def _own_hash(row: Any) -> str:
    return record_hash(
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
    )


def _bad_link(connection: Connection, row: Any) -> ChainBreak:
    """Record `row` does not follow its predecessor: say whether it was moved or rewritten."""
    owner = connection.scalar(
        select(AuditRow.seq).where(AuditRow.hash == row.prev_hash).order_by(AuditRow.seq).limit(1)
    )
    if owner is not None and owner != row.seq - 1:
        return ChainBreak(
            row.seq,
            "reordered",
            f"it links to record {owner}, so it belongs at seq {owner + 1}, not after "
            f"record {row.seq - 1}",
        )
    return ChainBreak(
        row.seq - 1,
        "altered",
        f"its hash differs from the one record {row.seq} links to: it was rewritten and "
        "re-hashed, or replaced",
    )


def _gap(expected: int, found: int) -> ChainBreak:
    missing = str(expected) if found == expected + 1 else f"{expected}–{found - 1}"
    return ChainBreak(expected, "deleted", f"seq {missing} missing before record {found}")


def verify_chain(
    connection: Connection, *, on_progress: ProgressCallback | None = None
) -> ChainReport:
    """Walk the audit log in seq order and report the first record that breaks the chain.

    Safe while others append: the chain head is read first and only records up to it are
    judged; records appended meanwhile are left for the next run. `on_progress(n)` is told
    the number of records checked, every few thousand.
    """
    head = connection.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    ).one_or_none()
    if head is None:
        first = connection.scalar(select(func.min(AuditRow.seq))) or 1
        return ChainReport(
            0, GENESIS_HASH, ChainBreak(first, "deleted", "the chain head row is gone")
        )

    count, prev_hash, problem = _walk(connection, head.seq, on_progress)
    if problem is not None:
        return ChainReport(count, prev_hash, problem)
    if count < head.seq:
        return ChainReport(count, prev_hash, _gap(count + 1, head.seq + 1))
    if head.hash != prev_hash:
        detail = "its hash differs from the chain head's: it was rewritten and re-hashed"
        return ChainReport(count - 1, prev_hash, ChainBreak(count, "altered", detail))
    return _check_beyond_head(connection, count, prev_hash)


def _walk(
    connection: Connection, last_seq: int, on_progress: ProgressCallback | None
) -> tuple[int, str, ChainBreak | None]:
    """Check records 1..last_seq in order: (records found sound, last sound hash, break)."""
    expected, prev_hash = 1, GENESIS_HASH
    query = select(*_COLUMNS).where(AuditRow.seq <= last_seq).order_by(AuditRow.seq)
    rows = connection.execute(query.execution_options(yield_per=VERIFY_BATCH))
    try:
        for row in rows:
            if row.seq != expected:
                return expected - 1, prev_hash, _gap(expected, row.seq)
            if row.prev_hash != prev_hash:
                return expected - 1, prev_hash, _bad_link(connection, row)
            if _own_hash(row) != row.hash:
                detail = "its stored hash does not match its contents"
                return expected - 1, prev_hash, ChainBreak(row.seq, "altered", detail)
            prev_hash = row.hash
            if on_progress is not None and expected % VERIFY_BATCH == 0:
                on_progress(expected)
            expected += 1
    finally:
        rows.close()
    return expected - 1, prev_hash, None


def _check_beyond_head(connection: Connection, count: int, head_hash: str) -> ChainReport:
    # Read the newest seq before the head again: a genuine append commits its record and the
    # head together, so any record above the re-read head was written around the audit log.
    newest = connection.scalar(select(func.max(AuditRow.seq)))
    head_now = connection.scalar(select(AuditHeadRow.seq).where(AuditHeadRow.id == 1))
    if newest is not None and head_now is not None and newest > head_now:
        detail = f"it lies beyond the chain head (seq {head_now}): added outside the audit log"
        return ChainReport(count, head_hash, ChainBreak(head_now + 1, "inserted", detail))
    return ChainReport(count, head_hash, None)
