"""Rule packs: versions and their use, each rule in words, diffs, shadow against live."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import (
    SessionDep,
    UnitOfWorkDep,
    require,
)
from fundwall.auth.roles import Permission
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import catalogue
from fundwall.engine.rules import TYPOLOGIES
from fundwall.web.data.backtests import side_by_side, stored_backtests
from fundwall.web.data.pack_registry import pack_entries, promote_version, shadow_version
from fundwall.web.data.packs import compare_shadow, disagreements, pack_use
from fundwall.web.data.params import Params
from fundwall.web.formatting import figure
from fundwall.web.forms import csrf_protected
from fundwall.web.render import page
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)
Reader = Annotated[Actor, Depends(require(Permission.VIEW_RULE_PACKS))]
Promoter = Annotated[Actor, Depends(require(Permission.PROMOTE_RULE_PACKS))]


@router.get("/packs")
def packs_page(
    request: Request,
    actor: Reader,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    entries, problems = pack_entries(uow, actor, config.library)
    use = pack_use(uow.session, actor)
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
def stop_shadow(actor: Promoter, uow: UnitOfWorkDep, config: ConsoleDep) -> Response:
    """Run no pack in shadow any more."""
    shadow_version(uow, actor, config.library, None)
    return RedirectResponse("/packs", status_code=HTTPStatus.SEE_OTHER)


@router.post("/packs/{version}/promote", dependencies=[Depends(csrf_protected)])
def promote(actor: Promoter, version: str, uow: UnitOfWorkDep, config: ConsoleDep) -> Response:
    """Make a version the live pack (audited); the engine switches on its next transaction."""
    promote_version(uow, actor, config.library, version)
    return RedirectResponse("/packs", status_code=HTTPStatus.SEE_OTHER)


@router.post("/packs/{version}/shadow", dependencies=[Depends(csrf_protected)])
def run_in_shadow(
    actor: Promoter, version: str, uow: UnitOfWorkDep, config: ConsoleDep
) -> Response:
    """Run a version in shadow beside the live pack (audited)."""
    shadow_version(uow, actor, config.library, version)
    return RedirectResponse("/packs", status_code=HTTPStatus.SEE_OTHER)


@router.get("/packs/diff")
def pack_diff_page(
    request: Request,
    actor: Reader,
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
        {"diff": config.library.diff(before, after, uow.session)},
        session=session,
    )


@router.get("/packs/compare")
def pack_compare_page(
    request: Request,
    actor: Reader,
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
            "comparison": compare_shadow(uow.session, actor, shadow),
            "disagreements": disagreements(uow.session, actor, shadow),
        },
        session=session,
    )


@router.get("/packs/backtests")
def backtests_page(
    request: Request,
    actor: Reader,
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
    actor: Reader,
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
        {"result": side_by_side(actor, config.data_dir, region, base, other), "figure": figure},
        session=session,
    )


@router.get("/packs/{version}")
def pack_page(
    request: Request,
    version: str,
    actor: Reader,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    pack = config.library.get(version, uow.session)
    entries, _ = pack_entries(uow, actor, config.library)
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
