"""Simplified account opening (简易开户) on the console: a member's analyst types in an
application (a flexible worker's personal account or a micro-firm's basic account) and gets
the decision at once, each check's finding in the page's language, with the account opened
when the outcome allows and an account number was given; beside the form, the member's
counts of decisions and accounts opened.

The decision is `decide_onboarding`'s, asked as `POST /v1/onboarding` asks it: with the
telecom registry, the policy and the sharing keys the hub accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fundwall.accounts.onboarding import (
    Applicant,
    Application,
    OnboardingDecision,
    Outcome,
    decide_onboarding,
    onboarding_counts,
)
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.domain.errors import Conflict, FundwallError, InvalidInput
from fundwall.phones.registry import RegistryRefused, RegistryUnavailable
from fundwall.sharing.keys import accepted_sharing_keys
from fundwall.store.uow import UnitOfWork
from fundwall.web.forms import FormDep, Refusal, chosen, csrf_protected
from fundwall.web.i18n import N_
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

router = APIRouter(include_in_schema=False)

FIELDS: Final = ("applicant", "id_number", "name", "phone", "representative_id", "account_no")
CHECKS: Final = {
    "identity": N_("Identity document"),
    "phone": N_("Phone real-name check"),
    "shared_list": N_("Shared risk list"),
    "punishment": N_("Joint punishment list"),
    "existing_accounts": N_("Accounts held already"),
}
"""Words for the checks a finding names (`fundwall.accounts.onboarding`)."""
_REFUSED: Final[Mapping[type[FundwallError], HTTPStatus]] = {
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    Conflict: HTTPStatus.CONFLICT,
    RegistryUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    RegistryRefused: HTTPStatus.BAD_GATEWAY,
}
"""What a decision may be refused with, each shown above the form as typed (nothing was
recorded)."""


def application_of(form: Mapping[str, str]) -> Application:
    """The form's application (InvalidInput naming the field of a bad one). A representative
    is read for a firm only; blank optional fields are not given."""
    applicant = chosen(form, "applicant", Applicant)

    def given(name: str) -> str | None:
        return form.get(name, "").strip() or None

    return Application(
        applicant,
        form.get("id_number", ""),
        form.get("name", ""),
        form.get("phone", ""),
        given("representative_id") if applicant is Applicant.MICRO_FIRM else None,
        given("account_no"),
    )


def _decide(
    uow: UnitOfWork, actor: Actor, form: Mapping[str, str], config: ConsoleConfig
) -> OnboardingDecision:
    application = application_of(form)
    keys = accepted_sharing_keys(uow, actor, config.keys_dir)
    return decide_onboarding(
        uow, actor, application, config.keyring, config.telecom_registry, config.policy, keys
    )


def _page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    typed: Mapping[str, str],
    *,
    decision: OnboardingDecision | None = None,
    refusal: Refusal | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    counts = onboarding_counts(uow, actor).get(actor.member or "", {})
    return page(
        request,
        "onboarding.html",
        {
            "values": {name: typed.get(name, "") for name in FIELDS},
            "decision": decision,
            "refusal": refusal,
            "checks": CHECKS,
            "outcomes": list(Outcome),
            "counts": counts,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/onboarding")
def onboarding_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The application form and the member's counts."""
    actor.require(Permission.ONBOARD_CUSTOMERS)
    return _page(request, actor, session, uow, {"applicant": Applicant.FLEXIBLE_WORKER.value})


@router.post("/onboarding", dependencies=[Depends(csrf_protected)])
def decide(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Decide on the form's application and show the decision beside the form as typed
    (no decision can be read back by its number, so the answer is the page). A refusal — a
    bad field, an account number in the directory already, a registry that did not answer —
    comes back as the form with the reason; nothing was recorded."""
    actor.require(Permission.ONBOARD_CUSTOMERS)
    try:
        decision = _decide(uow, actor, form, config)
    except tuple(_REFUSED) as refused:
        uow.rollback()
        status = next(code for kind, code in _REFUSED.items() if isinstance(refused, kind))
        return _page(
            request, actor, session, uow, form,
            refusal=Refusal.of(refused), status_code=status,
        )  # fmt: skip
    return _page(request, actor, session, uow, form, decision=decision)
