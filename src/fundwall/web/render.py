"""Rendering console pages: one Jinja2 environment, and the context every page shares.

Templates live in `web/templates`; autoescaping is on for all of them. Every page gets the
request, the signed-in actor (or None), its CSRF token, the language with `_` to translate,
the navigation the actor's role allows, and the formatting helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from fundwall.accounts.model import TierSource
from fundwall.accounts.onboarding import Applicant
from fundwall.accounts.onboarding import Outcome as OnboardingOutcome
from fundwall.auth.roles import Permission, Role
from fundwall.auth.sessions import ActiveSession
from fundwall.cases import (
    AlertStatus,
    AssigneeFilter,
    CaseKind,
    CaseStatus,
    Disposition,
    Outcome,
    Priority,
)
from fundwall.domain.accounts import AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.identity import mask_account
from fundwall.domain.parties import PartyKind
from fundwall.domain.police import ClueStatus, OrderEventKind, OrderKind, OrderStatus
from fundwall.domain.screening import Check, ScreeningAction
from fundwall.domain.screening import Outcome as ScreeningOutcome
from fundwall.domain.transactions import Channel, TransactionKind
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.engine.registry import PackStatus
from fundwall.fund_returns import AllocationMethod, ObjectionDecision, Objector, PlanStatus
from fundwall.phones.registry import CheckTrigger, PhoneResult
from fundwall.sharing.model import EntryStatus, EventKind
from fundwall.web.formatting import label_for, labels_of, money, when
from fundwall.web.i18n import LANGUAGES, N_, request_language, translator

NAVIGATION: Final = (
    ("/", N_("Overview"), Permission.VIEW_OVERVIEW),
    ("/transactions", N_("Transactions"), Permission.VIEW_CUSTOMER_DATA),
    ("/onboarding", N_("Simplified opening"), Permission.ONBOARD_CUSTOMERS),
    ("/screening", N_("Account screening"), Permission.VIEW_SCREENING),
    ("/alerts", N_("Alerts"), Permission.WORK_ALERTS),
    ("/outreach", N_("Dissuasion"), Permission.WORK_DISSUASION),
    ("/outreach/campaigns", N_("Publicity"), Permission.RUN_CAMPAIGNS),
    ("/cases", N_("Cases"), Permission.WORK_CASES),
    ("/orders", N_("Police orders"), Permission.VIEW_CUSTOMER_DATA),
    ("/traces", N_("Funds traces"), Permission.ISSUE_ORDERS),
    ("/returns", N_("Fund returns"), Permission.VIEW_CUSTOMER_DATA),
    ("/appeals", N_("Appeals"), Permission.REVIEW_APPEALS),
    ("/opinions", N_("Appeal opinions"), Permission.GIVE_APPEAL_OPINIONS),
    ("/appeals/overdue", N_("Overdue appeals"), Permission.OVERSEE_APPEALS),
    # A member's own (the police read customer data, but have no customers' phones).
    ("/phones", N_("Phone investigations"), Permission.VERIFY_PHONES),
    ("/phones/overview", N_("Phone verification"), Permission.VIEW_REGION),
    ("/clues/outbox", N_("Clues sent"), Permission.SEND_CLUES),
    ("/clues/inbox", N_("Clue inbox"), Permission.ANSWER_CLUES),
    ("/clues/counts", N_("Clues"), Permission.VIEW_REGION),
    ("/share", N_("Risk sharing"), Permission.QUERY_RISK_LIST),
    ("/share/hub", N_("Sharing hub"), Permission.MANAGE_RISK_LIST),
    ("/packs", N_("Rule packs"), Permission.VIEW_RULE_PACKS),
    ("/models", N_("Models"), Permission.VIEW_MODELS),
    ("/reports", N_("Statistics"), Permission.VIEW_REPORTS),
    ("/audit", N_("Audit log"), Permission.VIEW_AUDIT_LOG),
)

_KINDS: Final[dict[str, type[StrEnum]]] = {
    kind.__name__: kind
    for kind in (
        Action,
        AccountStatus,
        AccountClass,
        RiskTier,
        TierSource,
        Applicant,
        OpeningChannel,
        Channel,
        TransactionKind,
        PartyKind,
        Role,
        AlertStatus,
        Disposition,
        AssigneeFilter,
        CaseKind,
        CaseStatus,
        Priority,
        Outcome,
        PackStatus,
        ModelState,
        Target,
        OrderKind,
        OrderStatus,
        OrderEventKind,
        ClueStatus,
        PhoneResult,
        CheckTrigger,
        PlanStatus,
        AllocationMethod,
        Objector,
        ObjectionDecision,
        ListKind,
        RiskCategory,
        Evidence,
        EntryStatus,
        EventKind,
        Check,
        ScreeningAction,
    )
}
# The cases' Outcome has the name already.
_KINDS["OnboardingOutcome"] = OnboardingOutcome
_KINDS["ScreeningOutcome"] = ScreeningOutcome

environment = Environment(
    loader=PackageLoader("fundwall.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(money=money, when=when, mask_account=mask_account, **_KINDS)


def with_query(request: Request, **changes: object) -> str:
    """The current path and query with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    session: ActiveSession | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `template` with the shared context (for the signed-in `session`, if any)
    and `context`."""
    body = rendered(request, template, context, session=session)
    return HTMLResponse(body, status_code=status_code)


def rendered(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    session: ActiveSession | None = None,
) -> str:
    """`template` rendered as `page` renders it: a page, or a piece of one (a table row a
    live page receives)."""
    actor = session.actor if session is not None else None
    language = request_language(request)
    translate = translator(language)

    def label(kind: type[Any], value: Any) -> str:
        return translate(label_for(kind, value))

    def choices(kind: type[Any]) -> list[tuple[str, str]]:
        return [(code, translate(text)) for code, text in labels_of(kind).items()]

    navigation = [
        (path, translate(text))
        for path, text, needed in NAVIGATION
        if actor is not None and actor.can(needed)
    ]
    shared = {
        "request": request,
        "actor": actor,
        "session": session,
        "csrf_token": session.csrf_token if session is not None else "",
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "lang": language,
        "languages": LANGUAGES,
        "_": translate,
        "label": label,
        "choices": choices,
        "navigation": navigation,
        "current_section": current_section(request.url.path, [path for path, _ in navigation]),
        "with_query": lambda **changes: with_query(request, **changes),
    }
    return environment.get_template(template).render({**shared, **(context or {})})


def current_section(path: str, sections: list[str]) -> str | None:
    """The navigation entry a page belongs to: the longest of `sections` that `path` is in
    ("/share/hub/…" is the hub's, not the list's, though both begin "/share")."""
    inside = [
        section
        for section in sections
        if path == section or (section != "/" and path.startswith(section + "/"))
    ]
    return max(inside, key=len, default=None)


def form_page(
    request: Request,
    template: str,
    typed: Mapping[str, str],
    error: str,
    *,
    session: ActiveSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A form's page filled in with what was `typed` (the CSRF token left out) and the
    reason it was refused, if it was."""
    values = {name: value for name, value in typed.items() if name != "csrf_token"}
    return page(
        request,
        template,
        {"values": values, "error": error, **context},
        session=session,
        status_code=status_code,
    )
