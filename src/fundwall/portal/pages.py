"""The portal's pages: sign in with the resident ID, enter the code, my restrictions, file an
appeal, my appeals, my accounts (close one online), sign out, the language.

The identity check's two forms answer alike whatever the ID: the same redirect and page, at
least `portal.answer_floor_ms` after the request arrived; each address asks for at most
`portal.codes_per_address_per_hour` codes and enters at most
`portal.entries_per_address_per_hour`. Every form carries the visit's CSRF token.
"""

from __future__ import annotations

import time
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.accounts.model import ClosureRefused
from fundwall.appeals.filing import (
    EvidenceFile,
    close_my_account,
    file_appeal,
    my_accounts,
    my_appeal,
    my_appeals,
    my_measures,
)
from fundwall.appeals.identity import request_code, verify_code
from fundwall.appeals.model import AppealStatus, Measure, Outcome
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import UnitOfWorkDep, client_ip, cookie_secure
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.domain.identity import mask_account
from fundwall.portal.app import MOUNT, PortalConfig, PortalDep, render
from fundwall.portal.session import COOKIE, SignInFirst, Visit, drop, keep, wait_out
from fundwall.web.errors import safe_next
from fundwall.web.formatting import label_for
from fundwall.web.forms import (
    CSRF_FIELD,
    CsrfRejected,
    FormDep,
    UploadedFile,
    submitted_files_named,
)
from fundwall.web.i18n import LANGUAGE_COOKIE, LANGUAGES, N_, request_language

FIELD_WORDS: Final = {
    "reason": N_("Your reason"),
    "contact": N_("Phone for the answer"),
    "files": N_("Files"),
}
"""The appeal form's fields as a refusal names them."""
FIELD_HINTS: Final = {
    "reason": N_("Write why, in at most %(chars)s characters."),
    "contact": N_("Give a mainland mobile number of 11 digits, or leave the field empty."),
    "files": N_(
        "Send at most %(count)s files, PDF, PNG or JPEG, each at most %(mb)s MB and of the kind "
        "its name says."
    ),
}
"""What the person should do about a refused field, in their language (the refusal's own
detail, in English, follows it)."""

router = APIRouter(include_in_schema=False)
LANGUAGE_SECONDS: Final = 365 * 24 * 3600
STATUS_WORDS: Final = {
    AppealStatus.OPEN: N_("Being reviewed by the bank"),
    AppealStatus.AWAITING_OPINION: N_("Being reviewed by the bank"),
    AppealStatus.DECIDED: N_("Answered"),
}
"""What the person reads of an appeal's status (whether the police were asked is the bank's)."""
OUTCOME_WORDS: Final = {
    Outcome.LIFTED: N_("Lifted: the restriction has ended"),
    Outcome.MAINTAINED: N_("Maintained: the restriction stays"),
}


def visit_of(request: Request, config: PortalDep, uow: UnitOfWorkDep) -> Visit | None:
    """The visit of the request's cookie, if it holds a good one."""
    return Visit.opened(config.keyring, request.cookies.get(COOKIE, ""), uow.clock.now())


VisitDep = Annotated[Visit | None, Depends(visit_of)]


def has_visit(request: Request, visit: VisitDep) -> None:
    """Refuse an unsafe request from another site, or with no visit at all, before its body
    is read."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfRejected("it came from another site")
    if visit is None:
        raise CsrfRejected("the page has expired; open it again")


def checked(visit: Visit | None, form: dict[str, str]) -> Visit:
    """The visit, when the form carries its CSRF token."""
    if visit is None or not visit.token_matches(form.get(CSRF_FIELD, "")):
        raise CsrfRejected("the page has expired; open it again")
    return visit


def person(visit: VisitDep) -> Actor:
    """The verified person; SignInFirst without one."""
    actor = visit.actor if visit is not None else None
    if actor is None:
        raise SignInFirst()
    return actor


PersonDep = Annotated[Actor, Depends(person)]


def _page(
    request: Request,
    config: PortalConfig,
    uow: UnitOfWorkDep,
    template: str,
    visit: Visit | None,
    context: dict[str, object] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """A page, renewing a missing or spent visit (a new sign-in form)."""
    now = uow.clock.now()
    fresh = visit if visit is not None else Visit.new(now)
    response = render(request, template, fresh, context, status_code=status_code)
    if visit is None:
        keep(response, request, fresh, config.keyring, now)
    return response


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(f"{MOUNT}{path}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/")
def start(visit: VisitDep) -> Response:
    return _go("/restrictions" if visit is not None and visit.actor is not None else "/sign-in")


@router.get("/sign-in")
def sign_in_form(
    request: Request, visit: VisitDep, config: PortalDep, uow: UnitOfWorkDep
) -> Response:
    if visit is not None and visit.actor is not None:
        return _go("/restrictions")
    return _page(request, config, uow, "sign_in.html", visit, {"error": "", "id_number": ""})


@router.post("/sign-in", dependencies=[Depends(has_visit)])
def sign_in(
    request: Request, visit: VisitDep, form: FormDep, config: PortalDep, uow: UnitOfWorkDep
) -> Response:
    """Send a code to the phones bound to the ID's accounts, if any; answered alike."""
    started = time.monotonic()
    try:
        current = checked(visit, form)
        now = uow.clock.now()
        if not config.codes.take(client_ip(request), now):
            return render(request, "sign_in.html", current, {"error": "busy", "id_number": ""},
                          status_code=HTTPStatus.TOO_MANY_REQUESTS)  # fmt: skip
        typed = form.get("id_number", "").strip().upper()[:32]
        try:
            request_code(uow, typed, config.settings)
        except InvalidInput:
            return render(request, "sign_in.html", current, {"error": "id", "id_number": typed},
                          status_code=HTTPStatus.UNPROCESSABLE_ENTITY)  # fmt: skip
        waiting = Visit(
            "code", current.csrf, now + timedelta(minutes=config.settings.code_minutes), typed
        )
        response = _go("/code")
        keep(response, request, waiting, config.keyring, now)
        return response
    finally:
        wait_out(started, config.settings.answer_floor_ms)


@router.get("/code")
def code_form(request: Request, visit: VisitDep, config: PortalDep, uow: UnitOfWorkDep) -> Response:
    if visit is None or visit.stage != "code":
        return _go("/sign-in")
    minutes = config.settings.code_minutes
    return _page(request, config, uow, "code.html", visit, {"error": "", "minutes": minutes})


@router.post("/code", dependencies=[Depends(has_visit)])
def enter_code(
    request: Request, visit: VisitDep, form: FormDep, config: PortalDep, uow: UnitOfWorkDep
) -> Response:
    """Sign the person in with the code; a wrong one, an expired one and one of an unknown ID
    are answered alike."""
    started = time.monotonic()
    try:
        current = checked(visit, form)
        if current.stage != "code" or current.id_number is None:
            return _go("/sign-in")
        now = uow.clock.now()
        context = {"minutes": config.settings.code_minutes}
        if not config.entries.take(client_ip(request), now):
            return render(request, "code.html", current, {**context, "error": "busy"},
                          status_code=HTTPStatus.TOO_MANY_REQUESTS)  # fmt: skip
        actor = verify_code(uow, current.id_number, form.get("code", "")[:16], config.settings)
        if actor is None:
            return render(request, "code.html", current, {**context, "error": "wrong"},
                          status_code=HTTPStatus.UNAUTHORIZED)  # fmt: skip
        expires = now + timedelta(minutes=config.settings.session_minutes)
        verified = Visit("person", Visit.new(now).csrf, expires, person=actor.name)
        response = _go("/restrictions")
        keep(response, request, verified, config.keyring, now)
        return response
    finally:
        wait_out(started, config.settings.answer_floor_ms)


@router.get("/restrictions")
def restrictions(
    request: Request, actor: PersonDep, visit: VisitDep, config: PortalDep, uow: UnitOfWorkDep
) -> Response:
    measures = my_measures(uow, actor)
    return _page(request, config, uow, "restrictions.html", visit, {"measures": measures})


def _measure(uow: UnitOfWorkDep, actor: Actor, key: str) -> Measure:
    found = next((m for m in my_measures(uow, actor) if m.key == key), None)
    if found is None:
        raise NotFound("measure", key[:20])
    return found


@router.get("/restrictions/{measure_key}/appeal")
def appeal_form(
    request: Request,
    measure_key: str,
    actor: PersonDep,
    visit: VisitDep,
    config: PortalDep,
    uow: UnitOfWorkDep,
) -> Response:
    measure = _measure(uow, actor, measure_key)
    context = {"measure": measure, "limits": config.appeals, "error": None, "values": {}}
    return _page(request, config, uow, "appeal_form.html", visit, context)


def takes_evidence(request: Request, config: PortalDep) -> None:
    """Let the appeal form carry its files, up to their limits and the form around them."""
    request.state.upload_limit = config.upload_max_bytes + config.appeals.reason_max_chars * 8


async def evidence_files(request: Request) -> list[UploadedFile]:
    return await submitted_files_named(request, "files")


@router.post(
    "/restrictions/{measure_key}/appeal",
    dependencies=[Depends(has_visit), Depends(takes_evidence)],
)
def appeal(
    request: Request,
    measure_key: str,
    actor: PersonDep,
    visit: VisitDep,
    form: FormDep,
    files: Annotated[list[UploadedFile], Depends(evidence_files)],
    config: PortalDep,
    uow: UnitOfWorkDep,
) -> Response:
    """File the appeal; a refused one comes back as the form with the reason."""
    current = checked(visit, form)
    measure = _measure(uow, actor, measure_key)
    try:
        filed = file_appeal(
            uow,
            actor,
            measure_key,
            form.get("reason", ""),
            config.keyring,
            contact=form.get("contact", "").strip() or None,
            files=[EvidenceFile(f.filename, f.media_type, f.content) for f in files],
            settings=config.appeals,
            policy=config.policy,
        )
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        field = hint = None
        if isinstance(refused, InvalidInput):
            field = FIELD_WORDS.get(refused.field or "", N_("Your reason"))
            hint = FIELD_HINTS.get(refused.field or "", FIELD_HINTS["reason"])
        error = {"field": field, "hint": hint, "reason": refused.message()}
        context = {"measure": measure, "limits": config.appeals, "values": form, "error": error}
        status = HTTPStatus.UNPROCESSABLE_ENTITY if field else HTTPStatus.CONFLICT
        return render(request, "appeal_form.html", current, context, status_code=status)
    return _go(f"/appeals/{filed.id}")


@router.get("/appeals")
def appeals(
    request: Request, actor: PersonDep, visit: VisitDep, config: PortalDep, uow: UnitOfWorkDep
) -> Response:
    context = {"appeals": my_appeals(uow, actor, config.keyring), **_appeal_words()}
    return _page(request, config, uow, "appeals.html", visit, context)


@router.get("/appeals/{appeal_id}")
def appeal_page(
    request: Request,
    appeal_id: int,
    actor: PersonDep,
    visit: VisitDep,
    config: PortalDep,
    uow: UnitOfWorkDep,
) -> Response:
    context = {"appeal": my_appeal(uow, actor, appeal_id, config.keyring), **_appeal_words()}
    return _page(request, config, uow, "appeal.html", visit, context)


def _appeal_words() -> dict[str, object]:
    return {"status_words": STATUS_WORDS, "outcome_words": OUTCOME_WORDS}


def _accounts_page(
    request: Request,
    actor: Actor,
    visit: Visit | None,
    config: PortalConfig,
    uow: UnitOfWorkDep,
    *,
    closed: str | None = None,
    refusal: str | None = None,
    unconfirmed: bool = False,
    status_code: int = 200,
) -> Response:
    accounts = my_accounts(uow, actor)
    context = {
        "accounts": accounts,
        "status_label": lambda value: label_for(AccountStatus, value),
        "closed": closed,
        "refusal": refusal,
        "unconfirmed": unconfirmed,
        "CLOSED": AccountStatus.CLOSED,
    }
    return _page(request, config, uow, "accounts.html", visit, context, status_code=status_code)


@router.get("/accounts")
def accounts(
    request: Request, actor: PersonDep, visit: VisitDep, config: PortalDep, uow: UnitOfWorkDep
) -> Response:
    return _accounts_page(request, actor, visit, config, uow)


@router.post("/accounts/close", dependencies=[Depends(has_visit)])
def close_account(
    request: Request,
    actor: PersonDep,
    visit: VisitDep,
    form: FormDep,
    config: PortalDep,
    uow: UnitOfWorkDep,
) -> Response:
    """Close one of the person's accounts online, once the person ticked that they mean it
    (a closing cannot be undone); refused naming every blocker."""
    checked(visit, form)
    if form.get("confirm") != "yes":
        return _accounts_page(request, actor, visit, config, uow, unconfirmed=True,
                              status_code=HTTPStatus.UNPROCESSABLE_ENTITY)  # fmt: skip
    number = form.get("account_no", "").strip()[:40]
    move_to = form.get("move_to", "").strip()[:40] or None
    try:
        done = close_my_account(uow, actor, number, move_to=move_to)
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        said = refused.message()
        if isinstance(refused, ClosureRefused) and request_language(request) == "zh":
            said = refused.reason_zh
        return _accounts_page(request, actor, visit, config, uow, refusal=said,
                              status_code=HTTPStatus.CONFLICT)  # fmt: skip
    return _accounts_page(
        request, actor, visit, config, uow, closed=mask_account(done.account.account_no)
    )


@router.post("/sign-out", dependencies=[Depends(has_visit)])
def sign_out(request: Request, visit: VisitDep, form: FormDep) -> Response:
    checked(visit, form)
    response = _go("/sign-in")
    drop(response, request)
    return response


@router.get("/lang/{language}")
def choose_language(request: Request, language: str) -> Response:
    """Remember the language (the console's cookie) and go back to the portal's page."""
    target = safe_next(request.query_params.get("next"))
    if not target.startswith(f"{MOUNT}/"):
        target = f"{MOUNT}/"
    response = RedirectResponse(target, status_code=HTTPStatus.SEE_OTHER)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=LANGUAGE_SECONDS, httponly=True,
                            secure=cookie_secure(request), samesite="lax")  # fmt: skip
    return response
