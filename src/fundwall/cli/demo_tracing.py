"""The demo's funds-chain trace and return of frozen money, on the simulated region's own data.

The demo officer traces the unit's largest victim report through the decided region, stops
every account still holding the victim's money in one batch (the holding banks' systems
execute the orders), freezes the account holding most, and publishes the plan that returns
it to the victim: the plan is in its objection period when the console opens. Running the
demo again adds nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Final

from fundwall.auth import Actor, ActorKind, Role
from fundwall.bootstrap import Platform
from fundwall.clock import Clock
from fundwall.domain.identity import mask_account
from fundwall.domain.police import OrderKind
from fundwall.engine.rules import format_money
from fundwall.region import read_table
from fundwall.tracing.model import DEFAULT_RULE, ProposedStop, TraceStart

BATCH_DOCUMENT: Final = "厦公反诈止字〔2024〕0100号"
"""The batch's document number; each order adds -01, -02 …"""
FREEZE_DOCUMENT: Final = "厦公反诈冻字〔2024〕0100号"
OFFICERS: Final = "张警官, 李警官"
LEGAL_BASIS: Final = "《反电信网络诈骗法》第二十条"
_CASE_NO: Final = "A3502035100002024030100"


def reports_by_loss(folder: Path, unit: str) -> list[tuple[list[TraceStart], str]]:
    """The unit's reports, the one that lost most first, each as trace starts (one a payment
    line) with the account its victim paid from (where the money goes back)."""
    table = read_table(folder, "victim_reports")
    lines: dict[str, list[TraceStart]] = defaultdict(list)
    paid_from: dict[str, str] = {}
    for report, unit_of, account, at, fen, victim in zip(
        table["report_id"].to_pylist(),
        table["police_unit"].to_pylist(),
        table["payee_account"].to_pylist(),
        table["paid_at"].to_pylist(),
        table["amount_fen"].to_pylist(),
        table["victim_account"].to_pylist(),
        strict=True,
    ):
        if unit_of == unit:
            lines[report].append(TraceStart(report, account, at, fen))
            paid_from[report] = victim
    ordered = sorted(lines, key=lambda name: (-sum(s.amount_fen for s in lines[name]), name))
    return [(lines[report], paid_from[report]) for report in ordered]


def largest_report(folder: Path, unit: str) -> tuple[list[TraceStart], str]:
    """The unit's report that lost most, as trace starts, and the account its victim paid
    from; ([], "") when the unit has no report."""
    reports = reports_by_loss(folder, unit)
    return reports[0] if reports else ([], "")


def trace_and_return(platform: Platform, folder: Path, officer: Actor) -> list[str]:
    """Trace, stop in one batch, freeze and plan the return; what happened, line by line."""
    from fundwall.tracing.traces import confirm_batch, list_traces, start_trace
    from fundwall.tracing.views import BatchRequest

    assert officer.member is not None  # a police officer belongs to its unit
    with platform.unit_of_work() as uow:
        if list_traces(uow, officer).items:
            return [f"police {officer.member}: its trace was made in an earlier run"]
    starts, victim_account = largest_report(folder, officer.member)
    if not starts:
        return [f"police {officer.member}: no victim report to trace"]
    with platform.unit_of_work() as uow:
        traced = start_trace(uow, officer, starts, DEFAULT_RULE)
    if not traced.stops:
        return [f"police {officer.member}: report {starts[0].source}: nothing is held any more"]
    request = BatchRequest(BATCH_DOCUMENT, OFFICERS, _CASE_NO, LEGAL_BASIS)
    with platform.unit_of_work() as uow:
        confirmed = confirm_batch(uow, officer, traced.id, request, settings=platform.settings)
    assert confirmed.batch is not None  # just confirmed
    held = sum(
        execute_order(platform, order.order_id, order.bank)
        for order in confirmed.batch.orders
        if order.order_id is not None
    )
    told = [
        f"police {officer.member}: report {starts[0].source} traced ({DEFAULT_RULE.value}): "
        f"{len(traced.result.accounts)} accounts reached; one batch stopped "
        f"{len(confirmed.batch.orders)} still holding the money ({len(confirmed.batch.skipped)} "
        f"stopped already), the banks holding {format_money(held)}"
    ]
    top = max(traced.stops, key=lambda stop: (stop.amount_fen, stop.account_no))
    return told + _freeze_and_plan(platform, officer, top, victim_account)


def execute_order(
    platform: Platform, order_id: int, bank: str | None, clock: Clock | None = None
) -> int:
    """The holding bank's system executes the order (at `clock`'s time, by default now);
    what it holds."""
    from fundwall.police import OrderAnswer, answer_order

    system = Actor(ActorKind.API_KEY, "demo", Role.MEMBER_SYSTEM, bank)
    with platform.unit_of_work(clock=clock) as uow:
        done = answer_order(
            uow,
            system,
            order_id,
            OrderAnswer(executed=True),
            platform.keyring,
            settings=platform.settings,
        )
    return done.held_fen or 0


def _freeze_and_plan(
    platform: Platform, officer: Actor, top: ProposedStop, victim_account: str
) -> list[str]:
    """Freeze the account holding most of the victim's money and publish the plan that
    returns it: in its objection period from now on."""
    from fundwall.fund_returns import PlanDraft, VictimLoss, draft_plan, publish_plan
    from fundwall.police import OrderRequest, issue_order

    freeze = OrderRequest(
        kind=OrderKind.FREEZE,
        document_no=FREEZE_DOCUMENT,
        officers=OFFICERS,
        police_case_no=_CASE_NO,
        legal_basis=LEGAL_BASIS,
        account_no=top.account_no,
    )
    with platform.unit_of_work() as uow:
        order = issue_order(uow, officer, freeze, settings=platform.settings)
    frozen = execute_order(platform, order.item.id, top.bank)
    draft = PlanDraft(order.item.id, (VictimLoss(victim_account, top.amount_fen),))
    with platform.unit_of_work() as uow:
        plan = draft_plan(uow, officer, draft)
    with platform.unit_of_work() as uow:
        published = publish_plan(uow, officer, plan.item.id, settings=platform.settings)
    ends = published.item.objection_ends_at
    return [
        f"  froze {mask_account(top.account_no)} (holding {format_money(frozen)}); return plan "
        f"{plan.item.id} gives {format_money(published.item.returned_fen)} back to the victim's "
        f"account {mask_account(victim_account)}, objections until "
        f"{ends:%Y-%m-%d}"
        if ends
        else ""
    ]
