"""The demo's return of frozen money paid back (资金返还), on the simulated region's own data.

A month ago — the objection period and a day — the demo officer's unit traced its report that
lost the second most, froze the account holding most of that victim's money and published
the plan returning it to the account the victim paid from. Nobody objected: today the unit
approves the plan and the holding bank's system pays the victim back, each share with its
receipt. The step picks up where it stands (trace, freeze, plan, approval, payment), so
running the demo again pays nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.cli.demo_tracing import LEGAL_BASIS, OFFICERS, execute_order, reports_by_loss
from fundwall.clock import FixedClock
from fundwall.domain.errors import FundwallError
from fundwall.domain.identity import mask_account
from fundwall.domain.police import OrderKind
from fundwall.engine.rules import format_money
from fundwall.tracing.model import DEFAULT_RULE, ProposedStop, TraceStart

if TYPE_CHECKING:
    from fundwall.fund_returns import PlanView

FREEZE_DOCUMENT: Final = "厦公反诈冻字〔2024〕0050号"
"""The month-old freeze whose money goes back; the step finds it again by this number."""
CASE_NO: Final = "A3502035100002024020050"
"""The police case of that report."""
TRANSFER_PREFIX: Final = "FW-RETURN"
"""The bank's own reference (流水号) of a transfer back: the prefix, the plan and the share."""


@dataclass(frozen=True, slots=True)
class _Frozen:
    """The month-old freeze: its order, the account and bank, the report, the victim."""

    order_id: int
    account_no: str
    bank: str
    report: str
    victim_account: str
    traced_fen: int


def pay_back(platform: Platform, folder: Path, officer: Actor) -> list[str]:
    """Trace, freeze and publish a month ago (if not done yet); approve and pay today. What
    happened, line by line."""
    from fundwall.fund_returns import PlanStatus

    unit = officer.member
    assert unit is not None  # a police officer belongs to its unit
    reports = reports_by_loss(folder, unit)
    if len(reports) < 2:
        return [f"police {unit}: no second victim report to return money from"]
    starts, victim_account = reports[1]
    then = platform.clock.now() - timedelta(
        days=platform.settings.policy.fund_return_objection_days + 1
    )
    try:
        frozen = _freeze(platform, officer, starts, victim_account, then)
        if frozen is None:
            return [f"police {unit}: report {starts[0].source}: nothing is held any more"]
        plan = _published(platform, officer, frozen, then + timedelta(hours=1))
        if plan.status is PlanStatus.EXECUTED:
            return [f"police {unit}: return plan {plan.id} was paid back in an earlier run"]
        plan = _paid(platform, officer, plan)
    except FundwallError as refused:
        return [f"police {unit}: the return of report {starts[0].source} stopped: "
                f"{refused.message()}"]  # fmt: skip
    paid = sum(share.amount_fen for share in plan.allocations if share.executed_at is not None)
    return [
        f"police {unit}: a month ago report {frozen.report} was traced, "
        f"{mask_account(frozen.account_no)} frozen (holding {format_money(plan.item.frozen_fen)})"
        f" and return plan {plan.id} published; no objection: approved today, bank "
        f"{frozen.bank} paid {format_money(paid)} back to {mask_account(frozen.victim_account)}"
    ]


def _freeze(
    platform: Platform,
    officer: Actor,
    starts: list[TraceStart],
    victim_account: str,
    then: datetime,
) -> _Frozen | None:
    """The freeze of the account holding most of the report's traced money: found, or issued
    and executed at `then`; None when the report's money is held nowhere any more."""
    from fundwall.police import OrderFilter, OrderRequest, issue_order, list_orders

    top = _top_stop(platform, officer, starts, then)
    if top is None:
        return None
    report = starts[0].source
    with platform.unit_of_work() as uow:
        wanted = OrderFilter(kind=OrderKind.FREEZE, account_no=top.account_no)
        found = [o for o in list_orders(uow, officer, wanted).items
                 if o.document_no == FREEZE_DOCUMENT]  # fmt: skip
    if found:
        order_id, bank = found[0].id, found[0].bank_code
    else:
        request = OrderRequest(
            kind=OrderKind.FREEZE,
            document_no=FREEZE_DOCUMENT,
            officers=OFFICERS,
            police_case_no=CASE_NO,
            legal_basis=f"{LEGAL_BASIS}; report {report}",
            account_no=top.account_no,
        )
        with platform.unit_of_work(clock=FixedClock(then + timedelta(minutes=10))) as uow:
            order = issue_order(uow, officer, request, settings=platform.settings)
        order_id, bank = order.item.id, order.item.bank_code
        execute_order(platform, order_id, bank, FixedClock(then + timedelta(minutes=30)))
    return _Frozen(order_id, top.account_no, bank, report, victim_account, top.amount_fen)


def _top_stop(
    platform: Platform, officer: Actor, starts: list[TraceStart], then: datetime
) -> ProposedStop | None:
    """The account holding most of the report's money, by the unit's trace of it (made at
    `then` unless an earlier run made it)."""
    from fundwall.tracing.traces import get_trace, list_traces, start_trace

    report = starts[0].source
    traced = None
    with platform.unit_of_work() as uow:
        for item in list_traces(uow, officer).items:
            view = get_trace(uow, officer, item.id)
            if {start.source for start in view.result.starts} == {report}:
                traced = view
                break
    if traced is None:
        with platform.unit_of_work(clock=FixedClock(then)) as uow:
            traced = start_trace(uow, officer, starts, DEFAULT_RULE)
    if not traced.stops:
        return None
    return max(traced.stops, key=lambda stop: (stop.amount_fen, stop.account_no))


def _published(platform: Platform, officer: Actor, frozen: _Frozen, when: datetime) -> PlanView:
    """The plan on the freeze: found, or drafted and published at `when` (a draft an earlier
    run left is published then)."""
    from fundwall.fund_returns import (
        PlanDraft,
        PlanStatus,
        VictimLoss,
        draft_plan,
        get_plan,
        list_plans,
        publish_plan,
    )

    clock = FixedClock(when)
    with platform.unit_of_work() as uow:
        mine = [plan for plan in list_plans(uow, officer).items if plan.order_id == frozen.order_id]
        plan = get_plan(uow, officer, mine[0].id) if mine else None
    if plan is None:
        draft = PlanDraft(frozen.order_id, (VictimLoss(frozen.victim_account, frozen.traced_fen),))
        with platform.unit_of_work(clock=clock) as uow:
            plan = draft_plan(uow, officer, draft)
    if plan.status is not PlanStatus.DRAFT:
        return plan
    with platform.unit_of_work(clock=clock) as uow:
        return publish_plan(uow, officer, plan.id, settings=platform.settings)


def _paid(platform: Platform, officer: Actor, plan: PlanView) -> PlanView:
    """Approve the published plan (its objection period is over) and have the holding bank's
    system transfer each share back."""
    from fundwall.fund_returns import PlanStatus, approve_plan, execute_return

    if plan.status is PlanStatus.PUBLISHED:
        with platform.unit_of_work() as uow:
            plan = approve_plan(uow, officer, plan.id, settings=platform.settings)
    bank = Actor(ActorKind.API_KEY, "demo", Role.MEMBER_SYSTEM, plan.item.bank_code)
    for share in plan.allocations:
        if share.amount_fen and share.executed_at is None:
            with platform.unit_of_work() as uow:
                plan = execute_return(
                    uow, bank, plan.id, share.id, f"{TRANSFER_PREFIX}-{plan.id}-{share.id}"
                )
    return plan
