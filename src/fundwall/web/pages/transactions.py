"""Transaction search, and a transaction with its decision explained."""

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
from fundwall.web.data.alerts import colleagues
from fundwall.web.data.params import Params
from fundwall.web.data.transactions import TxFilter, search_transactions, transaction_view
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Actor, Depends(require(Permission.VIEW_CUSTOMER_DATA))]


@router.get("/transactions")
def transactions_page(
    request: Request,
    actor: Viewer,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    params = Params(request.query_params)
    wanted = TxFilter.read(params)
    return page(
        request,
        "transactions.html",
        {
            "results": search_transactions(uow.session, actor, wanted),
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.get("/transactions/{tx_id}")
def transaction_page(
    request: Request,
    tx_id: str,
    actor: Viewer,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    view = transaction_view(uow.session, actor, config.library, tx_id)
    return page(
        request,
        "transaction.html",
        {
            "view": view,
            "colleagues": colleagues(uow.session, actor) if view.alert is not None else [],
            "work_error": "",
        },
        session=session,
    )
