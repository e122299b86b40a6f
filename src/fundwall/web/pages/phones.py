"""Phone real-name verification (手机实名验证) on the console: a member's phone investigations
(手机号排查) with each finding published to the shared risk list in one click, re-checking an
account holder's bound phone, and the hub's counts of the region.

The account page shows its holder's checks: it calls `holder_checks` and includes
`phone_checks.html` with `account_no` and `phone_checks` in its context; the re-check form
there posts to `/accounts/{account_no}/phone/recheck` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.accounts.views import AccountProfile
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.domain.errors import Conflict, FundwallError, InvalidInput
from fundwall.domain.parties import PartyKind
from fundwall.phones.checks import PhoneCheck, holder_phone_checks, recheck_phone
from fundwall.phones.investigations import (
    MAX_DAYS,
    MAX_ROWS,
    MAX_THRESHOLD,
    many_phones,
    phone_overview,
    recycled_still_bound,
    shared_phones,
)
from fundwall.phones.listing import Finding, publish_finding
from fundwall.phones.registry import PhoneResult, RegistryRefused, RegistryUnavailable
from fundwall.sharing.keys import accepted_sharing_keys, sharing_key_versions
from fundwall.store.uow import UnitOfWork
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.params import Params
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

router = APIRouter(include_in_schema=False)

FEWEST: Final = 2
"""The smallest threshold of the first two investigations (people on a phone, phones of a
person), and their default."""
LIMITS: Final = {"fewest": FEWEST, "most": MAX_THRESHOLD, "days": MAX_DAYS, "rows": MAX_ROWS}
"""The inputs' bounds, and the most rows a view shows."""
OVERVIEW_RESULTS: Final = (*(result.value for result in PhoneResult), "unchecked")
"""The columns of the hub's table: each result of a newest check, and none yet."""

_REFUSED: Final[Mapping[type[FundwallError], HTTPStatus]] = {
    Conflict: HTTPStatus.CONFLICT,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    RegistryUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    RegistryRefused: HTTPStatus.BAD_GATEWAY,
}
"""What a re-check may be refused with, shown beside the checks (another member's account
is not among them: it stays a 404, as everywhere)."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The investigations' inputs as the page reads them (a bad one noted, its default used)."""

    min_people: int
    min_phones: int
    days: int


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """What publishing one finding came to: the entry published, or why nothing was."""

    entry_id: int | None = None
    listed_already: str = ""
    """The refusal of a second listing (the member lists it already), in English."""
    no_key: bool = False
    """The hub has made no sharing key yet, so no phone or ID can be hashed for the list."""


def _thresholds(params: Params, config: ConsoleConfig) -> Thresholds:
    return Thresholds(
        min_people=params.whole("min_people", FEWEST, MAX_THRESHOLD) or FEWEST,
        min_phones=params.whole("min_phones", FEWEST, MAX_THRESHOLD) or FEWEST,
        days=params.whole("days", 1, MAX_DAYS) or config.recycled_days,
    )


def _findings(
    uow: UnitOfWork, actor: Actor, finding: Finding, wanted: Thresholds, config: ConsoleConfig
) -> tuple[Any, ...]:
    """The rows of one investigation, through its use case (a member's actor only)."""
    if finding is Finding.SHARED_PHONE:
        return shared_phones(uow, actor, config.keyring, min_people=wanted.min_people)
    if finding is Finding.MANY_PHONES:
        return many_phones(uow, actor, config.keyring, min_phones=wanted.min_phones)
    return recycled_still_bound(uow, actor, config.keyring, days=wanted.days)


def _findings_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    config: ConsoleConfig,
    query: Mapping[str, str],
    *,
    outcome: PublishOutcome | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    params = Params(query)
    finding = params.choice("finding", Finding) or Finding.SHARED_PHONE
    wanted = _thresholds(params, config)
    rows = _findings(uow, actor, finding, wanted, config)
    publishes = actor.can(Permission.PUBLISH_RISK)
    key_version = None
    if publishes:
        versions = sharing_key_versions(uow, actor)
        key_version = next((v.version for v in versions if v.current), None)
    return page(
        request,
        "phone_findings.html",
        {
            "finding": finding,
            "findings": list(Finding),
            "rows": rows,
            "wanted": wanted,
            "limits": LIMITS,
            "form": query,
            "problems": params.problems,
            "publishes": publishes,
            "key_version": key_version,
            "rechecks": actor.can(Permission.VERIFY_PHONES),
            "outcome": outcome,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/phones")
def findings_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The member's investigations, one a tab, each with its threshold."""
    return _findings_page(request, actor, session, uow, config, request.query_params)


def _finding(form: Mapping[str, str]) -> Finding:
    try:
        return Finding(form.get("finding", ""))
    except ValueError:
        raise InvalidInput(f"one of {', '.join(Finding)}", "finding") from None


def _binding(form: Mapping[str, str]) -> int:
    given = form.get("binding", "").strip()
    if not (given.isascii() and given.isdigit() and len(given) <= 18):
        raise InvalidInput("the binding number of a row of the investigation", "binding")
    return int(given)


def _publish(
    uow: UnitOfWork, actor: Actor, finding: Finding, binding_id: int, config: ConsoleConfig
) -> PublishOutcome:
    keys = accepted_sharing_keys(uow, actor, config.keys_dir)
    if keys.current is None:
        return PublishOutcome(no_key=True)
    try:
        published = publish_finding(uow, actor, finding, binding_id, config.keyring, keys)
    except Conflict as refused:
        uow.rollback()
        return PublishOutcome(listed_already=refused.message())
    return PublishOutcome(entry_id=published.ids[0])


@router.post("/phones/publish", dependencies=[Depends(csrf_protected)])
def publish(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Publish one row of an investigation to the shared risk list. HTMX gets the row's
    answer (the entry's number, or why nothing was published); a plain form post gets the
    investigation's page with the answer above it. Another member's binding, or one no
    investigation shows, is a 404."""
    finding = _finding(form)
    outcome = _publish(uow, actor, finding, _binding(form), config)
    status = HTTPStatus.OK if outcome.entry_id is not None else HTTPStatus.CONFLICT
    if request.headers.get("hx-request"):
        return page(
            request, "phone_published.html", {"outcome": outcome}, session=session,
            status_code=status,
        )  # fmt: skip
    return _findings_page(
        request, actor, session, uow, config, {"finding": finding.value},
        outcome=outcome, status_code=status,
    )  # fmt: skip


def holder_checks(
    uow: UnitOfWork, actor: Actor, profile: AccountProfile, config: ConsoleConfig
) -> tuple[PhoneCheck, ...] | None:
    """The phone checks of the account's holder for its page; None where the page shows
    none: to a reader of no member's customers (the police) and for a firm (its phone is
    its owner's, checked on the owner's own accounts)."""
    if actor.customer_member is None or profile.holder.kind is not PartyKind.PERSON:
        return None
    return holder_phone_checks(uow, actor, profile.account_no, config.keyring)


@router.post("/accounts/{account_no}/phone/recheck", dependencies=[Depends(csrf_protected)])
def recheck(
    request: Request,
    account_no: str,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Ask the telecom registry again about the phone bound to the account's holder. HTMX
    gets the holder's checks back, the new one first (or the refusal above them); a plain
    form post goes back to the account's page, or to the checks with the refusal."""
    fragment = bool(request.headers.get("hx-request"))
    error, status = "", HTTPStatus.OK
    try:
        recheck_phone(uow, actor, account_no, config.telecom_registry, config.keyring)
    except tuple(_REFUSED) as refused:
        uow.rollback()
        error = refused.message()
        status = next(code for kind, code in _REFUSED.items() if isinstance(refused, kind))
    if not fragment and not error:
        return RedirectResponse(
            f"/accounts/{quote(account_no)}#phone-checks", status_code=HTTPStatus.SEE_OTHER
        )
    return page(
        request,
        "phone_checks.html" if fragment else "phone_recheck.html",
        {
            "account_no": account_no,
            "phone_checks": holder_phone_checks(uow, actor, account_no, config.keyring),
            "recheck_error": error,
        },
        session=session,
        status_code=status,
    )


@router.get("/phones/overview")
def overview_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """The hub's counts of the region's bindings and findings, member by member."""
    params = Params(request.query_params)
    days = params.whole("days", 1, MAX_DAYS) or config.recycled_days
    return page(
        request,
        "phone_overview.html",
        {
            "overview": phone_overview(uow, actor, days=days),
            "days": days,
            "max_days": MAX_DAYS,
            "results": OVERVIEW_RESULTS,
            "form": request.query_params,
            "problems": params.problems,
        },
        session=session,
    )
