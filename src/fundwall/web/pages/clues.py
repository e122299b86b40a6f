"""Clue transfer (线索移送) on the console: the bank's outbox and the police unit's inbox, a
clue's page with its package, history and the police's answer form, the evidence download for
the police, sending a clue from a case, and the hub's counts.

The case page includes `clue_send.html` (the send form and the clues the case sent) with
`case_id`, `police_units` and `case_clues` in its context; the form posts to
`/cases/{case_id}/clue` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.clues import (
    ClueAnswer,
    ClueFilter,
    ClueListing,
    ClueView,
    answer_clue,
    clue_counts,
    clue_evidence,
    clue_inbox,
    clue_outbox,
    get_clue,
    send_clue,
    sent_clue,
)
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.police import ClueStatus
from fundwall.store.uow import UnitOfWork
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

router = APIRouter(include_in_schema=False)


def _list_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    listing: ClueListing,
    mode: str,
) -> Response:
    params = Params(request.query_params)
    wanted = ClueFilter(
        status=params.choice("status", ClueStatus),
        page=params.page(),
        sent_from=params.moment("sent_from"),
        sent_until=params.moment("sent_to", end_of_day=True),
    )
    return page(
        request,
        "clues.html",
        {
            "results": listing(uow, actor, wanted),
            "mode": mode,
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.get("/clues/outbox")
def outbox_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    return _list_page(request, actor, session, uow, clue_outbox, "outbox")


@router.get("/clues/inbox")
def inbox_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    return _list_page(request, actor, session, uow, clue_inbox, "inbox")


@router.get("/clues/counts")
def counts_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    return page(request, "clue_counts.html", {"counts": clue_counts(uow, actor)}, session=session)


def _view(uow: UnitOfWork, actor: Actor, clue_id: int, config: ConsoleConfig) -> ClueView:
    """The police unit's view (holders in full, audited) or the sending bank's."""
    if actor.can(Permission.ANSWER_CLUES):
        return get_clue(uow, actor, clue_id, config.keyring)
    return sent_clue(uow, actor, clue_id)


def _clue_page(
    request: Request,
    session: ActiveSession,
    clue: ClueView,
    *,
    error: str = "",
    status_code: int = HTTPStatus.OK,
) -> Response:
    return page(
        request,
        "clue.html",
        {"clue": clue, "answer_error": error},
        session=session,
        status_code=status_code,
    )


@router.get("/clues/{clue_id}")
def clue_page(
    request: Request,
    clue_id: int,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    return _clue_page(request, session, _view(uow, actor, clue_id, config))


@router.get("/clues/{clue_id}/evidence/{evidence_id}")
def evidence_download(
    clue_id: int, evidence_id: int, actor: ConsoleActor, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    """The file as an attachment (never shown inline: it is whatever the bank uploaded)."""
    item, content = clue_evidence(uow, actor, clue_id, evidence_id, config.keyring)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


def clue_answer(form: Mapping[str, str]) -> ClueAnswer:
    """From the answer form's fields; InvalidInput naming the first bad field. Blank fields
    are not given; money is entered in yuan."""
    params = Params(form)
    status = params.choice("status", ClueStatus)
    recovered = params.money_fen("recovered")
    if params.problems:
        raise params.problems[0].error()
    if status is None:
        raise InvalidInput("choose an answer", "status")
    caught = form.get("suspects_caught", "").strip()
    if caught and not (caught.isascii() and caught.isdigit() and len(caught) <= 6):
        raise InvalidInput("a whole number of suspects", "suspects_caught")
    return ClueAnswer(
        status,
        police_case_no=form.get("police_case_no", "").strip() or None,
        reason=form.get("reason", "").strip() or None,
        suspects_caught=int(caught) if caught else None,
        recovered_fen=recovered,
    )


@router.post("/clues/{clue_id}/answer", dependencies=[Depends(csrf_protected)])
def answer(
    request: Request,
    clue_id: int,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The police's answer; back to the clue's page, with the refusal when there is one."""
    try:
        answer_clue(uow, actor, clue_id, clue_answer(form))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        clue = _view(uow, actor, clue_id, config)
        status = (
            HTTPStatus.CONFLICT
            if isinstance(refused, Conflict)
            else HTTPStatus.UNPROCESSABLE_ENTITY
        )
        return _clue_page(request, session, clue, error=refused.message(), status_code=status)
    return RedirectResponse(f"/clues/{clue_id}", status_code=HTTPStatus.SEE_OTHER)


@router.post("/cases/{case_id}/clue", dependencies=[Depends(csrf_protected)])
def send(case_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    """Send the case's clue (its accounts, alerts' transactions and evidence) to the unit
    chosen; on to the clue's page."""
    sent = send_clue(uow, actor, case_id, form.get("police_unit", ""), form.get("summary", ""))
    return RedirectResponse(f"/clues/{sent.item.clue_id}", status_code=HTTPStatus.SEE_OTHER)
