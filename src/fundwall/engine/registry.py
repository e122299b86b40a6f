"""The rule-pack registry (规则包版本库): every pack version the engine may run, and which one
decides live and which one runs in shadow beside it.

A pack is registered from its YAML file (validated completely, stored byte for byte with its
SHA-256), then promoted to live or set as the shadow pack. Each change is one audited unit of
work; the row carries the audit record's sequence number as its `revision`, so a running
decision service notices it and switches packs on the next transaction. Statuses:

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
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.engine.rules import RulePack, parse_pack
from fundwall.engine.rules.loader import DEFAULT_PACK
from fundwall.store.audit import AuditActor
from fundwall.store.engine_tables import SOURCE, RulePackRow
from fundwall.store.uow import UnitOfWork

ENGINE_ACTOR: Final = "system:engine"
"""Who registers and promotes the shipped default pack on first use."""
Actor = str | AuditActor


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
            rules=len(_parsed(row.content, row.source).active),
        )


@lru_cache(maxsize=32)
def _parsed(content: bytes, source: str) -> RulePack:
    return parse_pack(content, source)


def _content(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "uploaded pack"
    path = Path(source)
    try:
        return path.read_bytes(), name or str(path)
    except OSError as error:
        raise InvalidInput(f"cannot read rule pack {path}: {error.strerror}", "source") from None


def register_pack(
    uow: UnitOfWork, actor: Actor, source: str | Path | bytes, *, name: str | None = None
) -> PackRecord:
    """Validate a pack file (a path, or its bytes named `name`) and register its version.

    Registering the same content again changes nothing and returns its record.
    """
    content, shown = _content(source, name)
    pack = parse_pack(content, shown)
    known = uow.session.scalar(select(RulePackRow).where(RulePackRow.digest == pack.digest))
    if known is not None:
        return PackRecord.of(known)
    record = uow.audit.record(
        actor,
        "register_rule_pack",
        f"rule_pack:{pack.version}",
        {"pack": pack.id, "digest": pack.digest, "rules": len(pack.active), "source": shown},
    )
    row = RulePackRow(
        version=pack.version,
        pack_id=pack.id,
        declared_version=pack.declared_version,
        digest=pack.digest,
        content=content,
        source=shown[-SOURCE:],
        status=PackStatus.REGISTERED.value,
        registered_at=record.ts,
        registered_by=record.actor,
        promoted_at=None,
        promoted_by=None,
        revision=record.seq,
    )
    uow.session.add(row)
    uow.commit()
    return PackRecord.of(row)


def _row(session: Session, version: str) -> RulePackRow:
    row = session.get(RulePackRow, version)
    if row is None:
        raise NotFound("rule pack version", version)
    return row


def _holder(session: Session, status: PackStatus) -> RulePackRow | None:
    return session.scalar(select(RulePackRow).where(RulePackRow.status == status.value))


def promote(uow: UnitOfWork, actor: Actor, version: str) -> PackRecord:
    """Make `version` the live pack; the previous live pack is retired."""
    session = uow.session
    row = _row(session, version)
    if row.status == PackStatus.LIVE:
        raise Conflict(f"rule pack {version} is live already")
    previous = _holder(session, PackStatus.LIVE)
    record = uow.audit.record(
        actor,
        "promote_rule_pack",
        f"rule_pack:{version}",
        {"previous": previous.version if previous else None, "was": row.status},
    )
    if previous is not None:
        previous.status = PackStatus.RETIRED.value
        previous.revision = record.seq
    row.status = PackStatus.LIVE.value
    row.promoted_at = record.ts
    row.promoted_by = record.actor
    row.revision = record.seq
    uow.commit()
    return PackRecord.of(row)


def set_shadow(uow: UnitOfWork, actor: Actor, version: str | None) -> PackRecord | None:
    """Run `version` in shadow beside the live pack (None: no shadow pack); the previous
    shadow pack goes back to registered."""
    session = uow.session
    row = _row(session, version) if version is not None else None
    if row is not None and row.status == PackStatus.LIVE:
        raise Conflict(f"rule pack {version} is live; a shadow pack runs beside the live one")
    previous = _holder(session, PackStatus.SHADOW)
    if previous is row:
        return PackRecord.of(row) if row is not None else None
    record = uow.audit.record(
        actor,
        "set_shadow_rule_pack",
        f"rule_pack:{version or 'none'}",
        {"previous": previous.version if previous else None},
    )
    if previous is not None:
        previous.status = PackStatus.REGISTERED.value
        previous.revision = record.seq
    if row is not None:
        row.status = PackStatus.SHADOW.value
        row.revision = record.seq
    uow.commit()
    return PackRecord.of(row) if row is not None else None


def list_packs(session: Session) -> list[PackRecord]:
    """Every registered version, oldest first."""
    rows = session.scalars(select(RulePackRow).order_by(RulePackRow.registered_at))
    return [PackRecord.of(row) for row in rows]


def get_pack(session: Session, version: str) -> RulePack:
    """The compiled pack of a registered version."""
    row = _row(session, version)
    return _parsed(row.content, row.source)


def running_packs(session: Session) -> tuple[RulePack | None, RulePack | None]:
    """The live and the shadow pack (None where there is none)."""
    live, shadow = (_holder(session, status) for status in (PackStatus.LIVE, PackStatus.SHADOW))
    return (
        _parsed(live.content, live.source) if live is not None else None,
        _parsed(shadow.content, shadow.source) if shadow is not None else None,
    )


def last_revision(session: Session) -> int:
    """The revision of the latest change to the registry (0 when empty)."""
    return int(session.scalar(select(func.max(RulePackRow.revision))) or 0)


def ensure_live(uow: UnitOfWork) -> tuple[RulePack, RulePack | None]:
    """The live and shadow packs; on first use, the shipped default pack is registered and
    promoted so the engine always has a live pack."""
    live, shadow = running_packs(uow.session)
    if live is not None:
        return live, shadow
    content = files("fundwall.engine.rules").joinpath(DEFAULT_PACK).read_bytes()
    record = register_pack(uow, ENGINE_ACTOR, content, name=f"fundwall/engine/rules/{DEFAULT_PACK}")
    promote(uow, ENGINE_ACTOR, record.version)
    live, shadow = running_packs(uow.session)
    assert live is not None
    return live, shadow
