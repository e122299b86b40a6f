"""Forms from the browser: bounded before they are read, parsed once, and CSRF-checked.

    @router.post("/alerts/{tx_id}", dependencies=[Depends(csrf_protected)])
    def update(tx_id: str, actor: Analyst, session: SessionDep, form: FormDep) -> ...: ...

A form body is read by the API's own `read_body`: a declared length over the console's limit
(`security.form_max_bytes`) is refused with 413 before a byte is read, and a body sent without
a length is counted as it arrives and refused as soon as it passes the limit. An unsafe
request without a session is refused before its body is read at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from fundwall.api.bodies import read_body
from fundwall.auth.dependencies import SAFE_METHODS, MaybeSessionDep, NotSignedIn
from fundwall.auth.tokens import same
from fundwall.domain.errors import FundwallError, InvalidInput
from fundwall.web.state import console_config

CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS: Final = 100


@dataclass(eq=False)
class CsrfRejected(FundwallError):
    """An unsafe request without the session's CSRF token, or from another origin."""

    reason: str

    kind = "csrf-rejected"

    def message(self) -> str:
        return f"request refused: {self.reason}"


async def submitted_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (first value of each), parsed once per request.

    HTMX and plain forms both send this encoding; a body of any other type is not read and
    gives no fields. 413 when the body is over the console's limit.
    """
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    form: dict[str, str] = {}
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if request.method not in SAFE_METHODS and content_type == FORM_MEDIA_TYPE:
        limit = console_config(request).form_max_bytes
        body = (await read_body(request, limit, (FORM_MEDIA_TYPE,))).decode(errors="replace")
        try:
            pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            raise InvalidInput(f"more than {MAX_FORM_FIELDS} form fields", "form") from None
        for name, value in pairs:
            form.setdefault(name, value)
    request.state.form = form
    return form


FormDep = Annotated[dict[str, str], Depends(submitted_form)]


async def csrf_protected(request: Request, session: MaybeSessionDep) -> None:
    """Refuse an unsafe request from another origin or without the session's CSRF token,
    sent in the `X-CSRF-Token` header (HTMX requests, set by app.js) or the form field
    `csrf_token`. Origin and session are checked first: the body is read only for a
    signed-in user whose request carries no token header."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfRejected("it came from another site")
    if session is None:
        raise NotSignedIn()
    presented = request.headers.get(CSRF_HEADER)
    if not presented:
        presented = (await submitted_form(request)).get(CSRF_FIELD, "")
    if not presented or not same(presented, session.csrf_token):
        raise CsrfRejected("the form has expired; reload the page and try again")
