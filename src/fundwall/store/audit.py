"""The audit log (审计日志): append-only and hash-chained, so any change shows.

Each record carries `seq` (1, 2, 3 … without gaps), `ts` (UTC), `actor`, `action`,
`subject`, `details` (canonical JSON), `prev_hash` (the hash of record seq-1, or 64 zeros
for the first) and `hash`, the SM3 digest of the canonical encoding of all of these:

    JSON array [1, seq, ts, actor, action, subject, details, prev_hash]
    with ts as "YYYY-MM-DDTHH:MM:SS.ffffff+00:00", no spaces, UTF-8

SM3 rather than SHA-256: the rest of Fundwall's protection of data already uses the national
algorithms (SM3-HMAC, SM4-GCM) that Chinese financial regulators expect in a commercial
cryptography assessment (密评); one family keeps that assessment simple. SM3 has the same
256-bit output and security level as SHA-256, and any auditor can recompute it with OpenSSL
(`openssl dgst -sm3`).

Appending happens in the caller's transaction: the chain-head row is updated first, which
locks it on PostgreSQL and takes the write lock on SQLite, so concurrent writers queue up and
cannot fork the chain. Nothing raw and personal enters a record: see `personal_data`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from fundwall.clock import Clock
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.store.audit_chain import (
    ChainReport,
    ProgressCallback,
    canonical_json,
    record_hash,
    verify_chain,
)
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.tables import AuditHeadRow, AuditRow, Base

_LIMITS = {"actor": 128, "action": 64, "subject": 256}


_HEAD = Base.metadata.tables[AuditHeadRow.__tablename__]
# Bumping the head's seq first locks the head row (PostgreSQL) or takes the write lock
# (SQLite) before the previous hash is read, so two appenders can never read the same head.
_CLAIM_NEXT_SEQ = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_INSERT_RECORD = insert(Base.metadata.tables[AuditRow.__tablename__])
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))


class AuditActor(Protocol):
    """Anything that can say who it is in the audit log (a user, a system job)."""

    @property
    def audit_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record of the audit log as stored."""

    seq: int
    ts: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditRow) -> AuditRecord:
        return cls(
            seq=row.seq,
            ts=row.ts,
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            details=json.loads(row.details),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


def _checked_text(name: str, value: str) -> str:
    if not value or value != value.strip():
        raise InvalidInput("must be non-empty text without surrounding spaces", name)
    if len(value) > _LIMITS[name]:
        raise InvalidInput(f"longer than {_LIMITS[name]} characters", name)
    ensure_no_personal_data(value, name)
    return value


class AuditLog:
    """The audit log as seen from one unit of work: `uow.audit`."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def record(
        self,
        actor: str | AuditActor,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one record in the current transaction; it stands or falls with the change.

        `actor` is who acted ("user:alice@B001", "system:expiry"), `action` what they did
        ("stop_payment", "unmask_id"), `subject` on what ("account:6222…1234", "case:C42").
        `details` must hold masked values or keyed hashes only: a raw ID or phone number is
        refused with InvalidInput.
        """
        actor_id = _checked_text("actor", actor if isinstance(actor, str) else actor.audit_id)
        action = _checked_text("action", action)
        subject = _checked_text("subject", subject)
        details_json = canonical_json(details or {})
        ensure_no_personal_data(json.loads(details_json), "details")
        ts = self._clock.now().astimezone(UTC)

        # Core statements built once: appending sits on every audited service call.
        connection = self._session.connection()
        head = connection.execute(_CLAIM_NEXT_SEQ).one_or_none()
        if head is None:
            raise Conflict("the audit chain head is missing: run `fundwall audit verify`")
        seq, prev_hash = head
        record = AuditRecord(
            seq=seq,
            ts=ts,
            actor=actor_id,
            action=action,
            subject=subject,
            details=json.loads(details_json),
            prev_hash=prev_hash,
            hash=record_hash(
                seq=seq,
                ts=ts,
                actor=actor_id,
                action=action,
                subject=subject,
                details=details_json,
                prev_hash=prev_hash,
            ),
        )
        connection.execute(
            _INSERT_RECORD,
            {
                "seq": seq,
                "ts": ts,
                "actor": actor_id,
                "action": action,
                "subject": subject,
                "details": details_json,
                "prev_hash": prev_hash,
                "hash": record.hash,
            },
        )
        connection.execute(_MOVE_HEAD, {"new_hash": record.hash})
        return record

    def tail(self, count: int = 20) -> list[AuditRecord]:
        """The latest `count` records, oldest first."""
        if count < 1:
            raise InvalidInput("must be at least 1", "count")
        rows = self._session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(count))
        return [AuditRecord.of(row) for row in reversed(rows.all())]

    def verify(self, on_progress: ProgressCallback | None = None) -> ChainReport:
        """Walk the whole chain; see `fundwall.store.audit_verify.verify_chain`."""
        return verify_chain(self._session.connection(), on_progress=on_progress)
