"""Changing the rule-pack registry: register a version, promote one to live, run one in
shadow; and listing it.

Registering, promoting and shadowing are the hub supervisor's right (`PROMOTE_RULE_PACKS`);
the console and `fundwall packs` call these same functions. Each change writes its row and
an audit record in one transaction (`register_rule_pack`, `promote_rule_pack`,
`set_shadow_rule_pack`), and the running decision service switches packs on its next
transaction. Given the console's `PackLibrary`, promoting or shadowing a version that is a
file of the library but not registered yet registers it first, in the same transaction.
"""

from __future__ import annotations

from pathlib import Path

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.engine import registry
from fundwall.engine.registry import PackRecord, PackStatus
from fundwall.engine.rules import parse_pack
from fundwall.rulepacks.library import PackLibrary
from fundwall.store.engine_tables import RulePackRow
from fundwall.store.uow import UnitOfWork


def _content(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, name or "uploaded pack"
    path = Path(source)
    try:
        return path.read_bytes(), name or str(path)
    except OSError as error:
        raise InvalidInput(f"cannot read rule pack {path}: {error.strerror}", "source") from None


def _register(uow: UnitOfWork, actor: Actor, content: bytes, shown: str) -> PackRecord:
    """Validate and store a pack with its audit record, uncommitted (the caller commits)."""
    pack = parse_pack(content, shown)
    known = registry.row_of_digest(uow.session, pack.digest)
    if known is not None:
        return PackRecord.of(known)
    record = uow.audit.record(
        actor,
        "register_rule_pack",
        f"rule_pack:{pack.version}",
        registry.registration_details(pack, shown),
    )
    row = registry.add_pack(uow.session, pack, content, shown, record)
    uow.session.flush()
    return PackRecord.of(row)


@use_case(Permission.PROMOTE_RULE_PACKS)
def register_pack(
    uow: UnitOfWork, actor: Actor, source: str | Path | bytes, *, name: str | None = None
) -> PackRecord:
    """Validate a pack file (a path, or its bytes named `name`) and register its version.

    Registering the same content again changes nothing and returns its record.
    """
    content, shown = _content(source, name)
    record = _register(uow, actor, content, shown)
    uow.commit()
    return record


def _from_library(uow: UnitOfWork, actor: Actor, library: PackLibrary | None, version: str) -> None:
    """Register `version` from its file in `library` (or the shipped pack) unless it is
    registered already or the library does not have it."""
    if library is None or uow.session.get(RulePackRow, version) is not None:
        return
    found = library.file(version)
    if found is None:
        return
    if found.path is None:
        _register(uow, actor, registry.shipped_content(), registry.SHIPPED_SOURCE)
    else:
        content, shown = _content(found.path, None)
        _register(uow, actor, content, shown)


@use_case(Permission.PROMOTE_RULE_PACKS)
def promote(
    uow: UnitOfWork, actor: Actor, version: str, library: PackLibrary | None = None
) -> PackRecord:
    """Make `version` the live pack; the previous live pack is retired (promoting a retired
    version again is a rollback)."""
    _from_library(uow, actor, library, version)
    session = uow.session
    row = registry.pack_row(session, version)
    if row.status == PackStatus.LIVE:
        raise Conflict(f"rule pack {version} is live already")
    previous = registry.holder(session, PackStatus.LIVE)
    record = uow.audit.record(
        actor,
        "promote_rule_pack",
        f"rule_pack:{version}",
        {"previous": previous.version if previous else None, "was": row.status},
    )
    registry.make_live(row, previous, record)
    uow.commit()
    return PackRecord.of(row)


@use_case(Permission.PROMOTE_RULE_PACKS)
def set_shadow(
    uow: UnitOfWork, actor: Actor, version: str | None, library: PackLibrary | None = None
) -> PackRecord | None:
    """Run `version` in shadow beside the live pack (None: no shadow pack); the previous
    shadow pack goes back to registered."""
    session = uow.session
    row = None
    if version is not None:
        _from_library(uow, actor, library, version)
        row = registry.pack_row(session, version)
    if row is not None and row.status == PackStatus.LIVE:
        raise Conflict(f"rule pack {version} is live; a shadow pack runs beside the live one")
    previous = registry.holder(session, PackStatus.SHADOW)
    if previous is row:
        return PackRecord.of(row) if row is not None else None
    record = uow.audit.record(
        actor,
        "set_shadow_rule_pack",
        f"rule_pack:{version or 'none'}",
        {"previous": previous.version if previous else None},
    )
    registry.make_shadow(row, previous, record)
    uow.commit()
    return PackRecord.of(row) if row is not None else None


@use_case(Permission.VIEW_RULE_PACKS)
def list_packs(uow: UnitOfWork, actor: Actor) -> list[PackRecord]:
    """Every registered version, oldest first."""
    return registry.pack_records(uow.session)
