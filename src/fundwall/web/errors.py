"""Errors on console pages: polite HTML pages, while the API keeps its RFC 9457 problems.

The console shares one FastAPI app with the API, and exception handlers are per app. So the
handlers installed here look at the path: API paths go to the handlers that were there
before (the API's problem handler), console paths get a page in the person's language. A
request without a session is sent to the sign-in page and brought back afterwards.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Final, cast
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import NotSignedIn
from fundwall.domain.errors import Conflict, FundwallError, InvalidInput, NotFound, PermissionDenied
from fundwall.engine.shared import SharedStateUnavailable
from fundwall.store.database import DatabaseUnavailableError
from fundwall.web.forms import CsrfRejected
from fundwall.web.i18n import N_
from fundwall.web.render import page

log = logging.getLogger("fundwall.web")

API_PREFIXES: Final = ("/v1/", "/docs", "/openapi.json", "/healthz", "/redoc")
Handler = Callable[[Request, Exception], Awaitable[Response]]

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
_HINTS: Final = {
    HTTPStatus.FORBIDDEN: N_(
        "Your role does not allow this. Ask your administrator if you need it."
    ),
    HTTPStatus.NOT_FOUND: N_(
        "It does not exist, or it belongs to another member and is not shown to you."
    ),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: N_(
        "The console refused it without reading it. Shorten what you typed and send it again."
    ),
    HTTPStatus.SERVICE_UNAVAILABLE: N_("Try again in a moment; if it persists, tell the operator."),
    HTTPStatus.INTERNAL_SERVER_ERROR: N_(
        "The error was logged. Quote the incident number when you report it."
    ),
}


def is_console(path: str) -> bool:
    """Whether a path belongs to the console rather than the API."""
    return not path.startswith(API_PREFIXES)


def safe_next(target: str | None) -> str:
    """A local path to return to after signing in; anything else (another site) is "/"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def status_of(error: Exception) -> HTTPStatus:
    if isinstance(error, InvalidInput | RequestValidationError):
        return HTTPStatus.BAD_REQUEST
    if isinstance(error, PermissionDenied | CsrfRejected):
        return HTTPStatus.FORBIDDEN
    if isinstance(error, NotFound):
        return HTTPStatus.NOT_FOUND
    if isinstance(error, Conflict):
        return HTTPStatus.CONFLICT
    if isinstance(error, DatabaseUnavailableError | SharedStateUnavailable):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(error, HTTPException) and error.status_code in (404, 405, 413):
        return HTTPStatus(error.status_code)
    return HTTPStatus.INTERNAL_SERVER_ERROR


def console_error(request: Request, error: Exception) -> Response:
    """The page (or, for an HTMX request, the fragment) answering `error`."""
    if isinstance(error, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"/login?next={quote(safe_next(target))}"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=HTTPStatus.SEE_OTHER)
    status = status_of(error)
    incident = None
    detail = ""
    if status is HTTPStatus.INTERNAL_SERVER_ERROR:
        incident = str(uuid.uuid4())
        log.error(
            "incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=error
        )
    elif isinstance(error, FundwallError):
        detail = error.message()
    elif isinstance(error, RequestValidationError):
        detail = "; ".join(str(item.get("msg", "")) for item in error.errors()[:3])
    session = getattr(request.state, "fundwall_session", None)
    fragment = bool(request.headers.get("hx-request"))
    return page(
        request,
        "error_fragment.html" if fragment else "error.html",
        {
            "status": int(status),
            "title": _TITLES[status],
            "hint": _HINTS.get(status, ""),
            "detail": detail,
            "incident": incident,
        },
        session=session,
        status_code=int(status),
    )


def install_error_pages(app: FastAPI) -> None:
    """Answer console paths with pages; leave API paths to the handlers already there."""
    for raised in (FundwallError, RequestValidationError, HTTPException, Exception):
        before = cast(Handler | None, app.exception_handlers.get(raised))
        app.add_exception_handler(raised, _dispatch(before))


def _dispatch(api_handler: Handler | None) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        if api_handler is not None and not is_console(request.url.path):
            return await api_handler(request, error)
        return console_error(request, error)

    return handle
