"""What a return plan refuses, each with a clear reason and nothing written, and whose plans
an actor sees: another unit's or another bank's plan is not found, as a missing one."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.police import OrderKind
from fundwall.fund_returns import (
    ObjectionDecision,
    ObjectionIn,
    Objector,
    PlanDraft,
    PlanView,
    VictimLoss,
    approve_plan,
    decide_objection,
    draft_plan,
    execute_return,
    get_plan,
    list_plans,
    publish_plan,
    record_objection,
    return_receipt,
)
from fundwall.police import OrderView, issue_order
from police.conftest import BANK_A, BANK_B, OFFICER, OTHER_UNIT, Uow, request

from .conftest import FROZEN

ONE_VICTIM = (VictimLoss("B1", 200_000),)


@pytest.fixture
def published(stocked: Uow, freeze: OrderView) -> PlanView:
    with stocked() as uow:
        plan = draft_plan(uow, OFFICER, PlanDraft(freeze.id, ONE_VICTIM))
        return publish_plan(uow, OFFICER, plan.id)


def test_a_plan_is_on_an_executed_freeze_in_force_and_within_what_it_holds(
    stocked: Uow, freeze: OrderView, clock: FixedClock, keyring: Keyring
) -> None:
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT, account_no="A2"))
        unanswered = issue_order(uow, OFFICER, request(OrderKind.FREEZE, account_no="A2"))
        with pytest.raises(InvalidInput, match="not a freeze") as refused:
            draft_plan(uow, OFFICER, PlanDraft(stop.id, ONE_VICTIM))
        assert refused.value.field == "order_id"
        with pytest.raises(Conflict, match="has not executed"):
            draft_plan(uow, OFFICER, PlanDraft(unanswered.id, ONE_VICTIM))
        with pytest.raises(InvalidInput, match="over the frozen amount") as over:
            draft_plan(uow, OFFICER, PlanDraft(freeze.id, ONE_VICTIM, amount_fen=FROZEN + 1))
        assert over.value.field == "amount_fen"
        with pytest.raises(InvalidInput, match="not a victim's"):
            draft_plan(uow, OFFICER, PlanDraft(freeze.id, (VictimLoss("A1", 1),)))
        drafted = draft_plan(uow, OFFICER, PlanDraft(freeze.id, ONE_VICTIM))
        with pytest.raises(Conflict, match="under way"):
            draft_plan(uow, OFFICER, PlanDraft(freeze.id, ONE_VICTIM))
    clock.advance(timedelta(days=200))  # past the freeze's six months
    with stocked() as uow:
        with pytest.raises(Conflict, match="no longer in force"):
            publish_plan(uow, OFFICER, drafted.id)
        assert [p.id for p in list_plans(uow, OFFICER).items] == [drafted.id]


def test_objections_come_in_the_period_and_are_decided_before_approval(
    stocked: Uow, published: PlanView, clock: FixedClock
) -> None:
    objection = ObjectionIn(Objector.ACCOUNT_HOLDER, "该款项系本人合法收入")
    with stocked() as uow:
        with pytest.raises(Conflict, match=f"objection period of return plan {published.id} runs"):
            approve_plan(uow, OFFICER, published.id)
        with pytest.raises(Conflict, match="in its objection period until"):
            execute_return(uow, BANK_A, published.id, published.allocations[0].id, "RT-1")
        with pytest.raises(InvalidInput, match="in the clear"):
            with_id = ObjectionIn(Objector.VICTIM, "本人身份证 110101199003074514")
            record_objection(uow, OFFICER, published.id, with_id)
        objected = record_objection(uow, OFFICER, published.id, objection)
    clock.advance(timedelta(days=30))
    with stocked() as uow:
        with pytest.raises(Conflict, match="ended at"):
            record_objection(uow, BANK_A, published.id, objection)
        with pytest.raises(Conflict, match=rf"decide objections \[{objected.objections[0].id}\]"):
            approve_plan(uow, OFFICER, published.id)
        decide_objection(
            uow, OFFICER, published.id, objected.objections[0].id,
            ObjectionDecision.DISMISSED, "经查款项来源于被害人转账",
        )  # fmt: skip
        with pytest.raises(Conflict, match="decided already"):
            decide_objection(uow, OFFICER, published.id, objected.objections[0].id,
                             ObjectionDecision.UPHELD, "再议")  # fmt: skip
        approved = approve_plan(uow, OFFICER, published.id)
    assert approved.objections[0].decision is ObjectionDecision.DISMISSED


def test_another_unit_or_bank_finds_no_plan_and_a_bank_drafts_none(
    stocked: Uow, freeze: OrderView, published: PlanView, clock: FixedClock
) -> None:
    share = published.allocations[0].id
    with stocked() as uow:
        with pytest.raises(NotFound):
            get_plan(uow, OTHER_UNIT, published.id)
        with pytest.raises(NotFound):
            draft_plan(uow, OTHER_UNIT, PlanDraft(freeze.id, ONE_VICTIM))
        with pytest.raises(NotFound):
            get_plan(uow, BANK_B, published.id)
        with pytest.raises(PermissionDenied):
            draft_plan(uow, BANK_A, PlanDraft(freeze.id, ONE_VICTIM))
        with pytest.raises(PermissionDenied):
            execute_return(uow, OFFICER, published.id, share, "RT-1")
        assert list_plans(uow, BANK_B).items == [] and list_plans(uow, OTHER_UNIT).items == []
    clock.advance(timedelta(days=30))
    with stocked() as uow:
        approve_plan(uow, OFFICER, published.id)
        with pytest.raises(NotFound):
            execute_return(uow, BANK_B, published.id, share, "RT-1")
        with pytest.raises(NotFound):
            execute_return(uow, BANK_A, published.id, share + 99, "RT-1")
        with pytest.raises(Conflict, match="no receipt"):
            return_receipt(uow, OFFICER, published.id, share)
        with pytest.raises(InvalidInput):
            execute_return(uow, BANK_A, published.id, share, "流水 1")
        execute_return(uow, BANK_A, published.id, share, "RT-1")
        with pytest.raises(Conflict, match="is executed; only an approved plan"):
            execute_return(uow, BANK_A, published.id, share, "RT-2")


def test_the_receipt_names_the_freeze_the_accounts_the_amount_and_the_transfer(
    stocked: Uow, freeze: OrderView, published: PlanView, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=31))
    share = published.allocations[0].id
    with stocked() as uow:
        approve_plan(uow, OFFICER, published.id)
        execute_return(uow, BANK_A, published.id, share, "RT20240702-0042")
        pdf = return_receipt(uow, OFFICER, published.id, share)
        assert return_receipt(uow, BANK_A, published.id, share) == pdf  # invariant
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("资金返还回执", freeze.item.document_no, "A1", "B1", "¥2,000.00",
                     "RT20240702-0042", "直接返还", "2024年07月02日"):  # fmt: skip
        assert expected in text
