"""The account profile (账户画像) and unmasking its holder on purpose."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fundwall.accounts.views import (
    AccountProfile,
    account_profile,
    masked_holder,
    unmask_holder,
)
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.domain.errors import InvalidInput
from fundwall.engine.rules.templates import Language, format_value
from fundwall.models.scores import AccountScore, account_score
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.i18n import request_language
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)


def graph_data(profile: AccountProfile) -> dict[str, Any]:
    """Nodes and links for the ECharts counterparty graph: the account in the middle, each
    counterparty sized by the money exchanged; only the member's own accounts link."""
    nodes: list[dict[str, Any]] = [
        {"id": profile.account_no, "name": profile.account_no, "kind": "self", "value": 0}
    ]
    links = []
    for other in profile.counterparties:
        nodes.append(
            {
                "id": other.account_no if other.own else other.shown,
                "name": other.shown,
                "bank": other.bank or "",
                "kind": "own" if other.own else "other",
                "value": other.in_fen + other.out_fen,
                "link": f"/accounts/{other.account_no}" if other.own else "",
            }
        )
        target = other.account_no if other.own else other.shown
        if other.in_fen:
            links.append({"source": target, "target": profile.account_no, "value": other.in_fen})
        if other.out_fen:
            links.append({"source": profile.account_no, "target": target, "value": other.out_fen})
    return {"nodes": nodes, "links": links}


def score_reasons(score: AccountScore | None, language: Language) -> list[dict[str, str]]:
    """The features that raised an account's mule score most, in words: the feature, its
    value in its unit, and how much it added to the score's log-odds."""
    if score is None or not score.contributions:
        return []
    return [
        {
            "feature": item.zh if language == "zh" else item.en,
            "value": "" if item.value is None else format_value(item.value, item.kind, language),
            "contribution": f"+{item.contribution:.3f}",
        }
        for item in score.contributions
    ]


@router.get("/accounts/{account_no}")
def account_page(
    request: Request,
    account_no: str,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    params = Params(request.query_params)
    profile = account_profile(uow, actor, account_no, config.keyring, params.page())
    score = account_score(uow, actor, account_no)
    return page(
        request,
        "account.html",
        {
            "profile": profile,
            "graph": graph_data(profile),
            "score": score,
            "score_reasons": score_reasons(score, request_language(request)),
            "problems": params.problems,
        },
        session=session,
    )


@router.post("/accounts/{account_no}/unmask", dependencies=[Depends(csrf_protected)])
def unmask(
    request: Request,
    account_no: str,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The holder in full, as a fragment replacing the masked one; audited."""
    try:
        holder = unmask_holder(uow, actor, account_no, form.get("purpose", ""), config.keyring)
    except InvalidInput as refused:
        uow.rollback()
        return page(
            request,
            "holder.html",
            {
                "holder": masked_holder(uow, actor, account_no, config.keyring),
                "account_no": account_no,
                "unmasked": False,
                "error": refused.message(),
            },
            session=session,
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    return page(
        request,
        "holder.html",
        {"holder": holder, "account_no": account_no, "unmasked": True, "error": ""},
        session=session,
    )
