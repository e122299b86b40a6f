"""Police orders in the console: the list with its timers and the orders expiring soon, the
officer's order form, an order's page with its history and documents, and the bank's answer.

The police see their unit's orders, a bank the orders routed to it (the use cases decide).
Times left are computed on the server, by its clock; the page counts them down from there
(static/app.js), marking the last `SOON_SECONDS`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.police import (
    OrderAnswer,
    OrderFilter,
    OrderRequest,
    answer_order,
    expiring_orders,
    get_order,
    issue_order,
    list_orders,
)
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.params import Params
from fundwall.web.render import form_page, page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)
FORM_TEXT: Final = 500
SOON_SECONDS: Final = 24 * 3600
"""A timer this close to its end is marked (the orders expiring within 24 hours)."""


def time_left(seconds: int | None) -> str:
    """A timer as the lists show it: 1d 02:03:04, or 02:03:04 under a day (app.js draws the
    same as it counts down)."""
    if seconds is None:
        return "—"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


TIMERS: Final = {"time_left": time_left, "soon_seconds": SOON_SECONDS}
"""What order_macros.html's countdown needs of a page's context."""


@router.get("/orders")
def orders_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    params = Params(request.query_params)
    wanted = OrderFilter(
        params.choice("kind", OrderKind),
        params.choice("status", OrderStatus),
        params.text("account", 64),
        params.page(),
        answered_from=params.moment("answered_from"),
        answered_until=params.moment("answered_to", end_of_day=True),
    )
    return page(
        request,
        "orders.html",
        {
            "results": list_orders(uow, actor, wanted),
            "expiring": expiring_orders(uow, actor),
            "problems": params.problems,
            "form": request.query_params,
            **TIMERS,
            "may_issue": actor.can(Permission.ISSUE_ORDERS),
        },
        session=session,
    )


@router.get("/orders/new")
def order_form(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    actor.require(Permission.ISSUE_ORDERS)
    return form_page(request, "order_form.html", request.query_params, "", session=session)


def order_request(form: dict[str, str]) -> OrderRequest:
    """The officer's form as an order request; InvalidInput naming the first bad field."""
    params = Params(form)
    kind = params.choice("kind", OrderKind)
    amount = params.money_fen("amount")
    period_from = params.moment("period_from")
    period_to = params.moment("period_to", end_of_day=True)
    texts = {
        name: params.text(name, FORM_TEXT) or ""
        for name in ("document_no", "officers", "police_case_no", "legal_basis")
    }
    account = params.text("account_no", 64)
    target = params.text("target_document_no", 64)
    if params.problems:
        raise params.problems[0].error()
    if kind is None:
        raise InvalidInput("choose the kind of order", "kind")
    return OrderRequest(
        kind,
        account_no=account,
        amount_fen=amount,
        period_from=period_from,
        period_to=period_to,
        target_document_no=target,
        major_case=form.get("major_case") == "on",
        **texts,
    )


@router.post("/orders", dependencies=[Depends(csrf_protected)])
def create_order(
    request: Request, actor: ConsoleActor, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """Issue the order and show it; a refused order comes back as the form with the reason."""
    actor.require(Permission.ISSUE_ORDERS)
    try:
        view = issue_order(uow, actor, order_request(form))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        return form_page(request, "order_form.html", form, refused.message(), session=session,
                         status_code=HTTPStatus.UNPROCESSABLE_ENTITY)  # fmt: skip
    return RedirectResponse(f"/orders/{view.id}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/orders/{order_id}")
def order_page(
    request: Request, order_id: int, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    order = get_order(uow, actor, order_id)
    return page(
        request,
        "order.html",
        {
            "order": order,
            **TIMERS,
            "may_answer": actor.can(Permission.EXECUTE_ORDERS)
            and order.status is OrderStatus.ISSUED,
            "may_plan_return": actor.can(Permission.RETURN_FUNDS)
            and order.item.kind is OrderKind.FREEZE
            and order.status is OrderStatus.EXECUTED,
        },
        session=session,
    )


@router.post("/orders/{order_id}/answer", dependencies=[Depends(csrf_protected)])
def answer_page(
    order_id: int,
    actor: ConsoleActor,
    form: FormDep,
    uow: UnitOfWorkDep,
    console: ConsoleDep,
) -> Response:
    """The bank's answer: executed (the amount held, blank for what the ledger holds) or
    refused with a reason; back to the order's page."""
    params = Params(form)
    held = params.money_fen("held")
    if params.problems:
        raise params.problems[0].error()
    executed = form.get("result") != "refused"
    answer = OrderAnswer(executed, held, None if executed else form.get("reason", ""))
    answer_order(uow, actor, order_id, answer, console.keyring)
    return RedirectResponse(f"/orders/{order_id}", status_code=HTTPStatus.SEE_OTHER)
