"""The return of frozen money in the console: the plans list, and a plan's page with its
shares, its objection period counting down, the objections and their decisions, and the
buttons of each side (the unit publishes, decides and approves; the holding bank executes
each share and downloads its receipt). Plans are drafted through the API
(`POST /v1/returns`), where a trace will hand the victims' losses over.

The police see their unit's plans, a bank those on its accounts (the use cases decide).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.domain.errors import InvalidInput
from fundwall.fund_returns import (
    ObjectionDecision,
    ObjectionIn,
    Objector,
    PlanStatus,
    approve_plan,
    decide_objection,
    execute_return,
    get_plan,
    list_plans,
    publish_plan,
    record_objection,
)
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.pages.orders import TIMERS
from fundwall.web.params import Params
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)
FORM_TEXT: Final = 500
CSRF: Final = [Depends(csrf_protected)]


def _back(plan_id: int) -> Response:
    return RedirectResponse(f"/returns/{plan_id}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/returns")
def plans_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    params = Params(request.query_params)
    status, number = params.choice("status", PlanStatus), params.page()
    return page(
        request,
        "returns.html",
        {
            "results": list_plans(uow, actor, status, number),
            "problems": params.problems,
            "form": request.query_params,
            **TIMERS,
        },
        session=session,
    )


@router.get("/returns/{plan_id}")
def plan_page(
    request: Request, plan_id: int, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    plan = get_plan(uow, actor, plan_id)
    return page(
        request,
        "return_plan.html",
        {
            "plan": plan,
            **TIMERS,
            "may_manage": actor.can(Permission.RETURN_FUNDS),
            "may_execute": actor.can(Permission.EXECUTE_ORDERS)
            and plan.status in (PlanStatus.APPROVED, PlanStatus.EXECUTING),
        },
        session=session,
    )


@router.post("/returns/{plan_id}/publish", dependencies=CSRF)
def publish_page(plan_id: int, actor: ConsoleActor, uow: UnitOfWorkDep) -> Response:
    publish_plan(uow, actor, plan_id)
    return _back(plan_id)


@router.post("/returns/{plan_id}/approve", dependencies=CSRF)
def approve_page(plan_id: int, actor: ConsoleActor, uow: UnitOfWorkDep) -> Response:
    approve_plan(uow, actor, plan_id)
    return _back(plan_id)


@router.post("/returns/{plan_id}/objections", dependencies=CSRF)
def objection_page(
    plan_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    params = Params(form)
    objector = params.choice("objector", Objector)
    account = params.text("objector_account", 64)
    if params.problems:
        raise params.problems[0].error()
    if objector is None:
        raise InvalidInput("say who raised the objection", "objector")
    text = form.get("text", "")[: FORM_TEXT + 1]
    record_objection(uow, actor, plan_id, ObjectionIn(objector, text, account))
    return _back(plan_id)


@router.post("/returns/{plan_id}/objections/{objection_id}/decision", dependencies=CSRF)
def decision_page(
    plan_id: int, objection_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    decision = Params(form).choice("decision", ObjectionDecision)
    if decision is None:
        raise InvalidInput("choose upheld or dismissed", "decision")
    reason = form.get("reason", "")[: FORM_TEXT + 1]
    decide_objection(uow, actor, plan_id, objection_id, decision, reason)
    return _back(plan_id)


@router.post("/returns/{plan_id}/shares/{share_id}/execute", dependencies=CSRF)
def execute_page(
    plan_id: int, share_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    execute_return(uow, actor, plan_id, share_id, form.get("transfer_ref", "")[:65])
    return _back(plan_id)
