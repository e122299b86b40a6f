"""The demo's return of frozen money paid back (资金返还), on the simulated region's own data.

A month ago — the objection period and a day — the demo officer's unit traced its report that
lost the second most, queried the accounts holding most of that victim's money, froze the
first holding money and published the plan returning it to the account the victim paid from.
Nobody objected: today the unit approves the plan and the holding bank's system pays the
victim back, each share with its receipt. The step picks up where it stands (freeze, plan,
approval, payment), so running the demo again pays nothing twice.
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
    from fundwall.tracing.views import TraceView

FREEZE_DOCUMENT: Final = "厦公反诈冻字〔2024〕0050号"
"""The month-old freeze whose money goes back; the step finds it again by this number."""
QUERY_DOCUMENT: Final = "厦公反诈查字〔2024〕0050号"
"""The queries before it are numbered after it: -01, -02 …"""
CASE_NO: Final = "A3502035100002024020050"
"""The police case of those orders."""
REPORTS_TRIED: Final = 3
STOPS_TRIED: Final = 3
"""The reports after the largest whose traces the unit follows, and the accounts of each
holding most of the victim's money it queries, until one holds money on the ledger: a trace
starts from the payments as the victims reported them, even one the engine blocked (the money
never arrived), so an account the trace says holds the victim's money may hold nothing."""
TRANSFER_PREFIX: Final = "FW-RETURN"
"""The bank's own reference (流水号) of a transfer back: the prefix, the plan and the share."""


@dataclass(frozen=True, slots=True)
class _Frozen:
    """The month-old freeze: its order, the account and bank, the report, the victim and the
    report's money the trace found in the account."""

    order_id: int
    account_no: str
    bank: str
    report: str
    victim_account: str
    traced_fen: int
    at: datetime
    """When the freeze was issued."""


def pay_back(platform: Platform, folder: Path, officer: Actor) -> list[str]:
    """Trace, query, freeze and publish a month ago (unless done); approve and pay today.
    What happened, line by line."""
    from fundwall.fund_returns import PlanStatus

    unit = officer.member
    assert unit is not None  # a police officer belongs to its unit
    reports = reports_by_loss(folder, unit)[1 : 1 + REPORTS_TRIED]
    if not reports:
        return [f"police {unit}: no second victim report to return money from"]
    then = platform.clock.now() - timedelta(
        days=platform.settings.policy.fund_return_objection_days + 1
    )
    try:
        frozen = _frozen_before(platform, officer, reports) or _freeze(
            platform, officer, reports, then
        )
        if frozen is None:
            return [f"police {unit}: no account its traces reach holds money any more"]
        plan = _published(platform, officer, frozen, frozen.at + timedelta(minutes=30))
        if plan.status is PlanStatus.EXECUTED:
            return [f"police {unit}: return plan {plan.id} was paid back in an earlier run"]
        plan = _paid(platform, officer, plan)
    except FundwallError as refused:
        return [f"police {unit}: the month-old return stopped: {refused.message()}"]
    paid = sum(share.amount_fen for share in plan.allocations if share.executed_at is not None)
    return [
        f"police {unit}: a month ago report {frozen.report} was traced, "
        f"{mask_account(frozen.account_no)} queried and frozen (holding "
        f"{format_money(plan.item.frozen_fen)}) and return plan {plan.id} published; no "
        f"objection: approved today, bank {frozen.bank} paid {format_money(paid)} back to "
        f"{mask_account(frozen.victim_account)}"
    ]


Reports = list[tuple[list[TraceStart], str]]
"""Reports as trace starts, each with the account its victim paid from."""


def _frozen_before(platform: Platform, officer: Actor, reports: Reports) -> _Frozen | None:
    """The freeze an earlier run made, with the report and stop it was made for."""
    from fundwall.police import OrderFilter, list_orders

    with platform.unit_of_work() as uow:
        page = list_orders(uow, officer, OrderFilter(kind=OrderKind.FREEZE))
    order = next((o for o in page.items if o.document_no == FREEZE_DOCUMENT), None)
    if order is None:
        return None
    for starts, victim_account in reports:
        traced = _trace(platform, officer, starts, None)
        for stop in traced.stops if traced is not None else ():
            if stop.account_no == order.account_no:
                return _Frozen(order.id, stop.account_no, order.bank_code, starts[0].source,
                               victim_account, stop.amount_fen, order.issued_at)  # fmt: skip
    return None


def _freeze(platform: Platform, officer: Actor, reports: Reports, then: datetime) -> _Frozen | None:
    """At `then`: trace the reports one by one, query the accounts holding most of each
    victim's money, and freeze the first that holds money on the ledger. None when none
    does."""
    from fundwall.police import OrderRequest, issue_order

    queries = 0
    for starts, victim_account in reports:
        traced = _trace(platform, officer, starts, then)
        assert traced is not None  # traced now when no earlier run did
        ranked = sorted(traced.stops, key=lambda stop: (-stop.amount_fen, stop.account_no))
        for stop in ranked[:STOPS_TRIED]:
            queries += 1
            at = then + timedelta(minutes=10 * queries)
            if _balance(platform, officer, stop, starts, queries, at) <= 0:
                continue
            request = OrderRequest(
                kind=OrderKind.FREEZE,
                document_no=FREEZE_DOCUMENT,
                officers=OFFICERS,
                police_case_no=CASE_NO,
                legal_basis=f"{LEGAL_BASIS}; report {starts[0].source}",
                account_no=stop.account_no,
            )
            issued = at + timedelta(minutes=5)
            with platform.unit_of_work(clock=FixedClock(issued)) as uow:
                order = issue_order(uow, officer, request, settings=platform.settings)
            bank = order.item.bank_code
            execute_order(platform, order.item.id, bank, FixedClock(at + timedelta(minutes=8)))
            return _Frozen(order.item.id, stop.account_no, bank, starts[0].source,
                           victim_account, stop.amount_fen, issued)  # fmt: skip
    return None


def _balance(
    platform: Platform,
    officer: Actor,
    stop: ProposedStop,
    starts: list[TraceStart],
    n: int,
    at: datetime,
) -> int:
    """The unit's `n`th query (at `at`, answered by the holding bank's system a minute later):
    the account's balance on the ledger, and its transactions around the victim's payments."""
    from fundwall.police import OrderRequest, get_order, issue_order

    paid = [start.at for start in starts]
    request = OrderRequest(
        kind=OrderKind.QUERY,
        document_no=f"{QUERY_DOCUMENT}-{n:02d}",
        officers=OFFICERS,
        police_case_no=CASE_NO,
        legal_basis=f"{LEGAL_BASIS}; report {starts[0].source}",
        account_no=stop.account_no,
        period_from=min(paid) - timedelta(days=1),
        period_to=max(paid) + timedelta(days=2),
    )
    with platform.unit_of_work(clock=FixedClock(at)) as uow:
        order = issue_order(uow, officer, request, settings=platform.settings)
    execute_order(
        platform, order.item.id, order.item.bank_code, FixedClock(at + timedelta(minutes=1))
    )
    with platform.unit_of_work() as uow:
        answer = get_order(uow, officer, order.item.id).answer or {}
    return int(answer.get("balance_fen") or 0)


def _trace(
    platform: Platform, officer: Actor, starts: list[TraceStart], then: datetime | None
) -> TraceView | None:
    """The unit's trace of the report: an earlier run's, or made at `then` (None: found only)."""
    from fundwall.tracing.traces import get_trace, list_traces, start_trace

    report = starts[0].source
    with platform.unit_of_work() as uow:
        for item in list_traces(uow, officer).items:
            view = get_trace(uow, officer, item.id)
            if {start.source for start in view.result.starts} == {report}:
                return view
    if then is None:
        return None
    with platform.unit_of_work(clock=FixedClock(then)) as uow:
        return start_trace(uow, officer, starts, DEFAULT_RULE)


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
