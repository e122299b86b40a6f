"""The rule packs as the console shows them: every version with its place in the registry,
one pack, the difference of two, and how often each version decided.

How often a version decided is read from the decisions themselves, so the pages tell what
actually happened; a member counts its own decisions, everyone else the region's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import aggregate_scope
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput
from fundwall.engine import registry
from fundwall.engine.registry import PackRecord, PackStatus
from fundwall.engine.rules import PackDiff, RulePack, diff_packs
from fundwall.rulepacks.library import PackFile, PackLibrary
from fundwall.store.tables import DecisionRow, TransactionRow
from fundwall.store.uow import UnitOfWork

_ORDER: Final = {PackStatus.LIVE: 0, PackStatus.SHADOW: 1}


@dataclass(frozen=True, slots=True)
class PackEntry:
    """One version: its pack, its file (if any) and its registry record (if registered)."""

    pack: RulePack
    file: PackFile | None
    record: PackRecord | None

    @property
    def status(self) -> PackStatus | None:
        return self.record.status if self.record is not None else None

    @property
    def shipped(self) -> bool:
        return self.file is not None and self.file.path is None

    @property
    def promoted(self) -> tuple[datetime, str] | None:
        if self.record is None or self.record.promoted_at is None:
            return None
        return self.record.promoted_at, self.record.promoted_by or ""


@use_case(Permission.VIEW_RULE_PACKS)
def pack_library(
    uow: UnitOfWork, actor: Actor, library: PackLibrary
) -> tuple[list[PackEntry], list[InvalidInput]]:
    """Every version the console knows, live first, then shadow, then the others; and the
    problems of pack files that cannot be read."""
    packs, problems = library.scan()
    records = {record.version: record for record in registry.pack_records(uow.session)}
    entries = [PackEntry(f.pack, f, records.pop(f.pack.version, None)) for f in packs]
    entries += [
        PackEntry(registry.get_pack(uow.session, version), None, record)
        for version, record in records.items()
    ]
    entries.sort(key=lambda entry: _ORDER.get(entry.status, 2) if entry.status else 2)
    return entries, problems


@use_case(Permission.VIEW_RULE_PACKS)
def pack_of(uow: UnitOfWork, actor: Actor, library: PackLibrary, version: str) -> RulePack:
    """The pack of `version`: a file of the library, else a registered version."""
    return library.get(version, uow.session)


@use_case(Permission.VIEW_RULE_PACKS)
def pack_diff(
    uow: UnitOfWork, actor: Actor, library: PackLibrary, before: str, after: str
) -> PackDiff:
    """Rules and policy changed from version `before` to version `after`."""
    return diff_packs(library.get(before, uow.session), library.get(after, uow.session))


@dataclass(frozen=True, slots=True)
class PackUse:
    """How often a version decided, live and in shadow, and when it last did."""

    version: str
    live: int
    shadow: int
    last_decided_at: datetime | None


@use_case(Permission.VIEW_RULE_PACKS)
def pack_use(uow: UnitOfWork, actor: Actor) -> dict[str, PackUse]:
    """Decisions per pack version, counted in the actor's aggregate scope."""
    scope = aggregate_scope(actor)
    query = (
        select(
            DecisionRow.pack_version,
            func.count().filter(DecisionRow.shadow.is_(False)),
            func.count().filter(DecisionRow.shadow.is_(True)),
            func.max(DecisionRow.decided_at),
        )
        .select_from(DecisionRow)
        .group_by(DecisionRow.pack_version)
    )
    if scope is not None:
        query = query.join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id).where(scope)
    return {
        version: PackUse(version, live, shadow, last)
        for version, live, shadow, last in uow.session.execute(query).all()
    }
