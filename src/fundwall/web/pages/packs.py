"""Rule packs: versions and their use, each rule in words, diffs, shadow against live."""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import catalogue
from fundwall.engine.rules import TYPOLOGIES
from fundwall.rulepacks.backtests import side_by_side, stored_backtests
from fundwall.rulepacks.registry import promote, set_shadow
from fundwall.rulepacks.shadow import compare_shadow, disagreements
from fundwall.rulepacks.views import pack_diff, pack_library, pack_of, pack_use
from fundwall.web.formatting import figure
from fundwall.web.forms import csrf_protected
from fundwall.web.i18n import N_
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)

FIGURE_LABELS: Final = {
    "transactions.total": N_("Transactions"),
    "transactions.fraud": N_("Fraud transactions"),
    "transactions.fraud_amount_fen": N_("Fraud money"),
    "actions.alert.count": N_("Alerts"),
    "actions.warn.count": N_("Warnings"),
    "actions.delay.count": N_("Delayed transactions"),
    "actions.block.count": N_("Blocked transactions"),
    "actions.block.amount_fen": N_("Blocked money"),
    "score.pr_auc": N_("Score ranking (average precision)"),
    "detected.fraud.precision": N_("Precision of flags (alert or worse)"),
    "detected.fraud.recall": N_("Fraud transactions flagged"),
    "detected.fraud.recall_by_amount": N_("Fraud money flagged"),
    "intercepted.fraud.precision": N_("Precision of interceptions (delay, block)"),
    "intercepted.fraud.recall": N_("Fraud transactions intercepted"),
    "intercepted.fraud.hits_amount_fen": N_("Fraud money intercepted"),
    "victim_money.first_hop_share": N_("Victim money held at the first hop"),
    "victim_money.chain_share": N_("Victim money held anywhere in the chain"),
    "accounts.pr_auc": N_("Mule account ranking (average precision)"),
    "accounts.detected.recall": N_("Mule accounts flagged"),
    "accounts.detected.precision": N_("Precision of flagged accounts"),
    "accounts.detected.minutes_to_flag.median": N_("Minutes to flag a mule (median)"),
}
"""The labels of the backtest figures a reviewer reads first (translated where shown); other
figures show their path only."""


@router.get("/packs")
def packs_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    entries, problems = pack_library(uow, actor, config.library)
    use = pack_use(uow, actor)
    known = {entry.pack.version for entry in entries}
    return page(
        request,
        "packs.html",
        {
            "entries": entries,
            "use": use,
            "unknown_versions": sorted(set(use) - known),
            "problems": problems,
            "may_promote": actor.can(Permission.PROMOTE_RULE_PACKS),
        },
        session=session,
    )


@router.post("/packs/shadow/stop", dependencies=[Depends(csrf_protected)])
def stop_shadow(actor: ConsoleActor, uow: UnitOfWorkDep) -> Response:
    """Run no pack in shadow any more."""
    set_shadow(uow, actor, None)
    return RedirectResponse("/packs", status_code=HTTPStatus.SEE_OTHER)


@router.post("/packs/{version}/promote", dependencies=[Depends(csrf_protected)])
def promote_page(
    actor: ConsoleActor, version: str, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    """Make a version the live pack (audited); the engine switches on its next transaction."""
    promote(uow, actor, version, config.library)
    return RedirectResponse("/packs", status_code=HTTPStatus.SEE_OTHER)


@router.post("/packs/{version}/shadow", dependencies=[Depends(csrf_protected)])
def run_in_shadow(
    actor: ConsoleActor, version: str, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    """Run a version in shadow beside the live pack (audited)."""
    set_shadow(uow, actor, version, config.library)
    return RedirectResponse("/packs", status_code=HTTPStatus.SEE_OTHER)


@router.get("/packs/diff")
def pack_diff_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    params = Params(request.query_params)
    before, after = params.text("before"), params.text("after")
    if before is None or after is None:
        raise InvalidInput("choose two versions to compare", "before")
    return page(
        request,
        "pack_diff.html",
        {"diff": pack_diff(uow, actor, config.library, before, after)},
        session=session,
    )


@router.get("/packs/compare")
def pack_compare_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:
    params = Params(request.query_params)
    shadow = params.text("shadow")
    if shadow is None:
        raise InvalidInput("choose the shadow version to compare with live", "shadow")
    return page(
        request,
        "pack_compare.html",
        {
            "comparison": compare_shadow(uow, actor, shadow),
            "disagreements": disagreements(uow, actor, shadow),
        },
        session=session,
    )


@router.get("/packs/backtests")
def backtests_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    config: ConsoleDep,
) -> Response:
    """Stored backtests, and a form to put two on the same region side by side."""
    stored = stored_backtests(actor, config.data_dir)
    regions = sorted({entry.region for entry in stored})
    return page(
        request,
        "backtests.html",
        {"stored": stored, "regions": regions},
        session=session,
    )


@router.get("/packs/backtests/compare")
def backtest_compare_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    config: ConsoleDep,
) -> Response:
    params = Params(request.query_params)
    region, base, other = params.text("region"), params.text("base"), params.text("other")
    if region is None or base is None or other is None:
        raise InvalidInput("choose a region and two pack versions", "region")
    return page(
        request,
        "backtest_compare.html",
        {
            "result": side_by_side(actor, config.data_dir, region, base, other),
            "figure": figure,
            "labels": FIGURE_LABELS,
        },
        session=session,
    )


@router.get("/packs/{version}")
def pack_page(
    request: Request,
    version: str,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    pack = pack_of(uow, actor, config.library, version)
    entries, _ = pack_library(uow, actor, config.library)
    return page(
        request,
        "pack.html",
        {
            "pack": pack,
            "typologies": TYPOLOGIES,
            "meanings": {feature.name: feature for feature in catalogue()},
            "others": [e.pack.version for e in entries if e.pack.version != version],
        },
        session=session,
    )
