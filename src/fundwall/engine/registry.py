"""The rule-pack registry (规则包版本库): every pack version the engine may run, and which one
decides live and which one runs in shadow beside it.

A pack is registered from its YAML file (validated completely, stored byte for byte with its
SHA-256), then promoted to live or set as the shadow pack. This module is the registry's
storage: what the engine reads (`running_packs`, `get_pack`; the newest revision with the
other kinds', `fundwall.engine.revisions`) and the row changes, each stamped with the audit
record its caller wrote. The changes are made by the use cases of
`fundwall.rulepacks.registry`, which check the actor's right, and, on first use, by
`ensure_live`. The row carries the audit record's sequence number as its `revision`, so a
running decision service notices a change and switches packs on the next transaction.
Statuses:

- `registered`: known, not running;
- `live`: decides (exactly one once the engine has run; the shipped default pack is
  registered and promoted on first use);
- `shadow`: decides beside the live pack, logged with `shadow=True`, never enforced (at most
  one);
- `retired`: was live and was replaced; may be promoted again (a rollback).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib.resources import files
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundwall.domain.errors import NotFound
from fundwall.engine.rules import RulePack
from fundwall.engine.rules.loader import DEFAULT_PACK, parsed_pack
from fundwall.store.audit import AuditRecord
from fundwall.store.engine_tables import SOURCE, RulePackRow
from fundwall.store.uow import UnitOfWork

ENGINE_ACTOR: Final = "system:engine"
"""Who registers and promotes the shipped default pack on first use."""
SHIPPED_SOURCE: Final = f"fundwall/engine/rules/{DEFAULT_PACK}"
"""How the registry names the shipped pack's source."""


class PackStatus(StrEnum):
    REGISTERED = "registered"
    LIVE = "live"
    SHADOW = "shadow"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class PackRecord:
    """A registered pack version as the registry lists it."""

    version: str
    pack_id: str
    declared_version: str
    digest: str
    source: str
    status: PackStatus
    registered_at: datetime
    registered_by: str
    promoted_at: datetime | None
    promoted_by: str | None
    rules: int

    @classmethod
    def of(cls, row: RulePackRow) -> PackRecord:
        return cls(
            version=row.version,
            pack_id=row.pack_id,
            declared_version=row.declared_version,
            digest=row.digest,
            source=row.source,
            status=PackStatus(row.status),
            registered_at=row.registered_at,
            registered_by=row.registered_by,
            promoted_at=row.promoted_at,
            promoted_by=row.promoted_by,
            rules=len(parsed_pack(row.content, row.source).active),
        )


def registration_details(pack: RulePack, source: str) -> dict[str, Any]:
    """What the audit record of a registration says about the pack."""
    return {"pack": pack.id, "digest": pack.digest, "rules": len(pack.active), "source": source}


def pack_records(session: Session) -> list[PackRecord]:
    """Every registered version, oldest first."""
    rows = session.scalars(select(RulePackRow).order_by(RulePackRow.registered_at))
    return [PackRecord.of(row) for row in rows]


def pack_row(session: Session, version: str) -> RulePackRow:
    """The row of a registered version; NotFound otherwise."""
    row = session.get(RulePackRow, version)
    if row is None:
        raise NotFound("rule pack version", version)
    return row


def row_of_digest(session: Session, digest: str) -> RulePackRow | None:
    """The row holding exactly this content (by its SHA-256), if registered."""
    return session.scalar(select(RulePackRow).where(RulePackRow.digest == digest))


def holder(session: Session, status: PackStatus) -> RulePackRow | None:
    """The live or the shadow pack's row (None where there is none)."""
    return session.scalar(select(RulePackRow).where(RulePackRow.status == status.value))


def add_pack(
    session: Session, pack: RulePack, content: bytes, source: str, record: AuditRecord
) -> RulePackRow:
    """Store a validated pack as registered, stamped with `record` (its registration)."""
    row = RulePackRow(
        version=pack.version,
        pack_id=pack.id,
        declared_version=pack.declared_version,
        digest=pack.digest,
        content=content,
        source=source[-SOURCE:],
        status=PackStatus.REGISTERED.value,
        registered_at=record.ts,
        registered_by=record.actor,
        promoted_at=None,
        promoted_by=None,
        revision=record.seq,
    )
    session.add(row)
    return row


def make_live(row: RulePackRow, previous: RulePackRow | None, record: AuditRecord) -> None:
    """Make `row` the live pack and retire `previous` (the live one until now), stamped with
    `record` (the promotion)."""
    if previous is not None:
        previous.status = PackStatus.RETIRED.value
        previous.revision = record.seq
    row.status = PackStatus.LIVE.value
    row.promoted_at = record.ts
    row.promoted_by = record.actor
    row.revision = record.seq


def make_shadow(row: RulePackRow | None, previous: RulePackRow | None, record: AuditRecord) -> None:
    """Run `row` in shadow (None: no pack) and send `previous` (the shadow pack until now)
    back to registered, stamped with `record`."""
    if previous is not None:
        previous.status = PackStatus.REGISTERED.value
        previous.revision = record.seq
    if row is not None:
        row.status = PackStatus.SHADOW.value
        row.revision = record.seq


def get_pack(session: Session, version: str) -> RulePack:
    """The compiled pack of a registered version."""
    row = pack_row(session, version)
    return parsed_pack(row.content, row.source)


def running_packs(session: Session) -> tuple[RulePack | None, RulePack | None]:
    """The live and the shadow pack (None where there is none)."""
    live, shadow = (holder(session, status) for status in (PackStatus.LIVE, PackStatus.SHADOW))
    return (
        parsed_pack(live.content, live.source) if live is not None else None,
        parsed_pack(shadow.content, shadow.source) if shadow is not None else None,
    )


def shipped_content() -> bytes:
    """The YAML of the pack Fundwall ships (the default pack)."""
    return files("fundwall.engine.rules").joinpath(DEFAULT_PACK).read_bytes()


def _register_and_promote(uow: UnitOfWork, pack: RulePack, content: bytes) -> None:
    session = uow.session
    row = row_of_digest(session, pack.digest)
    if row is None:
        registered = uow.audit.record(
            ENGINE_ACTOR,
            "register_rule_pack",
            f"rule_pack:{pack.version}",
            registration_details(pack, SHIPPED_SOURCE),
        )
        row = add_pack(session, pack, content, SHIPPED_SOURCE, registered)
    promoted = uow.audit.record(
        ENGINE_ACTOR,
        "promote_rule_pack",
        f"rule_pack:{row.version}",
        {"previous": None, "was": row.status},
    )
    make_live(row, None, promoted)
    uow.commit()


def ensure_live(uow: UnitOfWork) -> tuple[RulePack, RulePack | None]:
    """The live and shadow packs; on first use, the shipped default pack is registered (if
    it is not) and promoted by `ENGINE_ACTOR`, audited, so the engine always has a live
    pack."""
    live, shadow = running_packs(uow.session)
    if live is not None:
        return live, shadow
    session = uow.session
    content = shipped_content()
    pack = parsed_pack(content, SHIPPED_SOURCE)
    try:
        _register_and_promote(uow, pack, content)
    except IntegrityError:
        # Another process (a replica starting beside this one) registered the same pack at
        # the same moment; its registration stands.
        uow.rollback()
    live, shadow = running_packs(session)
    assert live is not None
    return live, shadow
