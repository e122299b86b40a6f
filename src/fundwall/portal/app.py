"""The portal as a FastAPI app of its own, mounted at /portal of `fundwall serve`'s app.

A mounted app rather than more console routes: its visitors have no console account, so it
has its own error pages (never "sign in to the console"), its own templates and mobile-first
CSS, and its own cookie on its own path; the console's middleware (the client as a trusted
proxy names it, the security headers, no-store) wraps it as it wraps everything else.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from fundwall.config import AppealSettings, PolicySettings, PortalSettings
from fundwall.crypto import Keyring
from fundwall.domain.errors import FundwallError
from fundwall.domain.identity import mask_account
from fundwall.portal.session import HourlyLimit, SignInFirst, Visit
from fundwall.web.errors import status_of
from fundwall.web.formatting import money, when
from fundwall.web.i18n import LANGUAGES, N_, request_language, translator

log = logging.getLogger("fundwall.portal")

MOUNT: Final = "/portal"

environment = Environment(
    loader=PackageLoader("fundwall.portal", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(money=money, when=when, mask_account=mask_account)

_TITLES: Final = {
    HTTPStatus.BAD_REQUEST: N_("This request cannot be read"),
    HTTPStatus.FORBIDDEN: N_("Not allowed"),
    HTTPStatus.NOT_FOUND: N_("Not found"),
    HTTPStatus.METHOD_NOT_ALLOWED: N_("Not available here"),
    HTTPStatus.CONFLICT: N_("This clashes with the current state"),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: N_("This form is too large"),
    HTTPStatus.SERVICE_UNAVAILABLE: N_("The database is not available"),
    HTTPStatus.INTERNAL_SERVER_ERROR: N_("Something went wrong"),
}


@dataclass
class PortalConfig:
    """What the portal's routes need, on the portal app's state."""

    keyring: Keyring
    settings: PortalSettings
    appeals: AppealSettings
    policy: PolicySettings
    codes: HourlyLimit = field(init=False)
    """Codes asked for, per address (`portal.codes_per_address_per_hour`)."""
    entries: HourlyLimit = field(init=False)
    """Codes entered, per address (`portal.entries_per_address_per_hour`)."""

    def __post_init__(self) -> None:
        self.codes = HourlyLimit(self.settings.codes_per_address_per_hour)
        self.entries = HourlyLimit(self.settings.entries_per_address_per_hour)

    @property
    def upload_max_bytes(self) -> int:
        """The largest appeal form: every file at its largest."""
        return self.appeals.evidence_max_files * self.appeals.evidence_max_bytes


def portal_config(request: Request) -> PortalConfig:
    config: PortalConfig = request.app.state.fundwall_portal
    return config


PortalDep = Annotated[PortalConfig, Depends(portal_config)]


def render(
    request: Request,
    template: str,
    visit: Visit | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A portal page in the visitor's language, with the visit's CSRF token."""
    language = request_language(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    shared = {
        "request": request,
        "lang": language,
        "languages": LANGUAGES,
        "_": translator(language),
        "csrf_token": visit.csrf if visit is not None else "",
        "signed_in": visit is not None and visit.actor is not None,
        "here": here,
        "base": MOUNT,
    }
    body = environment.get_template(template).render({**shared, **(context or {})})
    return HTMLResponse(body, status_code=status_code)


def error_page(request: Request, error: Exception) -> Response:
    """A plain page for an error: its status, in the visitor's language."""
    status = status_of(error)
    incident = None
    detail = ""
    if status is HTTPStatus.INTERNAL_SERVER_ERROR:
        incident = str(uuid.uuid4())
        log.error("incident %s: %s %s failed", incident, request.method, request.url.path,
                  exc_info=error)  # fmt: skip
    elif isinstance(error, FundwallError):
        detail = error.message()
    elif isinstance(error, RequestValidationError):
        status = HTTPStatus.NOT_FOUND  # a path that is not one of the portal's (an id of letters)
    context = {"status": int(status), "title": _TITLES[status], "detail": detail,
               "incident": incident}  # fmt: skip
    return render(request, "error.html", None, context, status_code=int(status))


def portal_app(
    keyring: Keyring, settings: PortalSettings, appeals: AppealSettings, policy: PolicySettings
) -> FastAPI:
    """The portal's app; mount it with `install_portal`."""
    from fundwall.portal.pages import router

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fundwall_portal = PortalConfig(keyring, settings, appeals, policy)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    async def handle(request: Request, error: Exception) -> Response:
        return error_page(request, error)

    async def sign_in_first(request: Request, error: Exception) -> Response:
        return RedirectResponse(f"{MOUNT}/sign-in", status_code=HTTPStatus.SEE_OTHER)

    for raised in (FundwallError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(raised, handle)
    app.add_exception_handler(SignInFirst, sign_in_first)
    return app


def install_portal(
    app: FastAPI,
    *,
    keyring: Keyring,
    settings: PortalSettings,
    appeals: AppealSettings,
    policy: PolicySettings,
) -> FastAPI:
    """Mount the portal at /portal of `app`, an app the console is installed in (the portal
    shares its database access and form limits); the portal's app."""
    portal = portal_app(keyring, settings, appeals, policy)
    portal.state.fundwall_access = app.state.fundwall_access
    portal.state.fundwall_console = app.state.fundwall_console
    app.mount(MOUNT, portal, name="portal")
    return portal
