"""The regional sharing keys (区域共享密钥): the hub makes a version per rotation, exports it
to members, and retires old ones.

A version's key is a file under the keys directory (`fundwall.crypto.SharingKeys`); the
store's `share_keys` says which versions exist and which the hub still accepts. After a
rotation new entries and queries use the newest version; entries made under an older one
stay in force, and the engine keeps matching them (it hashes its customers under every
accepted version), until their reporter re-publishes them under the new one
(`entries_to_rekey`, then a publication with `replaces`: the hub cannot re-hash, it never
had the raw value) or the version is retired. Retiring a version retracts the entries still
under it, so members and the engine drop them at once, and refuses its hashes from then on.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import SharingKeys
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.engine.controls.changes import sharing_keys, stated_reason
from fundwall.sharing.model import EventKind, KeyVersion
from fundwall.sharing.queries import in_force, mark_retracted, write_events
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.sharing_tables import ShareKeyRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.MANAGE_RISK_LIST)
def rotate_sharing_key(uow: UnitOfWork, actor: Actor, keys_dir: Path) -> int:
    """Make the next sharing key version (a new random key file under `keys_dir`); new
    hashes use it from now on. Returns the version."""
    newest = uow.session.scalar(select(func.max(ShareKeyRow.version))) or 0
    version = newest + 1
    path = SharingKeys.create(keys_dir, version)
    try:
        record = uow.audit.record(actor, "rotate_sharing_key", f"sharing_key:v{version}", {})
        uow.session.add(
            ShareKeyRow(
                version=version,
                created_at=record.ts,
                created_by=record.actor,
                revision=record.seq,
            )
        )
        uow.commit()
    except BaseException:
        path.unlink()  # the version was not recorded: its file must not linger
        raise
    return version


@use_case(Permission.MANAGE_RISK_LIST)
def retire_sharing_key(uow: UnitOfWork, actor: Actor, version: int, reason: str) -> int:
    """Stop accepting version `version`: its entries still in force are retracted (with an
    event each, so the feed and the engine drop them) and its hashes refused from now on.
    The newest version cannot be retired (rotate first). Returns how many were retracted."""
    row = uow.session.get(ShareKeyRow, version)
    if row is None:
        raise NotFound("sharing key version", str(version))
    if row.retired_at is not None:
        raise Conflict(f"sharing key version {version} was retired already")
    newest = uow.session.scalar(select(func.max(ShareKeyRow.version)))
    if version == newest:
        raise Conflict(f"v{version} is the newest sharing key version: rotate before retiring it")
    why = stated_reason(reason)
    now = uow.clock.now()
    ids = list(
        uow.session.scalars(
            select(RiskListEntryRow.id).where(
                RiskListEntryRow.key_version == version, in_force(now)
            )
        )
    )
    record = uow.audit.record(
        actor,
        "retire_sharing_key",
        f"sharing_key:v{version}",
        {"reason": why, "retracted": len(ids)},
    )
    row.retired_at, row.retired_by, row.revision = record.ts, record.actor, record.seq
    mark_retracted(uow, record, ids, f"sharing key v{version} retired: {why}")
    write_events(uow, record, [(entry_id, EventKind.RETRACTED) for entry_id in ids])
    uow.commit()
    return len(ids)


@use_case(Permission.QUERY_RISK_LIST)
def sharing_key_versions(uow: UnitOfWork, actor: Actor) -> list[KeyVersion]:
    """Every version, newest first: which is current (new hashes use it), which accepted."""
    now = uow.clock.now()
    counts = dict(
        uow.session.execute(
            select(RiskListEntryRow.key_version, func.count())
            .where(RiskListEntryRow.key_version.is_not(None), in_force(now))
            .group_by(RiskListEntryRow.key_version)
        ).all()
    )
    rows = list(uow.session.scalars(select(ShareKeyRow).order_by(ShareKeyRow.version.desc())))
    current = next((row.version for row in rows if row.retired_at is None), None)
    return [
        KeyVersion(
            row.version,
            row.created_at,
            row.retired_at,
            row.version == current,
            int(counts.get(row.version, 0)),
        )
        for row in rows
    ]


@use_case(Permission.QUERY_RISK_LIST)
def accepted_sharing_keys(uow: UnitOfWork, actor: Actor, keys_dir: Path) -> SharingKeys:
    """The keys of the versions the hub accepts, from `keys_dir`: what a member's process
    beside the hub hashes with (a member elsewhere holds their exported files)."""
    return sharing_keys(uow.session, keys_dir)


@use_case(Permission.MANAGE_RISK_LIST)
def export_sharing_key(uow: UnitOfWork, actor: Actor, keys_dir: Path, version: int) -> str:
    """The text of version `version`'s key file for members (audited: whoever holds it can
    hash, and so test guesses against, the list's hashes)."""
    row = uow.session.get(ShareKeyRow, version)
    if row is None:
        raise NotFound("sharing key version", str(version))
    if row.retired_at is not None:
        raise InvalidInput(f"sharing key version {version} is retired", "version")
    text = SharingKeys.load(keys_dir, (version,)).export(version)
    uow.audit.record(actor, "export_sharing_key", f"sharing_key:v{version}", {})
    uow.commit()
    return text
