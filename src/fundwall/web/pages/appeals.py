"""Appeals (异议申诉) in the console: a bank's queue with deadlines (overdue flagged), an appeal
with its files, asking a police unit's opinion and the decision (lifted or maintained, with
the answer the person reads); a police unit's opinion requests and its answer; the hub's
overdue appeals. The use cases decide who sees what (`fundwall.appeals.review`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.appeals.model import AppealStatus, Outcome
from fundwall.appeals.review import (
    appeal_detail,
    appeal_evidence_file,
    appeal_queue,
    ask_opinion,
    decide_appeal,
    give_opinion,
    opinion_request,
    opinion_requests,
    overdue_appeals,
)
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.clues import police_units
from fundwall.web.forms import FormDep, chosen, csrf_protected
from fundwall.web.i18n import N_
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)
CSRF: Final = [Depends(csrf_protected)]
STATUS_WORDS: Final = {
    AppealStatus.OPEN: N_("Open"),
    AppealStatus.AWAITING_OPINION: N_("Awaiting the police opinion"),
    AppealStatus.DECIDED: N_("Decided"),
}
OUTCOME_WORDS: Final = {Outcome.LIFTED: N_("Lifted"), Outcome.MAINTAINED: N_("Maintained")}
WORDS: Final = {"status_words": STATUS_WORDS, "outcome_words": OUTCOME_WORDS}


@router.get("/appeals")
def queue(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The member's open appeals, nearest deadline first; `?decided=1` the decided ones."""
    decided = request.query_params.get("decided") == "1"
    appeals = appeal_queue(uow, actor, config.keyring, decided=decided)
    return page(request, "appeals.html", {"appeals": appeals, "decided": decided, **WORDS},
                session=session)  # fmt: skip


@router.get("/appeals/overdue")
def overdue(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Every member's appeals undecided past their deadline (the hub's oversight)."""
    appeals = overdue_appeals(uow, actor, config.keyring)
    return page(request, "appeals_overdue.html", {"appeals": appeals, **WORDS}, session=session)


@router.get("/appeals/{appeal_id}")
def appeal(
    request: Request,
    appeal_id: int,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    view = appeal_detail(uow, actor, appeal_id, config.keyring)
    units = police_units(uow, actor) if actor.can(Permission.SEND_CLUES) else []
    context = {"appeal": view, "police_units": units, "Outcome": Outcome, **WORDS,
               "open": view.status is not AppealStatus.DECIDED}  # fmt: skip
    return page(request, "appeal.html", context, session=session)


@router.get("/appeals/{appeal_id}/evidence/{evidence_id}")
def evidence(
    appeal_id: int, evidence_id: int, actor: ConsoleActor, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    item, content = appeal_evidence_file(uow, actor, appeal_id, evidence_id, config.keyring)
    disposition = f"attachment; filename*=UTF-8''{quote(item.filename)}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return Response(content, media_type=item.media_type, headers=headers)


@router.post("/appeals/{appeal_id}/opinion-request", dependencies=CSRF)
def ask(appeal_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    """Ask a police unit for its opinion; back to the appeal."""
    ask_opinion(uow, actor, appeal_id, form.get("police_unit", "").strip(),
                form.get("question", ""))  # fmt: skip
    return RedirectResponse(f"/appeals/{appeal_id}", status_code=HTTPStatus.SEE_OTHER)


@router.post("/appeals/{appeal_id}/decision", dependencies=CSRF)
def decide(
    appeal_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    """Lift or maintain, with the answer the person reads; back to the appeal."""
    outcome = chosen(form, "outcome", Outcome)
    decide_appeal(uow, actor, appeal_id, outcome, form.get("answer", ""), config.keyring,
                  policy=config.policy)  # fmt: skip
    return RedirectResponse(f"/appeals/{appeal_id}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/opinions")
def opinions(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The appeals the police unit was asked about: awaiting its opinion, then answered."""
    waiting = opinion_requests(uow, actor, config.keyring)
    answered = opinion_requests(uow, actor, config.keyring, answered=True)
    context = {"waiting": waiting, "answered": answered, **WORDS}
    return page(request, "opinions.html", context, session=session)


@router.get("/opinions/{appeal_id}")
def opinion(
    request: Request,
    appeal_id: int,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    view = opinion_request(uow, actor, appeal_id, config.keyring)
    context = {"appeal": view, **WORDS,
               "may_answer": view.status is AppealStatus.AWAITING_OPINION}  # fmt: skip
    return page(request, "opinion.html", context, session=session)


@router.post("/opinions/{appeal_id}", dependencies=CSRF)
def answer(appeal_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    """The unit's opinion; back to its requests."""
    give_opinion(uow, actor, appeal_id, form.get("opinion", ""))
    return RedirectResponse(f"/opinions/{appeal_id}", status_code=HTTPStatus.SEE_OTHER)
