"""The overview page and its live panel, which HTMX polls while traffic or a replay runs."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from fundwall.appeals.review import overdue_count
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import (
    ConsoleActor,
    SessionDep,
    UnitOfWorkDep,
)
from fundwall.auth.roles import Permission
from fundwall.domain.decisions import Action
from fundwall.engine.rules import Language
from fundwall.monitoring.overview import Overview, overview
from fundwall.rulepacks.library import PackLibrary
from fundwall.store import UnitOfWork
from fundwall.web.formatting import label_for
from fundwall.web.i18n import request_language, translator
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

ACTION_COLOURS: Final = {
    Action.PASS: "#9aa5b1",
    Action.ALERT: "#f0b429",
    Action.WARN: "#f7813f",
    Action.DELAY: "#8e6fd8",
    Action.BLOCK: "#d64545",
}

router = APIRouter(include_in_schema=False)


def rule_name(library: PackLibrary, rule_id: str, language: Language) -> str:
    """The rule's name from the first pack of the library that has it, else its id."""
    for known in library.packs():
        for rule in known.pack.rules:
            if rule.id == rule_id:
                return rule.name[language]
    return rule_id


def chart_data(data: Overview, library: PackLibrary, language: Language) -> dict[str, Any]:
    """What app.js draws: decisions per action over time, and the top rules."""
    translate = translator(language)
    return {
        "buckets": list(data.buckets),
        "series": [
            {
                "name": translate(label_for(Action, action)),
                "colour": ACTION_COLOURS[action],
                "data": data.series[action],
            }
            for action in Action
        ],
        "rules": [
            {
                "id": rule_id,
                "name": f"{rule_id} {rule_name(library, rule_id, language)}",
                "count": n,
            }
            for rule_id, n in data.top_rules
        ],
    }


def _context(
    request: Request, actor: Actor, uow: UnitOfWork, config: ConsoleConfig
) -> dict[str, Any]:
    data = overview(uow, actor, config.overviews)
    language = request_language(request)
    return {
        "data": data,
        "charts": chart_data(data, config.library, language),
        "poll_seconds": config.poll_seconds,
        "member_view": actor.customer_member is not None,
    }


@router.get("/")
def overview_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    if not actor.can(Permission.VIEW_OVERVIEW):
        # The auditor's work starts in the audit log.
        return RedirectResponse("/audit", status_code=HTTPStatus.SEE_OTHER)
    context = _context(request, actor, uow, config)
    # Appeals past their deadline are flagged to the hub where it starts its day.
    context["overdue_appeals"] = (
        overdue_count(uow, actor) if actor.can(Permission.OVERSEE_APPEALS) else 0
    )
    return page(request, "overview.html", context, session=session)


@router.get("/overview/live")
def overview_live(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The live panel alone, for HTMX to swap in every few seconds."""
    return page(
        request, "overview_live.html", _context(request, actor, uow, config), session=session
    )
