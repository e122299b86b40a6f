"""Return plans (资金返还方案): a police unit shares what one of its freezes holds among the
victims whose money it is, publishes the plan for objections, and approves it once the
objection period is over; the holding bank then executes it (`fundwall.fund_returns.execution`).

    plan = draft_plan(uow, officer, PlanDraft(order_id, (VictimLoss("6222…", 30_000_00),)))
    publish_plan(uow, officer, plan.id)          # 30 days of public notice start now
    approve_plan(uow, officer, plan.id)          # after them; the bank has 3 working days

Each use case refuses an actor without its permission, reads only the actor's plans and
orders (another unit's is NotFound), writes an audit record and commits once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import Settings, get_settings
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.domain.money import Money
from fundwall.engine.controls.changes import reference
from fundwall.fund_returns.allocation import VictimLoss, allocate
from fundwall.fund_returns.model import ACTIVE_STATUSES, PlanDraft, PlanItem, PlanStatus, PlanView
from fundwall.fund_returns.queries import (
    objections_of,
    plan_item,
    plan_order,
    plan_view,
    still_frozen,
    visible_plan,
    visible_plans,
)
from fundwall.fund_returns.working_days import working_deadline
from fundwall.police.queries import visible_order
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.return_tables import ReturnAllocationRow, ReturnPlanRow
from fundwall.store.uow import UnitOfWork


@use_case(Permission.RETURN_FUNDS)
def draft_plan(uow: UnitOfWork, actor: Actor, draft: PlanDraft) -> PlanView:
    """Share what one of the unit's freezes still holds among `draft.victims` (directly to
    one, in proportion to the losses of several); audited and committed.

    Refusals: an order that is not a freeze, one no longer in force or not yet executed by
    the bank, a freeze with another plan under way, an amount over what the freeze still
    holds, a victim account that is the frozen account or malformed, bad losses."""
    session, now = uow.session, uow.clock.now()
    order = visible_order(session, actor, draft.order_id)
    frozen = _frozen_for(session, order, draft.amount_fen, now)
    under_way = session.scalars(
        select(ReturnPlanRow.id).where(
            ReturnPlanRow.order_id == order.id,
            ReturnPlanRow.status.in_([status.value for status in ACTIVE_STATUSES]),
        )
    ).first()
    if under_way is not None:
        raise Conflict(
            f"return plan {under_way} on freeze {order.document_no} is under way; a new "
            "round starts once it is executed"
        )
    row = ReturnPlanRow(
        police_unit=order.police_unit,
        order_id=order.id,
        account_no=order.account_no,
        bank_code=order.bank_code,
        status=PlanStatus.DRAFT.value,
        created_at=now,
        created_by=actor.audit_id,
        updated_at=now,
    )
    details = _share(uow, row, order, frozen, draft.victims)
    uow.audit.record(actor, "draft_return_plan", f"return_plan:{row.id}", details)
    uow.commit()
    return plan_view(session, row, now)


@use_case(Permission.RETURN_FUNDS)
def amend_plan(uow: UnitOfWork, actor: Actor, plan_id: int, draft: PlanDraft) -> PlanView:
    """Replace a draft plan's victims and amount (after an upheld objection, say); the plan's
    freeze stays the one it was drafted on. Audited and committed."""
    session, now = uow.session, uow.clock.now()
    row = visible_plan(session, actor, plan_id)
    _require(row, PlanStatus.DRAFT, "amended")
    if draft.order_id != row.order_id:
        raise InvalidInput("a plan stays on the freeze it was drafted on", "order_id")
    order = plan_order(session, row)
    frozen = _frozen_for(session, order, draft.amount_fen, now)
    for allocation in session.scalars(
        select(ReturnAllocationRow).where(ReturnAllocationRow.plan_id == row.id)
    ):
        session.delete(allocation)
    session.flush()
    details = _share(uow, row, order, frozen, draft.victims)
    row.updated_at = now
    uow.audit.record(actor, "amend_return_plan", f"return_plan:{row.id}", details)
    uow.commit()
    return plan_view(session, row, now)


@use_case(Permission.RETURN_FUNDS)
def publish_plan(
    uow: UnitOfWork, actor: Actor, plan_id: int, *, settings: Settings | None = None
) -> PlanView:
    """Publish a draft plan: its objection period of `policy.fund_return_objection_days`
    calendar days starts now. Audited and committed."""
    policy = (settings or get_settings()).policy
    session, now = uow.session, uow.clock.now()
    row = visible_plan(session, actor, plan_id)
    _require(row, PlanStatus.DRAFT, "published")
    _frozen_for(session, plan_order(session, row), row.frozen_fen, now)
    row.status, row.published_at, row.updated_at = PlanStatus.PUBLISHED.value, now, now
    row.objection_ends_at = now + timedelta(days=policy.fund_return_objection_days)
    uow.audit.record(
        actor,
        "publish_return_plan",
        f"return_plan:{row.id}",
        {"objection_ends_at": row.objection_ends_at.isoformat()},
    )
    uow.commit()
    return plan_view(session, row, now)


@use_case(Permission.RETURN_FUNDS)
def approve_plan(
    uow: UnitOfWork, actor: Actor, plan_id: int, *, settings: Settings | None = None
) -> PlanView:
    """Approve a published plan once its objection period is over and every objection is
    decided; the bank must execute it by the end of the
    `policy.fund_return_execution_working_days`th working day after today (Beijing time).
    Audited and committed."""
    policy = (settings or get_settings()).policy
    session, now = uow.session, uow.clock.now()
    row = visible_plan(session, actor, plan_id)
    _require(row, PlanStatus.PUBLISHED, "approved")
    assert row.objection_ends_at is not None  # set when published
    if now < row.objection_ends_at:
        raise Conflict(
            f"the objection period of return plan {row.id} runs until "
            f"{row.objection_ends_at.isoformat()}; approve it after that"
        )
    open_objections = [o.id for o in objections_of(session, row.id) if o.decision is None]
    if open_objections:
        raise Conflict(f"decide objections {open_objections} of return plan {row.id} first")
    _frozen_for(session, plan_order(session, row), row.frozen_fen, now)
    row.execute_by = working_deadline(now, policy.fund_return_execution_working_days)
    row.status, row.approved_at, row.approved_by = PlanStatus.APPROVED.value, now, actor.audit_id
    row.updated_at = now
    uow.audit.record(
        actor,
        "approve_return_plan",
        f"return_plan:{row.id}",
        {"execute_by": row.execute_by.isoformat(), "returned_fen": row.returned_fen},
    )
    uow.commit()
    return plan_view(session, row, now)


@use_case(Permission.VIEW_CUSTOMER_DATA)
def list_plans(
    uow: UnitOfWork, actor: Actor, status: PlanStatus | None = None, page: int = 1
) -> Page[PlanItem]:
    """The actor's plans (a unit its own, a bank those on its accounts), newest first."""
    query = visible_plans(actor)
    if status is not None:
        query = query.where(ReturnPlanRow.status == PlanStatus(status).value)
    query = query.order_by(ReturnPlanRow.created_at.desc(), ReturnPlanRow.id.desc())
    now = uow.clock.now()
    found = fetch_page(uow.session, query, page, PAGE_SIZE, lambda r: r)
    items = [plan_item(uow.session, row[0], now) for row in found.items]
    return Page(items, found.number, found.size, found.more)


@use_case(Permission.VIEW_CUSTOMER_DATA)
def get_plan(uow: UnitOfWork, actor: Actor, plan_id: int) -> PlanView:
    """One of the actor's plans with its shares and objections; NotFound for any other."""
    return plan_view(uow.session, visible_plan(uow.session, actor, plan_id), uow.clock.now())


def _frozen_for(session: Session, order: PoliceOrderRow, asked: int | None, now: datetime) -> int:
    held = still_frozen(session, order, now)
    if held <= 0:
        raise Conflict(f"freeze {order.document_no} holds nothing more to return")
    if asked is None:
        return held
    if type(asked) is not int or asked < 1:
        raise InvalidInput("a whole number of fen, 1 or more", "amount_fen")
    if asked > held:
        raise InvalidInput(
            f"{Money(asked)} is over the frozen amount: freeze {order.document_no} holds "
            f"{Money(held)}",
            "amount_fen",
        )
    return asked


def _share(
    uow: UnitOfWork,
    row: ReturnPlanRow,
    order: PoliceOrderRow,
    frozen: int,
    victims: tuple[VictimLoss, ...],
) -> dict[str, object]:
    """Allocate `frozen` among the victims into the plan (added if new) and its shares,
    flushed, not committed; the audit record's details."""
    for index, victim in enumerate(victims):
        account = reference(victim.victim_account, f"victims[{index}].victim_account")
        if account == order.account_no:
            raise InvalidInput(
                "the frozen account is not a victim's", f"victims[{index}].victim_account"
            )
    allocation = allocate(frozen, victims)
    row.method, row.frozen_fen = allocation.method.value, frozen
    row.returned_fen, row.residual_fen = allocation.returned_fen, allocation.residual_fen
    uow.session.add(row)
    uow.session.flush()
    uow.session.add_all(
        ReturnAllocationRow(plan_id=row.id, victim_account=share.victim_account,
                            loss_fen=share.loss_fen, amount_fen=share.amount_fen)
        for share in allocation.shares
    )  # fmt: skip
    uow.session.flush()
    return {
        "order": order.document_no,
        "account": mask_account(order.account_no),
        "method": allocation.method.value,
        "frozen_fen": frozen,
        "returned_fen": allocation.returned_fen,
        "residual_fen": allocation.residual_fen,
        "victims": len(allocation.shares),
    }


def _require(row: ReturnPlanRow, status: PlanStatus, done: str) -> None:
    if row.status != status.value:
        raise Conflict(
            f"return plan {row.id} is {row.status}; only a {status.value} plan is {done}"
        )
