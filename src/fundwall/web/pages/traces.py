"""Funds-chain traces in the console, for the police: the start form (the victims' payments,
one a line, and the rule), the unit's traces, and a trace's page — the chain drawn (hops
left to right, width by amount, each account's standing in colour; static/app.js draws it
from the page's data attribute), the accounts and exits, and the proposed stops with the
batch form that issues them all as one batch of stop-payment orders.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.police import OrderFilter, list_orders
from fundwall.tracing.model import DEFAULT_RULE, AttributionRule, TraceStart
from fundwall.tracing.traces import confirm_batch, get_trace, list_traces, start_trace
from fundwall.tracing.views import BatchRequest, Standing, TraceView
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.params import Params
from fundwall.web.render import form_page, page

router = APIRouter(include_in_schema=False)
FORM_TEXT: Final = 500
MAX_LINES: Final = 100
"""Victims' payments the console's form takes at once (the API takes more)."""
EXIT_NODE: Final = "exit"
RULES: Final = tuple(AttributionRule)


def trace_starts(text: str) -> list[TraceStart]:
    """The form's lines `label, account, time, amount in yuan` as trace starts; InvalidInput
    naming the first bad line."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"1 to {MAX_LINES} payments, one a line", "starts")
    starts = []
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.replace("，", ",").split(",")]
        if len(parts) != 4:
            raise InvalidInput(f"line {number}: label, account, time, amount", "starts")
        params = Params({"at": parts[2], "amount": parts[3]})
        at, amount = params.moment("at"), params.money_fen("amount")
        if params.problems or at is None or amount is None:
            problem = params.problems[0].english() if params.problems else "time and amount"
            raise InvalidInput(f"line {number}: {problem}", "starts")
        starts.append(TraceStart(parts[0], parts[1], at, amount))
    return starts


def chain_chart(view: TraceView) -> dict[str, Any]:
    """The Sankey app.js draws: an account a node at its hop's depth, coloured by standing;
    a link per pair of accounts with the traced money it carried; exits one node past. A
    Sankey flows one way, so money sent back to an account reached as early or earlier (a
    round trip between mules) is not drawn; the trace's table lists every transfer."""
    nodes: dict[str, dict[str, Any]] = {}
    for account in view.result.accounts:
        standing = view.standing.get(account.account_no, Standing.OPEN)
        nodes[account.account_no] = {
            "name": account.account_no,
            "depth": account.hop - 1,
            "bank": account.bank,
            "held": account.held_fen,
            "standing": standing.value,
            "label": standing.value,
        }
    links: dict[tuple[str, str], int] = {}
    deepest = max((account.hop for account in view.result.accounts), default=0)
    for transfer in view.result.transfers:
        target = transfer.payee_account or EXIT_NODE
        if transfer.exit is not None:
            where = transfer.payee_account
            target = f"{where} ({transfer.exit.value})" if where else transfer.exit.value
            exit_node = {"name": target, "depth": deepest, "bank": transfer.payee_bank,
                         "held": 0, "standing": EXIT_NODE, "label": EXIT_NODE}  # fmt: skip
            nodes.setdefault(target, exit_node)
        source = nodes.get(transfer.payer_account)
        ahead = target in nodes and source is not None and nodes[target]["depth"] > source["depth"]
        if transfer.carried_fen > 0 and ahead:
            key = (transfer.payer_account, target)
            links[key] = links.get(key, 0) + transfer.carried_fen
    return {
        "nodes": list(nodes.values()),
        "links": [{"source": s, "target": t, "value": v} for (s, t), v in links.items()],
    }


@router.get("/traces")
def traces_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    params = Params(request.query_params)
    return page(
        request,
        "traces.html",
        {"results": list_traces(uow, actor, params.page()), "problems": params.problems,
         "may_trace": actor.can(Permission.ISSUE_ORDERS)},
        session=session,
    )  # fmt: skip


@router.get("/traces/new")
def trace_form(request: Request, actor: ConsoleActor, session: SessionDep) -> Response:
    actor.require(Permission.ISSUE_ORDERS)
    return form_page(request, "trace_form.html", {"rule": DEFAULT_RULE.value}, "",
                     session=session, rules=RULES)  # fmt: skip


@router.post("/traces", dependencies=[Depends(csrf_protected)])
def create_trace(
    request: Request, actor: ConsoleActor, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """Trace and show it; a refused start comes back as the form with the reason."""
    actor.require(Permission.ISSUE_ORDERS)
    try:
        rule = Params(form).choice("rule", AttributionRule) or DEFAULT_RULE
        view = start_trace(uow, actor, trace_starts(form.get("starts", "")), rule)
    except InvalidInput as refused:
        uow.rollback()
        return form_page(request, "trace_form.html", form, refused.message(), session=session,
                         status_code=HTTPStatus.UNPROCESSABLE_ENTITY, rules=RULES)  # fmt: skip
    return RedirectResponse(f"/traces/{view.id}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/traces/{trace_id}")
def trace_page(
    request: Request, trace_id: int, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    return _trace(request, session, actor, uow, get_trace(uow, actor, trace_id), {}, "")


def executed_freezes(uow: UnitOfWorkDep, actor: ConsoleActor, view: TraceView) -> dict[str, int]:
    """The actor's freeze the bank executed on each traced account that stands frozen, by
    account: where the officer plans the return of the money (none without the permission)."""
    if not actor.can(Permission.RETURN_FUNDS):
        return {}
    found = {}
    for account, standing in view.standing.items():
        if standing is Standing.FROZEN:
            wanted = OrderFilter(OrderKind.FREEZE, OrderStatus.EXECUTED, account)
            freezes = list_orders(uow, actor, wanted).items
            if freezes:
                found[account] = freezes[0].id
    return found


def _trace(
    request: Request,
    session: SessionDep,
    actor: ConsoleActor,
    uow: UnitOfWorkDep,
    view: TraceView,
    values: dict[str, str],
    error: str,
    status_code: int = HTTPStatus.OK,
) -> Response:
    return page(
        request,
        "trace.html",
        {
            "trace": view,
            "chart": chain_chart(view),
            "freezes": executed_freezes(uow, actor, view),
            "values": values,
            "error": error,
            "may_confirm": actor.can(Permission.ISSUE_ORDERS) and view.batch is None,
        },
        session=session,
        status_code=status_code,
    )


@router.post("/traces/{trace_id}/batch", dependencies=[Depends(csrf_protected)])
def batch_page(
    request: Request,
    trace_id: int,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
) -> Response:
    """Issue every proposed stop as one batch (the API also takes a choice of them); a
    refusal comes back on the trace's page."""
    params = Params(form)
    prefix, officers, case_no, basis = (
        params.text(name, FORM_TEXT) or ""
        for name in ("document_prefix", "officers", "police_case_no", "legal_basis")
    )
    try:
        if params.problems:
            raise params.problems[0].error()
        confirm_batch(uow, actor, trace_id, BatchRequest(prefix, officers, case_no, basis))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        view = get_trace(uow, actor, trace_id)
        values = {name: value for name, value in form.items() if name != "csrf_token"}
        return _trace(request, session, actor, uow, view, values, refused.message(),
                      HTTPStatus.UNPROCESSABLE_ENTITY)  # fmt: skip
    return RedirectResponse(f"/traces/{trace_id}", status_code=HTTPStatus.SEE_OTHER)
