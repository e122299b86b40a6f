"""The member's case queue and case pages: grouping alerts into cases, assigning, notes,
evidence (upload and download), merging, splitting and closing with an outcome.

Each form posts, the use case checks and audits it, and the browser is sent back to the
case (or the queue); a refusal shows the console's error page naming the reason.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.cases import (
    GROUPINGS,
    Outcome,
    Priority,
    add_evidence,
    add_note,
    case_colleagues,
    case_counts,
    case_queue,
    close_case,
    evidence_file,
    get_case,
    group_alerts,
    merge_cases,
    split_case,
    update_case,
)
from fundwall.clues import case_clues, police_units
from fundwall.domain.errors import InvalidInput
from fundwall.web.filters import (
    case_change,
    case_filter,
    case_number,
    case_outcome,
    chosen,
    grouping,
)
from fundwall.web.forms import FilesDep, FormDep, csrf_protected, takes_upload
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_protected)]
TX_BOX = "tx:"
ACCOUNT_BOX = "account:"


def _to_case(case_id: int) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/cases")
def cases_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    params = Params(request.query_params)
    wanted = case_filter(params)
    return page(
        request,
        "cases.html",
        {
            "results": case_queue(uow, actor, wanted),
            "counts": case_counts(uow, actor),
            "problems": params.problems,
            "form": request.query_params,
            "groupings": GROUPINGS,
        },
        session=session,
    )


@router.post("/cases/group", dependencies=CSRF)
def group(actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep, config: ConsoleDep) -> Response:
    group_alerts(uow, actor, grouping(form), settings=config.cases)
    return RedirectResponse("/cases", status_code=HTTPStatus.SEE_OTHER)


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: int, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    sends = actor.can(Permission.SEND_CLUES)
    return page(
        request,
        "case.html",
        {
            "view": get_case(uow, actor, case_id),
            "case_id": case_id,
            "police_units": police_units(uow, actor) if sends else [],
            "case_clues": case_clues(uow, actor, case_id) if sends else [],
            "colleagues": case_colleagues(uow, actor),
            "priorities": list(Priority),
            "outcomes": list(Outcome),
            "TX_BOX": TX_BOX,
            "ACCOUNT_BOX": ACCOUNT_BOX,
        },
        session=session,
    )


@router.post("/cases/{case_id}", dependencies=CSRF)
def update(case_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    update_case(uow, actor, case_id, case_change(form))
    return _to_case(case_id)


@router.post("/cases/{case_id}/notes", dependencies=CSRF)
def note(case_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    add_note(uow, actor, case_id, form.get("body", "").strip())
    return _to_case(case_id)


@router.post("/cases/{case_id}/evidence", dependencies=[Depends(takes_upload), *CSRF])
def upload(
    case_id: int, actor: ConsoleActor, files: FilesDep, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    sent = files.get("file")
    if sent is None:
        raise InvalidInput("choose a file", "file")
    add_evidence(
        uow,
        actor,
        case_id,
        sent.filename,
        sent.media_type,
        sent.content,
        config.keyring,
        settings=config.cases,
    )
    return _to_case(case_id)


@router.get("/cases/{case_id}/evidence/{evidence_id}")
def download(
    case_id: int, evidence_id: int, actor: ConsoleActor, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    item, content = evidence_file(uow, actor, case_id, evidence_id, config.keyring)
    disposition = f"attachment; filename*=UTF-8''{quote(item.filename)}"
    return Response(
        content,
        media_type=item.media_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.post("/cases/{case_id}/merge", dependencies=CSRF)
def merge(case_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    merged = merge_cases(uow, actor, case_id, case_number(form, "into"))
    return _to_case(merged.case.id)


@router.post("/cases/{case_id}/split", dependencies=CSRF)
def split(case_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    new = split_case(
        uow,
        actor,
        case_id,
        tx_ids=chosen(form, TX_BOX),
        accounts=chosen(form, ACCOUNT_BOX),
        title=form.get("title", "").strip(),
    )
    return _to_case(new.case.id)


@router.post("/cases/{case_id}/close", dependencies=CSRF)
def close(case_id: int, actor: ConsoleActor, form: FormDep, uow: UnitOfWorkDep) -> Response:
    outcome, reason = case_outcome(form)
    close_case(uow, actor, case_id, outcome, reason)
    return _to_case(case_id)
