"""Objections (异议) to a published return plan: recorded during its objection period by the
police unit or the holding bank, on behalf of whoever raised them (a victim, the frozen
account's holder, anyone else), and decided by the unit: an upheld objection sends the plan
back to draft, to be amended and published again (a new objection period); a dismissed one
leaves it standing. A plan is approved only once every objection is decided.
"""

from __future__ import annotations

from typing import Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict, NotFound
from fundwall.engine.controls.changes import reference
from fundwall.fund_returns.model import (
    ObjectionDecision,
    ObjectionIn,
    Objector,
    PlanStatus,
    PlanView,
)
from fundwall.fund_returns.queries import objections_of, plan_view, visible_plan
from fundwall.police.queries import MAX_ID
from fundwall.police.terms import checked_text
from fundwall.store.police_tables import REASON
from fundwall.store.return_tables import ReturnObjectionRow
from fundwall.store.uow import UnitOfWork

MOST_OBJECTIONS: Final = 200
"""Objections one plan takes at most (more means the plan needs redrawing, not a list)."""


@use_case(Permission.VIEW_CUSTOMER_DATA)
def record_objection(
    uow: UnitOfWork, actor: Actor, plan_id: int, objection: ObjectionIn
) -> PlanView:
    """Record an objection to a plan the actor sees (its unit, its bank) while the plan's
    objection period runs; audited and committed. The text holds no ID or phone number."""
    session, now = uow.session, uow.clock.now()
    row = visible_plan(session, actor, plan_id)
    if row.status != PlanStatus.PUBLISHED.value:
        raise Conflict(f"return plan {row.id} is {row.status}; objections are to a published plan")
    assert row.objection_ends_at is not None  # set when published
    if now >= row.objection_ends_at:
        raise Conflict(
            f"the objection period of return plan {row.id} ended at "
            f"{row.objection_ends_at.isoformat()}"
        )
    if len(objections_of(session, row.id)) >= MOST_OBJECTIONS:
        raise Conflict(f"return plan {row.id} has {MOST_OBJECTIONS} objections already")
    account = objection.objector_account
    added = ReturnObjectionRow(
        plan_id=row.id,
        objector=Objector(objection.objector).value,
        objector_account=reference(account, "objector_account") if account else None,
        text=checked_text(objection.text, "text", REASON),
        recorded_at=now,
        recorded_by=actor.audit_id,
    )
    session.add(added)
    session.flush()
    uow.audit.record(
        actor,
        "record_return_objection",
        f"return_plan:{row.id}",
        {"objection": added.id, "objector": added.objector},
    )
    uow.commit()
    return plan_view(session, row, now)


@use_case(Permission.RETURN_FUNDS)
def decide_objection(
    uow: UnitOfWork,
    actor: Actor,
    plan_id: int,
    objection_id: int,
    decision: ObjectionDecision,
    reason: str,
) -> PlanView:
    """Decide an objection to one of the unit's published plans, with a reason; upheld sends
    the plan back to draft. Audited and committed."""
    session, now = uow.session, uow.clock.now()
    row = visible_plan(session, actor, plan_id)
    found = session.get(ReturnObjectionRow, objection_id) if 1 <= objection_id <= MAX_ID else None
    if found is None or found.plan_id != row.id:
        raise NotFound("objection", str(objection_id))
    if found.decision is not None:
        raise Conflict(f"objection {found.id} was decided already ({found.decision})")
    if row.status != PlanStatus.PUBLISHED.value:
        raise Conflict(f"return plan {row.id} is {row.status}; objections to a published plan "
                       "are decided")  # fmt: skip
    decision = ObjectionDecision(decision)
    found.decision, found.decision_reason = decision.value, checked_text(reason, "reason", REASON)
    found.decided_at, found.decided_by = now, actor.audit_id
    if decision is ObjectionDecision.UPHELD:
        row.status, row.published_at, row.objection_ends_at = PlanStatus.DRAFT.value, None, None
    row.updated_at = now
    uow.audit.record(
        actor,
        "decide_return_objection",
        f"return_plan:{row.id}",
        {"objection": found.id, "decision": decision.value, "plan_status": row.status},
    )
    uow.commit()
    return plan_view(session, row, now)
