"""Transaction search, and a transaction with its decision explained."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.cases import colleagues
from fundwall.monitoring.transactions import search_transactions, transaction_view
from fundwall.web.filters import tx_filter
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)


@router.get("/transactions")
def transactions_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    params = Params(request.query_params)
    wanted = tx_filter(params)
    return page(
        request,
        "transactions.html",
        {
            "results": search_transactions(uow, actor, wanted),
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


@router.get("/transactions/{tx_id}")
def transaction_page(
    request: Request,
    tx_id: str,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    view = transaction_view(uow, actor, tx_id, config.library)
    return page(
        request,
        "transaction.html",
        {
            "view": view,
            "colleagues": colleagues(uow, actor) if view.alert is not None else [],
            "work_error": "",
        },
        session=session,
    )
