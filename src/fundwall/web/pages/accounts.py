"""The account profile (账户画像), its counterparties as a graph with the risk reaching it,
unmasking its holder on purpose, and its risk tier (风险等级): the change that set it, its
history and, for those who may, the form that sets another."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.accounts.graph import AccountGraph, GraphAccount, account_graph
from fundwall.accounts.model import tier_measures
from fundwall.accounts.tiers import set_holder_tier, set_risk_tier, tier_history
from fundwall.accounts.views import account_profile, masked_holder, unmask_holder
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.domain.accounts import RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.engine.features.catalog import Kind
from fundwall.engine.rules.templates import Language, format_value
from fundwall.models.scores import AccountScore, account_score
from fundwall.store.uow import UnitOfWork
from fundwall.web.formatting import label_for
from fundwall.web.forms import FormDep, Refusal, chosen, csrf_protected
from fundwall.web.i18n import N_, request_language, translator
from fundwall.web.pages.phones import holder_checks
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

router = APIRouter(include_in_schema=False)

LISTED: Final = N_("known fraud account, on the shared risk list")
KNOWN_FRAUD: Final = N_("known fraud account")
MULE_SCORE: Final = N_("mule score: %(action)s")
TIMES: Final = N_("%(value)s×")
UNKNOWN: Final = N_("unknown")
SEED_RANKS: Final = ("seed_rank_downstream", "seed_rank_upstream")
"""The PageRank features, read as multiples of an account reached by chance."""
TIER_REASON_MAX: Final = 200
"""The longest reason for a tier, as the API takes it (`PUT /v1/accounts/{no}/tier`): the
measures' restrictions keep it behind a prefix, within their own column's bound."""
MAX_CHANGE_ID: Final = 999_999_999
"""The largest tier change number the page reads back to confirm it."""


def _node_kind(account: GraphAccount, centre: GraphAccount) -> str:
    if account.key == centre.key:
        return "self"
    return "own" if account.own else "other"


def _risk(account: GraphAccount) -> str:
    """What the node's colour says: a known fraud account, one of the member's accounts its
    mule score flags, or neither."""
    if account.known_fraud:
        return "fraud"
    if account.action is not None and account.action is not Action.PASS:
        return "flagged"
    return "none"


def _note(account: GraphAccount, translate: Callable[..., str]) -> str:
    """The node's tooltip words beyond its number and institution."""
    words = []
    if account.listed:
        words.append(translate(LISTED))
    elif account.known_fraud:
        words.append(translate(KNOWN_FRAUD))
    if account.action is not None:
        words.append(translate(MULE_SCORE, action=translate(label_for(Action, account.action))))
    return " · ".join(words)


def graph_data(graph: AccountGraph, language: Language) -> dict[str, Any]:
    """Nodes and links for the ECharts graph (app.js `graph`): the account in the middle (ring
    0), its counterparties around it (ring 1) sized by the money exchanged and coloured by
    risk, the known fraud accounts that reached it through the member's own accounts outside
    them (ring 2, beside the account they paid: `anchor`); links as wide as the money,
    marked `risk` where money came from or went to a known fraud account, directly or on a
    path."""
    translate = translator(language)
    centre = graph.account
    nodes: dict[str, dict[str, Any]] = {}

    def node(account: GraphAccount, money: int, ring: int, anchor: str = "") -> None:
        if account.key in nodes:
            nodes[account.key]["value"] += money
            return
        nodes[account.key] = {
            "id": account.key,
            "name": account.shown,
            "bank": account.bank or "",
            "kind": _node_kind(account, centre),
            "risk": _risk(account),
            "note": _note(account, translate),
            "value": money,
            "ring": ring,
            "anchor": anchor,
            "link": f"/accounts/{quote(account.shown)}"
            if account.own and account.key != centre.key
            else "",
        }

    node(centre, 0, 0)
    tainted = {path.via.key for path in graph.risk_paths}
    links = []
    for other in graph.counterparties:
        account = other.account
        node(account, other.in_fen + other.out_fen, 1)
        if other.in_fen:
            risky = account.known_fraud or account.key in tainted
            links.append(
                {"source": account.key, "target": centre.key, "value": other.in_fen, "risk": risky}
            )
        if other.out_fen:
            links.append(
                {
                    "source": centre.key,
                    "target": account.key,
                    "value": other.out_fen,
                    "risk": account.known_fraud,
                }
            )
    for path in graph.risk_paths:
        node(path.source, 0, 2, path.via.key)
        links.append(
            {
                "source": path.source.key,
                "target": path.via.key,
                "value": path.amount_fen,
                "risk": True,
            }
        )
    return {"nodes": list(nodes.values()), "links": links}


def risk_summary(graph: AccountGraph) -> dict[str, int]:
    """The figures the page puts in words beside the picture."""
    return {
        "fraud_counterparties": graph.fraud_counterparties,
        "fraud_in_fen": graph.fraud_in_fen,
        "fraud_out_fen": graph.fraud_out_fen,
        "path_sources": len({path.source.key for path in graph.risk_paths}),
        "path_vias": len({path.via.key for path in graph.risk_paths}),
        "path_fen": sum(path.amount_fen for path in graph.risk_paths),
    }


def feature_value(name: str, value: float | None, kind: Kind, language: Language) -> str:
    """An account feature's value as the page reads it: in its unit, the PageRank figures
    (`seed_rank_*`) as multiples of an account reached by chance (12.3×)."""
    translate = translator(language)
    if value is None:
        return translate(UNKNOWN)
    if name in SEED_RANKS:
        return translate(TIMES, value=f"{value:.1f}")
    return format_value(value, kind, language)


def risk_flow(score: AccountScore | None, language: Language) -> list[dict[str, str]]:
    """The account's risk-flow features from its latest score, in words."""
    if score is None:
        return []
    return [
        {
            "feature": figure.zh if language == "zh" else figure.en,
            "value": feature_value(figure.name, figure.value, figure.kind, language),
        }
        for figure in score.risk_flow
    ]


def score_reasons(score: AccountScore | None, language: Language) -> list[dict[str, str]]:
    """The features that raised an account's mule score most, in words: the feature, its
    value in its unit, and how much it added to the score's log-odds."""
    if score is None or not score.contributions:
        return []
    return [
        {
            "feature": item.zh if language == "zh" else item.en,
            "value": ""
            if item.value is None
            else feature_value(item.name, item.value, item.kind, language),
            "contribution": f"+{item.contribution:.3f}",
        }
        for item in score.contributions
    ]


def _account_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    config: ConsoleConfig,
    account_no: str,
    *,
    tier_refusal: Refusal | None = None,
    tier_typed: Mapping[str, str] | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    params = Params(request.query_params)
    profile = account_profile(uow, actor, account_no, config.keyring, params.page())
    graph = account_graph(uow, actor, account_no)
    score = account_score(uow, actor, account_no)
    language = request_language(request)
    set_now = params.whole("tier_set", 1, MAX_CHANGE_ID)
    holder_set = params.whole("tier_holder", 0, MAX_CHANGE_ID)
    change = profile.tier_change
    return page(
        request,
        "account.html",
        {
            "profile": profile,
            "graph": graph,
            "graph_data": graph_data(graph, language),
            "risk": risk_summary(graph),
            "risk_flow": risk_flow(score, language),
            "score": score,
            "score_reasons": score_reasons(score, language),
            "phone_checks": holder_checks(uow, actor, profile, config),
            "tier_history": tier_history(uow, actor, account_no),
            "tier_measures": {tier: tier_measures(tier, config.policy) for tier in RiskTier},
            "tier_set": change is not None and set_now == change.id,
            "tier_holder": holder_set,
            "tier_refusal": tier_refusal,
            "tier_typed": tier_typed or {},
            "tier_reason_max": TIER_REASON_MAX,
            "own_account": actor.member == profile.member,
            "problems": params.problems,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/accounts/{account_no}")
def account_page(
    request: Request,
    account_no: str,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The profile; `tier_set` (a tier change's number) confirms the change the tier form
    just made, when it is the one that set the tier."""
    return _account_page(request, actor, session, uow, config, account_no)


def _reason(form: Mapping[str, str]) -> str:
    reason = form.get("reason", "")
    if len(reason.strip()) > TIER_REASON_MAX:
        raise InvalidInput(f"at most {TIER_REASON_MAX} characters", "reason")
    return reason


@router.post("/accounts/{account_no}/tier", dependencies=[Depends(csrf_protected)])
def set_tier(
    request: Request,
    account_no: str,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Set the account's risk tier (its measures with it), or with `holder` ticked the tier of
    every open account its holder has at the member, and go back to its page, which
    confirms the change. A refusal (a bad field, the tier the account has already, a closed
    account) is the page with the reason at the form; another member's account is a 404."""
    actor.require(Permission.SET_RISK_TIERS)
    try:
        if form.get("holder") == "1":
            changes = set_holder_tier(
                uow, actor, account_no, chosen(form, "tier", RiskTier), config.policy,
                reason=_reason(form),
            )  # fmt: skip
            this = [c.id for c in changes if c.account_no == account_no]
            confirmed = f"tier_set={this[0]}&" if this else ""
            return RedirectResponse(
                f"/accounts/{quote(account_no)}?{confirmed}tier_holder={len(changes)}#risk-tier",
                status_code=HTTPStatus.SEE_OTHER,
            )
        change = set_risk_tier(
            uow, actor, account_no, chosen(form, "tier", RiskTier), config.policy,
            reason=_reason(form),
        )  # fmt: skip
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        status = (
            HTTPStatus.UNPROCESSABLE_ENTITY
            if isinstance(refused, InvalidInput)
            else HTTPStatus.CONFLICT
        )
        return _account_page(
            request, actor, session, uow, config, account_no,
            tier_refusal=Refusal.of(refused), tier_typed=form, status_code=status,
        )  # fmt: skip
    return RedirectResponse(
        f"/accounts/{quote(account_no)}?tier_set={change.id}#risk-tier",
        status_code=HTTPStatus.SEE_OTHER,
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
