"""The shared risk list (风险名单): accounts, ID and phone hashes, IP addresses and devices
that the region's members have found serving fraud, each with its category, the evidence
behind it and the member that reported it.

The hard controls act on a listed identifier as the category and evidence say. The hub (the
central-bank branch) keeps the list; each use case writes its row and an audit record in one
transaction and stamps the row with the record's sequence number (`revision`), so the
running decision service reads it at its next decision. An ID or phone is listed by its keyed
hash, never raw.
"""

from __future__ import annotations

from datetime import datetime

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict, NotFound
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.changes import check_period, commit_change, list_key, reference
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.MANAGE_RISK_LIST)
def list_risk(
    uow: UnitOfWork,
    actor: Actor,
    kind: ListKind,
    key: str,
    category: RiskCategory,
    evidence: Evidence,
    reporting_member: str,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> int:
    """Put an identifier on the shared risk list (an ID or phone as its keyed hash, never
    raw) from `valid_from` (now by default) until `valid_until` (open when None); returns the
    entry's id."""
    kind, category, evidence = ListKind(kind), RiskCategory(category), Evidence(evidence)
    normal = list_key(kind, key)
    member = reference(reporting_member, "reporting_member")
    start = valid_from if valid_from is not None else uow.clock.now()
    check_period(start, valid_until, "valid_until")
    shown = mask_account(normal) if kind is ListKind.ACCOUNT else normal
    record = uow.audit.record(
        actor,
        "list_risk",
        f"risk_list:{kind.value}",
        {"key": shown, "category": category.value, "evidence": evidence.value, "member": member},
    )
    row = RiskListEntryRow(
        kind=kind.value,
        key=normal,
        category=category.value,
        evidence=evidence.value,
        reporting_member=member,
        valid_from=start,
        valid_until=valid_until,
        retracted_at=None,
    )
    return commit_change(uow, row, record)


@use_case(Permission.MANAGE_RISK_LIST)
def retract_risk(uow: UnitOfWork, actor: Actor, entry_id: int) -> None:
    """Retract a risk list entry from now on (撤销)."""
    row = uow.session.get(RiskListEntryRow, entry_id)
    if row is None:
        raise NotFound("risk list entry", str(entry_id))
    if row.retracted_at is not None:
        raise Conflict(f"risk list entry {entry_id} was retracted already")
    record = uow.audit.record(actor, "retract_risk", f"risk_list:{row.kind}", {"entry": entry_id})
    row.retracted_at = record.ts
    row.revision = record.seq
    uow.commit()
