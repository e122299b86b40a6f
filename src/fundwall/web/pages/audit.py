"""The audit log for auditors: records, filters, and verifying the chain."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from fundwall.auditing import audit_records, verify_audit_chain
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.web.filters import audit_filter
from fundwall.web.params import Params
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    params = Params(request.query_params)
    wanted = audit_filter(params)
    return page(
        request,
        "audit.html",
        {
            "results": audit_records(uow, actor, wanted),
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.get("/audit/verify")
def audit_verify(
    request: Request,
    actor: ConsoleActor,
    uow: UnitOfWorkDep,
) -> Response:
    """The chain walked end to end, as a fragment (it may take a while on a long log)."""
    return page(request, "audit_verify.html", {"report": verify_audit_chain(uow, actor)})
