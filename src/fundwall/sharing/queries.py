"""The SQL pieces the sharing use cases share: an entry as an actor sees it, the entries in
force, a member's suspension, the sharing key versions, the month of a time."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.crypto import parse_shared_hash
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.sharing.model import EntryStatus, EntryView, EventKind, FeedEvent
from fundwall.store.audit import AuditRecord
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.sharing_tables import PublishingSuspensionRow, RiskListEventRow, ShareKeyRow
from fundwall.store.uow import UnitOfWork

_CHUNK = 1_000
"""Ids per UPDATE … IN (…): well under both databases' limits on bound parameters."""


def sees_all(actor: Actor) -> bool:
    """The hub (an actor of no member: its supervisors, the operator) sees every entry's
    reporter and notes; a member sees those of its own entries only."""
    return actor.member is None


def status_of(row: RiskListEntryRow, now: datetime) -> EntryStatus:
    if row.retracted_at is not None:
        return EntryStatus.RETRACTED
    if row.valid_until is not None and row.valid_until <= now:
        return EntryStatus.EXPIRED
    if row.valid_from > now:
        return EntryStatus.PENDING
    return EntryStatus.ACTIVE


def entry_row(uow: UnitOfWork, entry_id: int) -> RiskListEntryRow:
    """The entry `entry_id` (any member's: what the caller may see of it is `entry_view`'s)."""
    row = uow.session.get(RiskListEntryRow, entry_id)
    if row is None:
        raise NotFound("risk list entry", str(entry_id))
    return row


def entry_view(row: RiskListEntryRow, actor: Actor, now: datetime) -> EntryView:
    """`row` as `actor` may see it (see `fundwall.sharing.model`)."""
    own = actor.member is not None and row.reporting_member == actor.member
    private = own or sees_all(actor)
    return EntryView(
        id=row.id,
        kind=ListKind(row.kind),
        key=row.key,
        bank=row.bank,
        category=RiskCategory(row.category),
        evidence=Evidence(row.evidence),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        status=status_of(row, now),
        retracted_at=row.retracted_at,
        own=own,
        reporting_member=row.reporting_member if private else None,
        reference=row.reference if private else None,
        note=row.note if private else None,
        retract_reason=row.retract_reason if private else None,
    )


def in_force(now: datetime) -> ColumnElement[bool]:
    """The entries in force at `now`: begun, not ended, not retracted."""
    return (
        (RiskListEntryRow.valid_from <= now)
        & or_(RiskListEntryRow.valid_until.is_(None), RiskListEntryRow.valid_until > now)
        & RiskListEntryRow.retracted_at.is_(None)
    )


def has_status(status: EntryStatus, now: datetime) -> ColumnElement[bool]:
    """The entries whose status at `now` is `status` (as `status_of` tells it of one)."""
    entry = RiskListEntryRow
    if status is EntryStatus.ACTIVE:
        return in_force(now)
    if status is EntryStatus.RETRACTED:
        return entry.retracted_at.is_not(None)
    expired = entry.valid_until.is_not(None) & (entry.valid_until <= now)
    if status is EntryStatus.EXPIRED:
        return entry.retracted_at.is_(None) & expired
    return entry.retracted_at.is_(None) & ~expired & (entry.valid_from > now)


def suspension(session: Session, member: str) -> PublishingSuspensionRow | None:
    """The member's publishing suspension in effect, if any."""
    query = select(PublishingSuspensionRow).where(
        PublishingSuspensionRow.member == member, PublishingSuspensionRow.lifted_at.is_(None)
    )
    return session.scalars(query.limit(1)).first()


def key_versions(session: Session) -> dict[int, datetime | None]:
    """Every sharing key version the hub made, with when it was retired (None: accepted)."""
    rows = session.execute(select(ShareKeyRow.version, ShareKeyRow.retired_at))
    return {version: retired for version, retired in rows}


def check_versions(versions: dict[int, datetime | None], used: Collection[int], field: str) -> None:
    """InvalidInput naming `field` unless every version in `used` is one the hub accepts."""
    for version in sorted(used):
        if version not in versions:
            known = ", ".join(f"v{v}" for v in versions if versions[v] is None) or "none yet"
            raise InvalidInput(
                f"made with sharing key version {version}, which the hub does not know "
                f"(accepted: {known})",
                field,
            )
        retired = versions[version]
        if retired is not None:
            current = max((v for v, r in versions.items() if r is None), default=None)
            again = f"hash it again with v{current}" if current else "no version is accepted"
            raise InvalidInput(
                f"made with sharing key version {version}, retired on "
                f"{retired.date().isoformat()}: {again}",
                field,
            )


def key_version(kind: ListKind, key: str) -> int | None:
    """The sharing key version of a hashed kind's key (None for a kind that travels raw)."""
    return parse_shared_hash(key)[0] if kind.hash_kind is not None else None


def month_of(dialect: str, column: Any) -> ColumnElement[str]:
    """The Beijing month of a UTC time column as text ("2024-03"), on SQLite or PostgreSQL."""
    if dialect == "sqlite":
        # Stored as naive UTC text; China has kept UTC+8 without daylight saving since 1991.
        return func.strftime("%Y-%m", column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")


def feed_query() -> Select[RiskListEventRow, RiskListEntryRow]:
    """The feed's events with their entries (to be filtered and ordered)."""
    return select(RiskListEventRow, RiskListEntryRow).join(
        RiskListEntryRow, RiskListEntryRow.id == RiskListEventRow.entry_id
    )


def feed_events(
    uow: UnitOfWork, actor: Actor, query: Select[RiskListEventRow, RiskListEntryRow]
) -> list[FeedEvent]:
    """The events `query` (a `feed_query`) finds, each entry as `actor` may see it."""
    now = uow.clock.now()
    return [
        FeedEvent(event.id, EventKind(event.event), event.at, entry_view(row, actor, now))
        for event, row in uow.session.execute(query).all()
    ]


def mark_retracted(uow: UnitOfWork, record: AuditRecord, ids: Sequence[int], reason: str) -> None:
    """Retract the entries `ids` as of `record` (its time, actor and revision), for `reason`."""
    for start in range(0, len(ids), _CHUNK):
        uow.session.execute(
            update(RiskListEntryRow)
            .where(RiskListEntryRow.id.in_(ids[start : start + _CHUNK]))
            .values(
                retracted_at=record.ts,
                retracted_by=record.actor,
                retract_reason=reason,
                revision=record.seq,
            )
        )


def write_events(
    uow: UnitOfWork, record: AuditRecord, events: Sequence[tuple[int, EventKind]]
) -> None:
    """One feed event per (entry, kind), at `record`'s time and revision."""
    if events:
        uow.session.connection().execute(
            RiskListEventRow.metadata.tables[RiskListEventRow.__tablename__].insert(),
            [
                {
                    "entry_id": entry_id,
                    "event": event.value,
                    "at": record.ts,
                    "revision": record.seq,
                }
                for entry_id, event in events
            ],
        )
