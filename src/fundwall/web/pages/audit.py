"""The audit log for auditors: records, filters, and verifying the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import (
    SessionDep,
    UnitOfWorkDep,
    require,
)
from fundwall.auth.roles import Permission
from fundwall.web.data.audit import AuditFilter, audit_records, verify
from fundwall.web.data.params import Params
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)
AuditorActor = Annotated[Actor, Depends(require(Permission.VIEW_AUDIT_LOG))]


@router.get("/audit")
def audit_page(
    request: Request,
    actor: AuditorActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    params = Params(request.query_params)
    wanted = AuditFilter.read(params)
    return page(
        request,
        "audit.html",
        {
            "results": audit_records(uow.session, actor, wanted),
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.get("/audit/verify")
def audit_verify(
    request: Request,
    actor: AuditorActor,
    uow: UnitOfWorkDep,
) -> Response:
    """The chain walked end to end, as a fragment (it may take a while on a long log)."""
    return page(request, "audit_verify.html", {"report": verify(uow.session, actor)})
