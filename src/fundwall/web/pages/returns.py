"""The return of frozen money in the console: the plans list, the officer's draft form (the
freeze, the victims one a line; from a trace, the traced losses each victim's money left in
the frozen account are filled in), and a plan's page with its shares, its objection period
counting down, the objections and their decisions, and the buttons of each side (the unit
publishes, decides and approves; the holding bank executes each share and downloads its
receipt).

The police see their unit's plans, a bank those on its accounts (the use cases decide).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.fund_returns import (
    ObjectionDecision,
    ObjectionIn,
    Objector,
    PlanDraft,
    PlanStatus,
    VictimLoss,
    approve_plan,
    decide_objection,
    draft_plan,
    execute_return,
    get_plan,
    list_plans,
    publish_plan,
    record_objection,
)
from fundwall.police import get_order
from fundwall.tracing.traces import get_trace
from fundwall.tracing.views import TraceView
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.pages.orders import TIMERS
from fundwall.web.params import Params
from fundwall.web.render import form_page, page

router = APIRouter(include_in_schema=False)
FORM_TEXT: Final = 500
CSRF: Final = [Depends(csrf_protected)]
MAX_LINES: Final = 100
"""Victims the console's form takes at once (the API takes more)."""
ID_DIGITS: Final = 18
"""The longest record id a form field takes (a database id fits)."""


def victim_losses(text: str) -> tuple[VictimLoss, ...]:
    """The form's lines `victim's account, loss in yuan` as victims' losses; what follows a
    `#` on a line is a note (the trace's report label) and is left out. InvalidInput naming
    the first bad line."""
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"1 to {MAX_LINES} victims, one a line", "victims")
    victims = []
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.replace("，", ",").split(",")]
        if len(parts) != 2 or not parts[0]:
            raise InvalidInput(f"line {number}: the victim's account, then the loss", "victims")
        params = Params({"loss": parts[1]})
        loss = params.money_fen("loss")
        if loss is None:
            problem = params.problems[0].english() if params.problems else "the loss in yuan"
            raise InvalidInput(f"line {number}: {problem}", "victims")
        victims.append(VictimLoss(parts[0], loss))
    return tuple(victims)


def traced_losses(trace: TraceView, account_no: str) -> str:
    """The form's victims as a trace leaves them in `account_no`: a line per source still
    held there, the loss filled in, the victim's account left for the officer (the trace
    knows the report, not where the money goes back), the report as the line's note."""
    held = next(
        (account.held for account in trace.result.accounts if account.account_no == account_no),
        (),
    )
    return "".join(
        f", {share.amount_fen // 100}.{share.amount_fen % 100:02d}  # {share.source}\n"
        for share in held
        if share.amount_fen > 0
    )


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
            "may_draft": actor.can(Permission.RETURN_FUNDS),
        },
        session=session,
    )


@router.get("/returns/new")
def plan_form(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The draft form; `order` names the freeze, `trace` a trace whose losses in the frozen
    account fill the victims in."""
    actor.require(Permission.RETURN_FUNDS)
    order_id = _record_id(request.query_params, "order")
    trace_id = _record_id(request.query_params, "trace")
    values = {"order": str(order_id or "")}
    order = get_order(uow, actor, order_id) if order_id else None
    if order is not None and trace_id is not None:
        values["victims"] = traced_losses(get_trace(uow, actor, trace_id), order.item.account_no)
        values["trace"] = str(trace_id)
    return form_page(request, "return_form.html", values, "", session=session, order=order)


def _record_id(raw: Mapping[str, str], name: str) -> int | None:
    """A record's id given in a form or query string; InvalidInput when it is not one."""
    value = raw.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= ID_DIGITS):
        raise InvalidInput("a record's number", name)
    return int(value)


@router.post("/returns", dependencies=CSRF)
def create_plan(
    request: Request, actor: ConsoleActor, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """Draft the plan and show it; a refused draft comes back as the form with the reason
    (a freeze that is not the unit's is not found, as one that does not exist)."""
    actor.require(Permission.RETURN_FUNDS)
    order_id = _record_id(form, "order")
    if order_id is None:
        raise InvalidInput("name the freeze whose money goes back", "order")
    order = get_order(uow, actor, order_id)
    try:
        params = Params(form)
        amount = params.money_fen("amount")
        if params.problems:
            raise params.problems[0].error()
        victims = victim_losses(form.get("victims", ""))
        plan = draft_plan(uow, actor, PlanDraft(order_id, victims, amount))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        return form_page(request, "return_form.html", form, refused.message(), session=session,
                         status_code=HTTPStatus.UNPROCESSABLE_ENTITY, order=order)  # fmt: skip
    return _back(plan.id)


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
