"""The punishment list (联合惩戒): persons who sold or lent their accounts, or otherwise
served fraud, listed for a period by the keyed hash of their ID number.

The hard controls refuse a listed person's non-counter payments while the listing holds. The
hub (the central-bank branch) keeps the list; each use case writes its row and an audit
record in one transaction and stamps the row with the record's sequence number (`revision`),
so the running decision service reads it at its next decision. The raw ID number never
reaches the store or the audit log.
"""

from __future__ import annotations

from datetime import datetime

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.crypto import KEYED_HASH
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.engine.controls.changes import check_period, commit_change, stated_reason
from fundwall.store.engine_tables import PunishmentRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.PUNISH)
def punish(
    uow: UnitOfWork,
    actor: Actor,
    id_hash: str,
    reason: str,
    *,
    listed_from: datetime,
    listed_until: datetime,
) -> int:
    """Put a person (by the keyed hash of the ID number) on the punishment list from
    `listed_from` until `listed_until`; returns the listing's id."""
    if not isinstance(id_hash, str) or KEYED_HASH.fullmatch(id_hash) is None:
        raise InvalidInput("a keyed hash is 64 lower-case hex digits", "id_hash")
    normal = id_hash
    why = stated_reason(reason)
    check_period(listed_from, listed_until, "listed_until")
    record = uow.audit.record(
        actor,
        "punish",
        f"punishment_list:{normal[:8]}",
        {"from": listed_from.isoformat(), "until": listed_until.isoformat(), "reason": why},
    )
    row = PunishmentRow(
        id_hash=normal,
        reason=why,
        listed_from=listed_from,
        listed_until=listed_until,
        lifted_at=None,
    )
    return commit_change(uow, row, record)


@use_case(Permission.PUNISH)
def lift_punishment(uow: UnitOfWork, actor: Actor, listing_id: int, reason: str) -> None:
    """End a punishment listing now (an appeal upheld)."""
    why = stated_reason(reason)
    row = uow.session.get(PunishmentRow, listing_id)
    if row is None:
        raise NotFound("punishment listing", str(listing_id))
    if row.lifted_at is not None:
        raise Conflict(f"punishment listing {listing_id} was lifted already")
    record = uow.audit.record(
        actor, "lift_punishment", f"punishment_list:{row.id_hash[:8]}", {"reason": why}
    )
    row.lifted_at = record.ts
    row.revision = record.seq
    uow.commit()
