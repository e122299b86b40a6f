"""The return plans in SQL, for the use cases of `fundwall.fund_returns`: whose plans an
actor sees, a plan as lists and pages show it, what a freeze still holds, and the write that
shrinks a freeze when money goes back. Entrypoints never import this.

A police unit's actors see the unit's plans; a member's actors the plans on accounts it holds
(the freeze's bank, which executes them); the server's operator every plan; nobody else any.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, true
from sqlalchemy.orm import Session

from fundwall.accounts.queries import end_restriction, write_restriction
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Role
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.domain.police import OrderKind
from fundwall.engine.controls.model import RestrictionKind
from fundwall.fund_returns.allocation import AllocationMethod
from fundwall.fund_returns.model import (
    AllocationView,
    ObjectionDecision,
    ObjectionView,
    Objector,
    PlanItem,
    PlanStatus,
    PlanView,
)
from fundwall.police.queries import IN_FORCE_STATUSES, MAX_ID, remaining_seconds
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.return_tables import ReturnAllocationRow, ReturnObjectionRow, ReturnPlanRow
from fundwall.store.uow import UnitOfWork


def plans_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `return_plans`: the plans the actor may see."""
    if actor.role is Role.OPERATOR:
        return true()
    if actor.member is None:
        return false()
    if actor.role.is_police:
        return ReturnPlanRow.police_unit == actor.member
    return ReturnPlanRow.bank_code == actor.member


def visible_plans(actor: Actor) -> Select[Any]:
    return select(ReturnPlanRow).where(plans_visible(actor))


def visible_plan(session: Session, actor: Actor, plan_id: int) -> ReturnPlanRow:
    """The plan if the actor may see it; NotFound otherwise, as if it did not exist."""
    if not 1 <= plan_id <= MAX_ID:
        raise NotFound("return plan", str(plan_id))
    row: ReturnPlanRow | None = session.scalars(
        visible_plans(actor).where(ReturnPlanRow.id == plan_id)
    ).one_or_none()
    if row is None:
        raise NotFound("return plan", str(plan_id))
    return row


def plan_order(session: Session, row: ReturnPlanRow) -> PoliceOrderRow:
    order = session.get(PoliceOrderRow, row.order_id)
    assert order is not None  # foreign key
    return order


def plan_item(session: Session, row: ReturnPlanRow, now: datetime) -> PlanItem:
    published = row.status == PlanStatus.PUBLISHED.value
    return PlanItem(
        id=row.id,
        police_unit=row.police_unit,
        order_id=row.order_id,
        document_no=plan_order(session, row).document_no,
        account_no=row.account_no,
        bank_code=row.bank_code,
        method=AllocationMethod(row.method),
        frozen_fen=row.frozen_fen,
        returned_fen=row.returned_fen,
        residual_fen=row.residual_fen,
        status=PlanStatus(row.status),
        created_at=row.created_at,
        objection_ends_at=row.objection_ends_at,
        objection_seconds=remaining_seconds(row.objection_ends_at, now) if published else None,
        execute_by=row.execute_by,
    )


def allocations_of(session: Session, plan_id: int) -> list[ReturnAllocationRow]:
    return list(
        session.scalars(
            select(ReturnAllocationRow)
            .where(ReturnAllocationRow.plan_id == plan_id)
            .order_by(ReturnAllocationRow.id)
        )
    )


def objections_of(session: Session, plan_id: int) -> list[ReturnObjectionRow]:
    return list(
        session.scalars(
            select(ReturnObjectionRow)
            .where(ReturnObjectionRow.plan_id == plan_id)
            .order_by(ReturnObjectionRow.id)
        )
    )


def plan_view(session: Session, row: ReturnPlanRow, now: datetime) -> PlanView:
    allocations = tuple(
        AllocationView(a.id, a.victim_account, a.loss_fen, a.amount_fen, a.executed_at,
                       a.executed_by, a.transfer_ref)
        for a in allocations_of(session, row.id)
    )  # fmt: skip
    objections = tuple(
        ObjectionView(
            o.id,
            Objector(o.objector),
            o.objector_account,
            o.text,
            o.recorded_at,
            o.recorded_by,
            ObjectionDecision(o.decision) if o.decision is not None else None,
            o.decision_reason,
            o.decided_at,
            o.decided_by,
        )
        for o in objections_of(session, row.id)
    )
    return PlanView(
        item=plan_item(session, row, now),
        created_by=row.created_by,
        published_at=row.published_at,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        executed_at=row.executed_at,
        allocations=allocations,
        objections=objections,
    )


def returned_from(session: Session, order_id: int) -> int:
    """What every plan on the freeze has sent back so far (executed transfers)."""
    total = session.scalar(
        select(func.coalesce(func.sum(ReturnAllocationRow.amount_fen), 0))
        .join(ReturnPlanRow, ReturnPlanRow.id == ReturnAllocationRow.plan_id)
        .where(ReturnPlanRow.order_id == order_id, ReturnAllocationRow.executed_at.is_not(None))
    )
    return int(total or 0)


def still_frozen(session: Session, order: PoliceOrderRow, now: datetime) -> int:
    """What the freeze still holds (what the bank held, less what went back); Conflict when
    it is not a freeze in force that the bank executed."""
    if order.kind != OrderKind.FREEZE.value:
        raise InvalidInput(
            f"order {order.document_no} is a {order.kind}, not a freeze: only frozen money "
            "is returned",
            "order_id",
        )
    if order.status not in IN_FORCE_STATUSES or order.ends_at is None or order.ends_at <= now:
        raise Conflict(f"freeze {order.document_no} is no longer in force; nothing is frozen by it")
    if order.held_fen is None:
        raise Conflict(
            f"the bank has not executed freeze {order.document_no} yet: what it holds is unknown"
        )
    return order.held_fen - returned_from(session, order.id)


def shrink_freeze(
    uow: UnitOfWork, actor: Actor, order: PoliceOrderRow, still_held: int, reason: str
) -> None:
    """The freeze now holds `still_held`: its restriction ends now and, unless nothing is
    left, a restriction of that amount takes over until the same end (kept as two rows, so a
    replay sees the amount each transaction met). The order points at the new restriction,
    so a renewal or release of the freeze acts on it. Not yet committed."""
    current = uow.session.get(AccountRestrictionRow, order.restriction_id)
    assert current is not None and current.lifted_at is None  # the freeze is in force
    end_restriction(uow, actor, current, reason)
    if still_held == 0:
        return
    successor = write_restriction(
        uow,
        actor,
        order.account_no,
        RestrictionKind.FREEZE,
        reason=reason,
        starts_at=uow.clock.now(),
        ends_at=current.ends_at,
        amount_fen=still_held,
        order_reference=order.document_no,
    )
    order.restriction_id = successor.id
