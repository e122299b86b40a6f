"""A return plan's whole life on SQLite and PostgreSQL, with the engine between the steps:
drafted on an executed freeze, published for 30 days of objections, approved, executed by
the holding bank share by share; the freeze shrinks by each share and the residual stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fundwall.clock import FixedClock
from fundwall.fund_returns import (
    AllocationMethod,
    ObjectionDecision,
    ObjectionIn,
    Objector,
    PlanDraft,
    PlanStatus,
    VictimLoss,
    amend_plan,
    approve_plan,
    decide_objection,
    draft_plan,
    execute_return,
    get_plan,
    list_plans,
    publish_plan,
    record_objection,
)
from fundwall.fund_returns.working_days import SHANGHAI
from fundwall.police import OrderView, get_order
from police.conftest import BANK_A, FREE_BALANCE, FREEZE, OFFICER, Payer, Uow

from .conftest import FROZEN


def test_one_victims_money_goes_back_directly_and_the_residual_stays_frozen(
    stocked: Uow, freeze: OrderView, payer: Payer, clock: FixedClock
) -> None:
    # A1 settled ¥8,000 with ¥6,000 frozen: ¥3,500 would eat into the freeze.
    assert FREE_BALANCE in payer.pays(350_000)
    with stocked() as uow:
        plan = draft_plan(uow, OFFICER, PlanDraft(freeze.id, (VictimLoss("B1", 200_000),)))
        assert plan.item.method is AllocationMethod.DIRECT
        assert (plan.item.returned_fen, plan.item.residual_fen) == (200_000, FROZEN - 200_000)
        published = publish_plan(uow, OFFICER, plan.id)
    assert published.item.objection_ends_at == clock.now() + timedelta(days=30)
    assert published.item.objection_seconds == 30 * 86_400
    clock.advance(timedelta(days=30))  # Monday 1 July 2024, 16:00 in Beijing
    with stocked() as uow:
        approved = approve_plan(uow, OFFICER, plan.id)
    assert approved.status is PlanStatus.APPROVED
    assert approved.item.execute_by == datetime(2024, 7, 5, tzinfo=SHANGHAI)
    assert FREE_BALANCE in payer.pays(350_000)  # approval alone returns nothing
    share = approved.allocations[0]
    with stocked() as uow:
        executed = execute_return(uow, BANK_A, plan.id, share.id, "RT20240701-0001")
    assert executed.status is PlanStatus.EXECUTED and executed.executed_at == clock.now()
    assert executed.allocations[0].transfer_ref == "RT20240701-0001"
    # The freeze now holds ¥4,000: ¥3,500 of ¥8,000 passes, then ¥1,000 more would not.
    assert FREE_BALANCE not in payer.pays(350_000)
    assert FREE_BALANCE in payer.pays(100_000)
    with stocked() as uow:
        order = get_order(uow, OFFICER, freeze.id)
        actions = [r.action for r in uow.audit.tail(6)]
    assert order.item.status.value == "executed"  # the freeze stands for the residual
    assert actions[-3:] == ["lift_restriction", "restrict_account", "execute_return"]


def test_mixed_money_is_shared_an_upheld_objection_amends_it_and_all_of_it_goes_back(
    stocked: Uow, freeze: OrderView, payer: Payer, clock: FixedClock
) -> None:
    victims = (VictimLoss("B1", 400_000), VictimLoss("B2", 500_000))
    with stocked() as uow:
        plan = draft_plan(uow, OFFICER, PlanDraft(freeze.id, victims))
        publish_plan(uow, OFFICER, plan.id)
    shares = {a.victim_account: a.amount_fen for a in plan.allocations}
    assert plan.item.method is AllocationMethod.PROPORTIONAL
    assert shares == {"B1": 266_667, "B2": 333_333} and plan.item.residual_fen == 0
    clock.advance(timedelta(days=10))
    with stocked() as uow:
        objected = record_objection(
            uow, BANK_A, plan.id, ObjectionIn(Objector.VICTIM, "损失金额漏计一笔", "B2")
        )
        upheld = decide_objection(
            uow, OFFICER, plan.id, objected.objections[0].id, ObjectionDecision.UPHELD, "核实属实"
        )
    assert upheld.status is PlanStatus.DRAFT and upheld.item.objection_ends_at is None
    victims = (VictimLoss("B1", 400_000), VictimLoss("B2", 800_000))
    with stocked() as uow:
        amended = amend_plan(uow, OFFICER, plan.id, PlanDraft(freeze.id, victims))
        publish_plan(uow, OFFICER, plan.id)
    assert {a.victim_account: a.amount_fen for a in amended.allocations} == {
        "B1": 200_000,
        "B2": 400_000,
    }
    clock.advance(timedelta(days=30))
    with stocked() as uow:
        approved = approve_plan(uow, OFFICER, plan.id)
        first, second = approved.allocations
        partly = execute_return(uow, BANK_A, plan.id, first.id, "RT-1")
        assert partly.status is PlanStatus.EXECUTING
        assert [p.id for p in list_plans(uow, BANK_A, PlanStatus.EXECUTING).items] == [plan.id]
    assert FREEZE not in payer.pays(1) and FREE_BALANCE in payer.pays(450_000)
    with stocked() as uow:
        done = execute_return(uow, BANK_A, plan.id, second.id, "RT-2")
        seen = get_plan(uow, OFFICER, plan.id)
    assert done.status is PlanStatus.EXECUTED and seen.item.residual_fen == 0
    # Nothing is frozen any more: the whole ¥8,000 is free.
    assert FREE_BALANCE not in payer.pays(750_000)


def test_a_plan_drafted_after_one_executed_shares_only_what_is_left(
    stocked: Uow, freeze: OrderView, clock: FixedClock
) -> None:
    with stocked() as uow:
        plan = draft_plan(uow, OFFICER, PlanDraft(freeze.id, (VictimLoss("B1", 100_000),)))
        publish_plan(uow, OFFICER, plan.id)
    clock.set(datetime(2024, 7, 2, 2, tzinfo=UTC))
    with stocked() as uow:
        approved = approve_plan(uow, OFFICER, plan.id)
        execute_return(uow, BANK_A, plan.id, approved.allocations[0].id, "RT-1")
        # A victim found later starts a new round on what the freeze still holds.
        again = draft_plan(uow, OFFICER, PlanDraft(freeze.id, (VictimLoss("B2", 900_000),)))
    assert (again.item.frozen_fen, again.item.returned_fen) == (FROZEN - 100_000, FROZEN - 100_000)
