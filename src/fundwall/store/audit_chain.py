"""The hash chain of the audit log: canonical encoding, record hash, and verification.

A record's hash covers every field, `seq` and `prev_hash` included, and is keyed: HMAC-SM3
under the audit key, which lives outside the database (`fundwall.store.audit_seal`). So:

- changing any stored field breaks that record's own hash → **altered**;
- removing a record leaves a gap in `seq` (or a chain head pointing past the end) → **deleted**;
- moving records (swapping their `seq`, or their contents) leaves a record whose `prev_hash`
  names a record other than its predecessor → **reordered**;
- a record rewritten *and re-hashed* no longer matches the `prev_hash` its successor (or the
  chain head) recorded → **altered**, naming the rewritten record;
- a chain re-hashed from an edit onwards needs the key; without it the first rewritten
  record's keyed hash fails → **altered**; re-hashed as unkeyed (legacy) records, it differs
  from the signed checkpoints → **altered**;
- a tail cut off with the head moved back leaves a chain shorter than the last signed
  checkpoint → **deleted**; a checkpoint line not signed with the key → **forged**.

Versions: records written before the chain was keyed carry version 1 (plain SM3, unkeyed) and
still verify so; every record since carries version 2 (keyed). Version 1 may only come before
version 2: an unkeyed record after a keyed one is a rewrite.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from sqlalchemy import Connection, func, select

from fundwall.domain.errors import InvalidInput
from fundwall.store.audit_seal import (
    RECORD_LABEL,
    AuditSeal,
    BadCheckpoint,
    Checkpoint,
    deployment_seal,
)
from fundwall.store.tables import AuditHeadRow, AuditRow

GENESIS_HASH = "0" * 64
LEGACY_VERSION = 1
"""Plain SM3, unkeyed: the records written before the chain was keyed."""
KEYED_VERSION = 2
"""HMAC-SM3 under the audit key: every record written since."""
VERIFY_BATCH = 2000

ProgressCallback = Callable[[int], None]
BreakKind = Literal["altered", "deleted", "reordered", "inserted", "forged"]


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


def _encoded(
    version: int,
    seq: int,
    ts: datetime,
    actor: str,
    action: str,
    subject: str,
    details: str,
    prev_hash: str,
) -> bytes:
    return json.dumps(
        [version, seq, canonical_ts(ts), actor, action, subject, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def keyed_hash(
    seal: AuditSeal,
    *,
    seq: int,
    ts: datetime,
    actor: str,
    action: str,
    subject: str,
    details: str,
    prev_hash: str,
) -> str:
    """Version 2: HMAC-SM3 under the audit key of the record label, a zero byte and the
    canonical encoding of every field, `details` given as canonical JSON."""
    encoded = _encoded(KEYED_VERSION, seq, ts, actor, action, subject, details, prev_hash)
    return seal.mac(RECORD_LABEL, encoded)


def legacy_hash(
    *,
    seq: int,
    ts: datetime,
    actor: str,
    action: str,
    subject: str,
    details: str,
    prev_hash: str,
) -> str:
    """Version 1, for records written before the chain was keyed: plain SM3 of the same
    encoding, which anyone can recompute."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(_encoded(LEGACY_VERSION, seq, ts, actor, action, subject, details, prev_hash))
    return digest.finalize().hex()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first bad record found: its seq, what happened to it, and the evidence.

    A forged checkpoint names its line in the checkpoint file (`line`) and the seq it claims.
    """

    seq: int
    kind: BreakKind
    detail: str
    line: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"checkpoint line {self.line} {self.kind}: {self.detail}"
        return f"record {self.seq} {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of walking the chain: how many records are sound, and the first break;
    how many signed checkpoints it was held against, and the highest seq among them."""

    records: int
    head_hash: str
    problem: ChainBreak | None
    checkpoints: int = 0
    checkpointed_seq: int = 0

    @property
    def intact(self) -> bool:
        return self.problem is None


_COLUMNS = (
    AuditRow.seq,
    AuditRow.version,
    AuditRow.ts,
    AuditRow.actor,
    AuditRow.action,
    AuditRow.subject,
    AuditRow.details,
    AuditRow.prev_hash,
    AuditRow.hash,
)


def _own_hash(row: Any, seal: AuditSeal) -> str:
    fields = {
        "seq": row.seq,
        "ts": row.ts,
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "details": row.details,
        "prev_hash": row.prev_hash,
    }
    if row.version == KEYED_VERSION:
        return keyed_hash(seal, **fields)
    return legacy_hash(**fields)


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
    connection: Connection,
    *,
    seal: AuditSeal | None = None,
    on_progress: ProgressCallback | None = None,
) -> ChainReport:
    """Walk the audit log in seq order and report the first record that breaks the chain,
    then hold the chain against every signed checkpoint.

    `seal` gives the audit key and the checkpoint file (default: the deployment's). Safe
    while others append: the checkpoint file's length, then the chain head, are read first,
    and only records up to that head and checkpoints up to that length are judged; what is
    appended meanwhile is left for the next run. `on_progress(n)` is told the number of
    records checked, every few thousand.
    """
    seal = seal if seal is not None else deployment_seal()
    checkpoint_bytes = seal.checkpoint_file_size()
    head = connection.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
    ).one_or_none()
    if head is None:
        first = connection.scalar(select(func.min(AuditRow.seq))) or 1
        return ChainReport(
            0, GENESIS_HASH, ChainBreak(first, "deleted", "the chain head row is gone")
        )

    count, prev_hash, problem = _walk(connection, seal, head.seq, on_progress)
    if problem is not None:
        return ChainReport(count, prev_hash, problem)
    if count < head.seq:
        return ChainReport(count, prev_hash, _gap(count + 1, head.seq + 1))
    if head.hash != prev_hash:
        detail = "its hash differs from the chain head's: it was rewritten and re-hashed"
        return ChainReport(count - 1, prev_hash, ChainBreak(count, "altered", detail))
    report = _check_beyond_head(connection, count, prev_hash)
    if report.problem is not None:
        return report
    return _check_checkpoints(connection, seal, report, checkpoint_bytes)


def _walk(
    connection: Connection,
    seal: AuditSeal,
    last_seq: int,
    on_progress: ProgressCallback | None,
) -> tuple[int, str, ChainBreak | None]:
    """Check records 1..last_seq in order: (records found sound, last sound hash, break)."""
    expected, prev_hash, keyed = 1, GENESIS_HASH, False
    query = select(*_COLUMNS).where(AuditRow.seq <= last_seq).order_by(AuditRow.seq)
    rows = connection.execute(query.execution_options(yield_per=VERIFY_BATCH))
    try:
        for row in rows:
            if row.seq != expected:
                return expected - 1, prev_hash, _gap(expected, row.seq)
            if row.prev_hash != prev_hash:
                return expected - 1, prev_hash, _bad_link(connection, row)
            problem = _version_problem(row.seq, row.version, keyed)
            if problem is None and _own_hash(row, seal) != row.hash:
                problem = ChainBreak(
                    row.seq, "altered", "its stored hash does not match its contents"
                )
            if problem is not None:
                return expected - 1, prev_hash, problem
            keyed = row.version == KEYED_VERSION
            prev_hash = row.hash
            if on_progress is not None and expected % VERIFY_BATCH == 0:
                on_progress(expected)
            expected += 1
    finally:
        rows.close()
    return expected - 1, prev_hash, None


def _version_problem(seq: int, version: int, after_keyed: bool) -> ChainBreak | None:
    if version not in (LEGACY_VERSION, KEYED_VERSION):
        return ChainBreak(seq, "altered", f"it claims hash version {version}, which none has")
    if version == LEGACY_VERSION and after_keyed:
        detail = "an unkeyed record after keyed ones: it was re-hashed without the audit key"
        return ChainBreak(seq, "altered", detail)
    return None


def _check_beyond_head(connection: Connection, count: int, head_hash: str) -> ChainReport:
    # Read the newest seq before the head again: a genuine append commits its record and the
    # head together, so any record above the re-read head was written around the audit log.
    newest = connection.scalar(select(func.max(AuditRow.seq)))
    head_now = connection.scalar(select(AuditHeadRow.seq).where(AuditHeadRow.id == 1))
    if newest is not None and head_now is not None and newest > head_now:
        detail = f"it lies beyond the chain head (seq {head_now}): added outside the audit log"
        return ChainReport(count, head_hash, ChainBreak(head_now + 1, "inserted", detail))
    return ChainReport(count, head_hash, None)


def _check_checkpoints(
    connection: Connection, seal: AuditSeal, report: ChainReport, size: int
) -> ChainReport:
    """Hold an intact chain (`report`) against the first `size` bytes of the checkpoint file:
    every line must carry the audit key's signature, and the chain must hold each
    checkpointed record with the signed hash. Reads the file in batches, so its length does
    not bound memory."""
    lines = seal.read(size)
    count, highest = 0, 0
    while batch := list(islice(lines, VERIFY_BATCH)):
        signed = [item for item in batch if isinstance(item, Checkpoint)]
        wanted = {checkpoint.seq for checkpoint in signed}
        stored = {
            seq: hash
            for seq, hash in connection.execute(
                select(AuditRow.seq, AuditRow.hash).where(AuditRow.seq.in_(wanted))
            )
        }
        for item in batch:
            problem = _checkpoint_problem(connection, report.records, item, stored)
            if problem is not None:
                # A forged line leaves the chain sound; a mismatch puts the break at its seq.
                records = report.records if problem.line else min(report.records, problem.seq - 1)
                return ChainReport(records, report.head_hash, problem, count, highest)
            count += 1
            highest = max(highest, item.seq)
    return replace(report, checkpoints=count, checkpointed_seq=highest)


def _checkpoint_problem(
    connection: Connection,
    records: int,
    item: Checkpoint | BadCheckpoint,
    stored: dict[int, str],
) -> ChainBreak | None:
    if isinstance(item, BadCheckpoint):
        return ChainBreak(item.seq, "forged", item.reason, line=item.line)
    signed_at = f"checkpoint line {item.line}, signed {item.time}"
    if item.seq > records:
        # Appended since the chain head was read? Ask outside this transaction's snapshot.
        with connection.engine.connect() as fresh:
            now = fresh.scalar(select(AuditRow.hash).where(AuditRow.seq == item.seq))
        if now is None:
            return ChainBreak(
                records + 1,
                "deleted",
                f"the chain ends at seq {records}, but {signed_at}, holds seq {item.seq}: "
                f"records from seq {records + 1} on were deleted and the chain head moved back",
            )
        stored = {item.seq: now}
    if stored.get(item.seq) != item.hash:
        return ChainBreak(
            item.seq,
            "altered",
            f"its hash differs from the one in {signed_at}: the chain was rewritten up to "
            "here, or restored from an older copy",
        )
    return None
