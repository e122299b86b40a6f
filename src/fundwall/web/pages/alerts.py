"""The analysts' alert queue, and taking, closing and annotating an alert."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.cases import alert_counts, alert_queue, colleagues, get_alert, work_alert
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.web.filters import alert_change, alert_filter
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.params import Params
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/alerts")
def alerts_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    params = Params(request.query_params)
    wanted = alert_filter(params)
    return page(
        request,
        "alerts.html",
        {
            "results": alert_queue(uow, actor, wanted),
            "counts": alert_counts(uow, actor),
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.post("/alerts/{tx_id}", dependencies=[Depends(csrf_protected)])
def update_alert(
    request: Request,
    tx_id: str,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
) -> Response:
    """Apply the analyst's change. HTMX gets the work panel back (with the problem, if the
    change was refused); a plain form post returns to the transaction page."""
    fragment = bool(request.headers.get("hx-request"))
    try:
        alert = work_alert(uow, actor, tx_id, alert_change(form))
    except (InvalidInput, Conflict) as refused:
        if not fragment:
            raise
        uow.rollback()
        return page(
            request,
            "alert_work.html",
            {
                "alert": get_alert(uow, actor, tx_id),
                "colleagues": colleagues(uow, actor),
                "work_error": refused.message(),
            },
            session=session,
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    if not fragment:
        return RedirectResponse(f"/transactions/{tx_id}", status_code=HTTPStatus.SEE_OTHER)
    return page(
        request,
        "alert_work.html",
        {"alert": alert, "colleagues": colleagues(uow, actor), "work_error": ""},
        session=session,
    )
