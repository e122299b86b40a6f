"""Account-base screening (存量账户排查) on the console: the runs the actor sees with their
counts per check and the figures per member ("accounts screened and cleaned"); starting a run
over the member's accounts, or the hub's over the whole region; a run's work list with each
account's reasons and the actions taken on it; a bulk action on chosen accounts of the list;
the action's progress, account by account.

A bulk action is recorded at once (`request_action`) and carried out in the background as
the API carries it out (`carry_out_detached`): its page follows it until no account is
pending, and carries out again what an interrupted one left pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Final

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi import Path as PathParam
from starlette.responses import RedirectResponse, Response

from fundwall.api.screening import carry_out_detached
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import AccessDep, ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.domain.screening import Check, Outcome, ScreeningAction
from fundwall.screening.actions import action_progress, refusal_of, request_action
from fundwall.screening.model import MemberFigures
from fundwall.screening.runs import (
    list_runs,
    read_run,
    screen_accounts,
    screen_region,
    screening_figures,
    work_list,
)
from fundwall.store.uow import UnitOfWork
from fundwall.web.filters import chosen
from fundwall.web.forms import FormDep, Refusal, csrf_protected
from fundwall.web.params import Params, Problem
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_protected)]
RecordId = Annotated[int, PathParam(ge=1, le=2**62)]
CHECK_BOX: Final = "check:"
"""A ticked check is the field `check:<name>` (forms keep one value per name)."""
ACCOUNT_BOX: Final = "account:"
"""A ticked account of the work list is the field `account:<number>`."""
PROGRESS_SECONDS: Final = 2
"""How often an action's page asks how far it is, while accounts are pending."""


def _refused_status(error: InvalidInput | PermissionDenied) -> HTTPStatus:
    if isinstance(error, PermissionDenied):
        return HTTPStatus.FORBIDDEN
    return HTTPStatus.UNPROCESSABLE_ENTITY


def _able(actor: Actor, action: ScreeningAction) -> bool:
    """Whether the actor may carry out `action` (the use case's own rule)."""
    return refusal_of(action, actor.can, actor.member is not None) is None


def _figures(uow: UnitOfWork, actor: Actor, params: Params) -> list[MemberFigures]:
    """The figures of the period the query names (Beijing dates); a period the use case
    refuses is noted beside the form, and the figures of every run shown instead."""
    since = params.moment("since")
    until = params.moment("until", end_of_day=True)
    try:
        return screening_figures(uow, actor, since=since, until=until)
    except InvalidInput as refused:
        params.problems.append(Problem(refused.field or "until", refused.reason))
        return screening_figures(uow, actor)


def _screening_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    *,
    typed: Mapping[str, str] | None = None,
    refusal: Refusal | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    params = Params(request.query_params)
    figures = _figures(uow, actor, params)
    runs = list_runs(uow, actor, params.page())
    ticked = chosen(typed, CHECK_BOX) if typed is not None else [check.value for check in Check]
    return page(
        request,
        "screening.html",
        {
            "runs": runs,
            "figures": figures,
            "checks": list(Check),
            "ticked": ticked,
            "starts": actor.member is not None and actor.can(Permission.SCREEN_ACCOUNTS),
            "starts_region": actor.member is None and actor.can(Permission.SCREEN_REGION),
            "CHECK_BOX": CHECK_BOX,
            "refusal": refusal,
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/screening")
def screening_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The runs the actor sees, newest first, the figures per member, and the form that
    starts a run for those who may."""
    return _screening_page(request, actor, session, uow)


def _run_started(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    form: Mapping[str, str],
    *,
    region: bool,
    config: ConsoleConfig,
) -> Response:
    checks = chosen(form, CHECK_BOX)
    try:
        if region:
            run = screen_region(uow, actor, config.policy, checks=checks)
        else:
            run = screen_accounts(uow, actor, config.policy, checks=checks)
    except InvalidInput as refused:
        uow.rollback()
        return _screening_page(
            request, actor, session, uow, typed=form, refusal=Refusal.of(refused),
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )  # fmt: skip
    return RedirectResponse(f"/screening/runs/{run.id}", status_code=HTTPStatus.SEE_OTHER)


@router.post("/screening/runs", dependencies=CSRF)
def start_run(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Screen the member's accounts now with the ticked checks and open the run's work
    list; no check ticked (or one unknown) comes back as the form with the reason."""
    return _run_started(request, actor, session, uow, form, region=False, config=config)


@router.post("/screening/region", dependencies=CSRF)
def start_region_run(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The hub's run over every member's accounts, as `start_run` for one member's."""
    return _run_started(request, actor, session, uow, form, region=True, config=config)


def _run_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    run_id: int,
    *,
    typed: Mapping[str, str] | None = None,
    refusal: Refusal | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    params = Params(request.query_params)
    check = params.choice("check", Check)
    run = read_run(uow, actor, run_id)
    items = work_list(
        uow, actor, run.id, page=params.page(), check=check.value if check is not None else None
    )
    acts = actor.can(Permission.SCREEN_ACCOUNTS)
    if typed is None:  # the form starts on the check the list shows
        typed = {"action": ScreeningAction.NOTIFY.value}
        if check is not None:
            typed[f"{CHECK_BOX}{check.value}"] = "on"
    return page(
        request,
        "screening_run.html",
        {
            "run": run,
            "items": items,
            "check": check,
            "actions": [kind for kind in ScreeningAction if _able(actor, kind)] if acts else [],
            "values": {name: value for name, value in typed.items() if name != "csrf_token"},
            "refusal": refusal,
            "CHECK_BOX": CHECK_BOX,
            "ACCOUNT_BOX": ACCOUNT_BOX,
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/screening/runs/{run_id}")
def run_page(
    request: Request, run_id: RecordId, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """A run's counts and its work list (a member: its own accounts), of one check or of
    all, with the bulk-action form for those who may act on it."""
    return _run_page(request, actor, session, uow, run_id)


@router.post("/screening/runs/{run_id}/actions", dependencies=CSRF)
def act_on_run(
    request: Request,
    run_id: RecordId,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    access: AccessDep,
    config: ConsoleDep,
    background: BackgroundTasks,
) -> Response:
    """Record the action on the ticked accounts, or those the ticked checks found, or the
    ticked accounts among those (every page of the list for a check), carry it out in the
    background, and open its progress. A refusal (no account chosen, an unknown check or
    action, no reason, an action the actor may not take) is the work list with the reason
    at the form; another member's run is a 404."""
    actor.require(Permission.SCREEN_ACCOUNTS)
    try:
        view = request_action(
            uow, actor, run_id, form.get("action", "").strip(),
            reason=form.get("reason", ""),
            accounts=chosen(form, ACCOUNT_BOX) or None,
            checks=chosen(form, CHECK_BOX) or None,
        )  # fmt: skip
    except (InvalidInput, PermissionDenied) as refused:
        uow.rollback()
        return _run_page(
            request, actor, session, uow, run_id, typed=form, refusal=Refusal.of(refused),
            status_code=_refused_status(refused),
        )  # fmt: skip
    background.add_task(carry_out_detached, access, actor, view.id, config.policy)
    return RedirectResponse(f"/screening/actions/{view.id}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/screening/actions/{action_id}")
def action_page(
    request: Request,
    action_id: RecordId,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    """An action's outcomes counted and its accounts, a page at a time (of one outcome when
    asked); HTMX asks for the progress alone while accounts are pending."""
    params = Params(request.query_params)
    outcome = params.choice("outcome", Outcome)
    view = action_progress(
        uow, actor, action_id, page=params.page(),
        outcome=outcome.value if outcome is not None else None,
    )  # fmt: skip
    fragment = bool(request.headers.get("hx-request"))
    return page(
        request,
        "screening_progress.html" if fragment else "screening_action.html",
        {
            "view": view,
            "outcome": outcome,
            "outcomes": list(Outcome),
            "carries": actor.can(Permission.SCREEN_ACCOUNTS) and _able(actor, view.action),
            "poll_seconds": PROGRESS_SECONDS,
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.post("/screening/actions/{action_id}/carry-out", dependencies=CSRF)
def carry_out_again(
    action_id: RecordId,
    actor: ConsoleActor,
    uow: UnitOfWorkDep,
    access: AccessDep,
    config: ConsoleDep,
    background: BackgroundTasks,
) -> Response:
    """Carry out the accounts an interrupted action left pending, in the background, and
    come back to its progress. Another member's action is a 404; an action the actor may
    not take, a 403 (both said here, before the background starts)."""
    actor.require(Permission.SCREEN_ACCOUNTS)
    view = action_progress(uow, actor, action_id)
    refused = refusal_of(view.action, actor.can, actor.member is not None)
    if refused is not None:  # said now: the background's use case would refuse it unheard
        raise PermissionDenied(refused)
    background.add_task(carry_out_detached, access, actor, view.id, config.policy)
    return RedirectResponse(f"/screening/actions/{view.id}", status_code=HTTPStatus.SEE_OTHER)
