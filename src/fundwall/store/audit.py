"""The audit log (审计日志): append-only and hash-chained, so any change shows.

Each record carries `seq` (1, 2, 3 … without gaps), `ts` (UTC), `actor`, `action`,
`subject`, `details` (canonical JSON), `prev_hash` (the hash of record seq-1, or 64 zeros
for the first), `version` and `hash`, the HMAC-SM3 under the audit key (which is kept outside
the database, see `fundwall.store.audit_seal`) of the label "fundwall/audit-record/v2", a zero
byte and the canonical encoding of all of these:

    JSON array [2, seq, ts, actor, action, subject, details, prev_hash]
    with ts as "YYYY-MM-DDTHH:MM:SS.ffffff+00:00", no spaces, UTF-8

Records written before the chain was keyed keep version 1: plain SM3 of the same array with
1 in front, verified as before.

After each commit that appended records (or every `audit.checkpoint_every` records), the new
head is signed into the checkpoint file outside the database, so that a chain cut short
and moved back shows. Written after the commit, never before: a rolled-back record must not
be vouched for.

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

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from fundwall.clock import Clock
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.store.audit_chain import (
    KEYED_VERSION,
    ChainReport,
    ProgressCallback,
    canonical_json,
    keyed_hash,
    verify_chain,
)
from fundwall.store.audit_seal import AuditSeal, Checkpoint, deployment_seal
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
    version: int

    @classmethod
    def of(cls, row: AuditRow) -> AuditRecord:
        return cls(
            seq=row.seq,
            version=row.version,
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
    """The audit log as seen from one unit of work: `uow.audit`.

    `seal` holds the audit key and the checkpoint file; by default the deployment's
    (`fundwall.store.audit_seal.deployment_seal`), read when first needed.
    """

    def __init__(self, session: Session, clock: Clock, seal: AuditSeal | None = None) -> None:
        self._session = session
        self._clock = clock
        self._seal = seal
        # (first seq, last seq, last hash) appended in the open transaction.
        self._uncommitted: tuple[int, int, str] | None = None
        self._hooked = False

    @property
    def seal(self) -> AuditSeal:
        if self._seal is None:
            self._seal = deployment_seal()
        return self._seal

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
        seal = self.seal

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
            version=KEYED_VERSION,
            hash=keyed_hash(
                seal,
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
                "version": KEYED_VERSION,
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
        self._remember_for_checkpoint(seq, record.hash)
        return record

    def _remember_for_checkpoint(self, seq: int, hash: str) -> None:
        first = seq if self._uncommitted is None else self._uncommitted[0]
        self._uncommitted = (first, seq, hash)
        if not self._hooked:
            event.listen(self._session, "after_commit", self._checkpoint_committed)
            event.listen(self._session, "after_rollback", self._forget_uncommitted)
            self._hooked = True

    def _checkpoint_committed(self, _session: Session) -> None:
        appended, self._uncommitted = self._uncommitted, None
        if appended is None:
            return
        first, last, hash = appended
        seal = self.seal
        if seal.checkpoint_due(first, last):
            seal.append_after_commit(seal.checkpoint(last, hash, self._clock.now()))

    def _forget_uncommitted(self, _session: Session) -> None:
        self._uncommitted = None

    def tail(self, count: int = 20) -> list[AuditRecord]:
        """The latest `count` records, oldest first."""
        if count < 1:
            raise InvalidInput("must be at least 1", "count")
        rows = self._session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(count))
        return [AuditRecord.of(row) for row in reversed(rows.all())]

    def verify(self, on_progress: ProgressCallback | None = None) -> ChainReport:
        """Walk the whole chain and hold it against the signed checkpoints; see
        `fundwall.store.audit_chain.verify_chain`."""
        return verify_chain(self._session.connection(), seal=self.seal, on_progress=on_progress)

    def checkpoint(self) -> tuple[ChainReport, Checkpoint | None]:
        """Verify the chain, then sign its head into the checkpoint file: never vouch for a
        chain that is not intact. No checkpoint when it is broken or empty."""
        report = self.verify()
        if not report.intact or report.records == 0:
            return report, None
        seal = self.seal
        checkpoint = seal.checkpoint(report.records, report.head_hash, self._clock.now())
        seal.append(checkpoint)
        return report, checkpoint
