"""Rule-pack versions with their place in the engine's registry, and changing that place.

A version the console knows may be a file of the pack folder, the shipped default pack, a
version registered in the engine's registry (`fundwall.engine.registry`), or several of these.
Promoting one to live, or running one in shadow, is the hub supervisor's right; a version not
yet registered is registered first. The registry audits each change, and the running decision
service switches packs on its next transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine import registry
from fundwall.engine.registry import PackRecord, PackStatus
from fundwall.engine.rules import RulePack
from fundwall.engine.rules.loader import DEFAULT_PACK
from fundwall.store import UnitOfWork
from fundwall.web.data.packs import PackFile, PackLibrary

SHIPPED_NAME: Final = f"fundwall/engine/rules/{DEFAULT_PACK}"
"""How the registry names the shipped pack (as the engine registers it on first use)."""
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


def pack_entries(
    uow: UnitOfWork, actor: Actor, library: PackLibrary
) -> tuple[list[PackEntry], list[InvalidInput]]:
    """Every version the console knows, live first, then shadow, then the others; and the
    problems of pack files that cannot be read."""
    actor.require(Permission.VIEW_RULE_PACKS)
    packs, problems = library.scan()
    records = {record.version: record for record in registry.list_packs(uow.session)}
    entries = [PackEntry(f.pack, f, records.pop(f.pack.version, None)) for f in packs]
    entries += [
        PackEntry(registry.get_pack(uow.session, version), None, record)
        for version, record in records.items()
    ]
    entries.sort(key=lambda entry: _ORDER.get(entry.status, 2) if entry.status else 2)
    return entries, problems


def _registered(uow: UnitOfWork, actor: Actor, library: PackLibrary, version: str) -> None:
    """Register `version` from its file (or the shipped pack) unless it is registered."""
    if any(record.version == version for record in registry.list_packs(uow.session)):
        return
    found = next((f for f in library.packs() if f.pack.version == version), None)
    if found is None:
        raise NotFound("rule pack version", version)
    if found.path is None:
        content = files("fundwall.engine.rules").joinpath(DEFAULT_PACK).read_bytes()
        registry.register_pack(uow, actor, content, name=SHIPPED_NAME)
    else:
        registry.register_pack(uow, actor, found.path)


def promote_version(
    uow: UnitOfWork, actor: Actor, library: PackLibrary, version: str
) -> PackRecord:
    """Make `version` the live pack (registering it first if needed); audited, committed."""
    actor.require(Permission.PROMOTE_RULE_PACKS)
    _registered(uow, actor, library, version)
    return registry.promote(uow, actor, version)


def shadow_version(
    uow: UnitOfWork, actor: Actor, library: PackLibrary, version: str | None
) -> PackRecord | None:
    """Run `version` in shadow beside the live pack, or none (`None`); audited, committed."""
    actor.require(Permission.PROMOTE_RULE_PACKS)
    if version is not None:
        _registered(uow, actor, library, version)
    return registry.set_shadow(uow, actor, version)
