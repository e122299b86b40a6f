"""The return of frozen money API (资金返还), for police units' and banks' systems.

A police unit's key drafts a return plan on one of its freezes, amends it, publishes it for
its objection period, decides objections and approves it; the unit or the holding bank
records objections; the bank's key executes each share and reads its receipt (PDF). A
signed-in console user reads with the session. Another unit's or bank's plan answers 404;
bad input is a 422 problem naming the field, a clash with the plan's state a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from fundwall.api.orders import ACCOUNT_NO, TEXT
from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.domain.money import MAX_FEN
from fundwall.fund_returns import (
    AllocationMethod,
    ObjectionDecision,
    ObjectionIn,
    Objector,
    PlanDraft,
    PlanItem,
    PlanStatus,
    PlanView,
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
    return_receipt,
)
from fundwall.fund_returns.allocation import MAX_VICTIMS
from fundwall.store.paging import MAX_PAGE

TAG = "fund returns"
KEY: Final = 2**63 - 1
PlanId = Annotated[int, Path(ge=1, le=KEY, description="the plan's id")]
ShareId = Annotated[int, Path(ge=1, le=KEY, description="the share's id")]
ObjectionId = Annotated[int, Path(ge=1, le=KEY, description="the objection's id")]
_WRITE: Final = problem_responses(400, 401, 403, 404, 409, 422)


class VictimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    victim_account: str = Field(pattern=ACCOUNT_NO, description="where the money goes back")
    loss_fen: int = Field(ge=1, le=MAX_FEN, description="the victim's traced loss in it")


class PlanIn(BaseModel):
    """A plan on one of the unit's freezes: the victims with their losses, and the part of
    the frozen money to share (none: all the freeze still holds)."""

    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(ge=1, le=KEY, description="the freeze order")
    victims: list[VictimIn] = Field(min_length=1, max_length=MAX_VICTIMS)
    amount_fen: int | None = Field(default=None, ge=1, le=MAX_FEN)

    def to_draft(self) -> PlanDraft:
        victims = tuple(VictimLoss(v.victim_account, v.loss_fen) for v in self.victims)
        return PlanDraft(self.order_id, victims, self.amount_fen)


class ObjectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objector: Objector
    text: str = Field(max_length=TEXT, description="the objection, no ID or phone number")
    objector_account: str | None = Field(default=None, pattern=ACCOUNT_NO)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: ObjectionDecision
    reason: str = Field(max_length=TEXT)


class ExecutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_ref: str = Field(pattern=ACCOUNT_NO, description="the bank's transfer reference")


class PlanItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    police_unit: str
    order_id: int
    document_no: str
    account_no: str
    bank_code: str
    method: AllocationMethod
    frozen_fen: int
    returned_fen: int
    residual_fen: int
    status: PlanStatus
    created_at: datetime
    objection_ends_at: datetime | None
    objection_seconds: int | None = Field(description="objection period left, server clock")
    execute_by: datetime | None


class ShareOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    victim_account: str
    loss_fen: int
    amount_fen: int
    executed_at: datetime | None
    executed_by: str | None
    transfer_ref: str | None


class ObjectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    objector: Objector
    objector_account: str | None
    text: str
    recorded_at: datetime
    recorded_by: str
    decision: ObjectionDecision | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by: str | None


class PlanOut(PlanItemOut):
    created_by: str
    published_at: datetime | None
    approved_at: datetime | None
    approved_by: str | None
    executed_at: datetime | None
    shares: list[ShareOut]
    objections: list[ObjectionOut]

    @classmethod
    def of(cls, view: PlanView) -> PlanOut:
        return cls(
            **PlanItemOut.model_validate(view.item).model_dump(),
            created_by=view.created_by,
            published_at=view.published_at,
            approved_at=view.approved_at,
            approved_by=view.approved_by,
            executed_at=view.executed_at,
            shares=[ShareOut.model_validate(a) for a in view.allocations],
            objections=[ObjectionOut.model_validate(o) for o in view.objections],
        )


class PlanPage(BaseModel):
    page: int
    more: bool
    items: list[PlanItemOut]


def _item(item: PlanItem) -> PlanItemOut:
    return PlanItemOut.model_validate(item)


router = APIRouter(prefix="/v1/returns", tags=[TAG])


@router.post("", status_code=201, response_model=PlanOut, responses=_WRITE, openapi_extra=KEYED)
def create_plan(body: PlanIn, actor: ApiActor, uow: UnitOfWorkDep) -> PlanOut:
    """Draft a return plan on one of the key's unit's executed freezes."""
    return PlanOut.of(draft_plan(uow, actor, body.to_draft()))


@router.get(
    "", response_model=PlanPage, responses=problem_responses(401, 403, 422), openapi_extra=KEYED
)
def get_plans(
    actor: ApiActor,
    uow: UnitOfWorkDep,
    status: PlanStatus | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> PlanPage:
    """The unit's plans, or those on the bank's accounts, newest first."""
    found = list_plans(uow, actor, status, page)
    return PlanPage(page=found.number, more=found.more, items=[_item(i) for i in found.items])


@router.get(
    "/{plan_id}", response_model=PlanOut, responses=problem_responses(401, 403, 404, 422),
    openapi_extra=KEYED,
)  # fmt: skip
def read_plan(plan_id: PlanId, actor: ApiActor, uow: UnitOfWorkDep) -> PlanOut:
    """One plan with its shares and objections."""
    return PlanOut.of(get_plan(uow, actor, plan_id))


@router.post("/{plan_id}/amend", response_model=PlanOut, responses=_WRITE, openapi_extra=KEYED)
def post_amend(plan_id: PlanId, body: PlanIn, actor: ApiActor, uow: UnitOfWorkDep) -> PlanOut:
    """Replace a draft plan's victims and amount."""
    return PlanOut.of(amend_plan(uow, actor, plan_id, body.to_draft()))


@router.post("/{plan_id}/publish", response_model=PlanOut, responses=_WRITE, openapi_extra=KEYED)
def post_publish(plan_id: PlanId, actor: ApiActor, uow: UnitOfWorkDep) -> PlanOut:
    """Publish a draft plan: its objection period starts now."""
    return PlanOut.of(publish_plan(uow, actor, plan_id))


@router.post("/{plan_id}/objections", response_model=PlanOut, responses=_WRITE, openapi_extra=KEYED)
def post_objection(
    plan_id: PlanId, body: ObjectionBody, actor: ApiActor, uow: UnitOfWorkDep
) -> PlanOut:
    """Record an objection during the plan's objection period."""
    objection = ObjectionIn(body.objector, body.text, body.objector_account)
    return PlanOut.of(record_objection(uow, actor, plan_id, objection))


@router.post(
    "/{plan_id}/objections/{objection_id}/decision", response_model=PlanOut,
    responses=_WRITE, openapi_extra=KEYED,
)  # fmt: skip
def post_decision(
    plan_id: PlanId, objection_id: ObjectionId, body: DecisionIn, actor: ApiActor,
    uow: UnitOfWorkDep,
) -> PlanOut:  # fmt: skip
    """Decide an objection; upheld sends the plan back to draft."""
    return PlanOut.of(
        decide_objection(uow, actor, plan_id, objection_id, body.decision, body.reason)
    )


@router.post("/{plan_id}/approve", response_model=PlanOut, responses=_WRITE, openapi_extra=KEYED)
def post_approve(plan_id: PlanId, actor: ApiActor, uow: UnitOfWorkDep) -> PlanOut:
    """Approve a plan after its objection period; the bank's working days start."""
    return PlanOut.of(approve_plan(uow, actor, plan_id))


@router.post(
    "/{plan_id}/shares/{share_id}/execute", response_model=PlanOut, responses=_WRITE,
    openapi_extra=KEYED,
)  # fmt: skip
def post_execute(
    plan_id: PlanId, share_id: ShareId, body: ExecutionIn, actor: ApiActor, uow: UnitOfWorkDep
) -> PlanOut:
    """The bank's transfer back of one share; the freeze shrinks by its amount."""
    return PlanOut.of(execute_return(uow, actor, plan_id, share_id, body.transfer_ref))


_PDF: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"application/pdf": {}}, "description": "the receipt as PDF"}
}


@router.get(
    "/{plan_id}/shares/{share_id}/receipt.pdf", response_class=Response,
    responses={**_PDF, **problem_responses(401, 403, 404, 409, 422)}, openapi_extra=KEYED,
)  # fmt: skip
def get_receipt(
    plan_id: PlanId, share_id: ShareId, actor: ApiActor, uow: UnitOfWorkDep
) -> Response:
    """The receipt (资金返还回执) of one transfer back, as PDF, in Chinese."""
    pdf = return_receipt(uow, actor, plan_id, share_id)
    filename = f"return-{plan_id}-{share_id}-receipt.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )
