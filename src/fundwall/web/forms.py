"""Forms from the browser: bounded before they are read, parsed once, and CSRF-checked.

    @router.post("/alerts/{tx_id}", dependencies=[Depends(csrf_protected)])
    def update(tx_id: str, actor: Analyst, session: SessionDep, form: FormDep) -> ...: ...

A form body is read by the API's own `read_body`: a declared length over the console's limit
(`security.form_max_bytes`) is refused with 413 before a byte is read, and a body sent without
a length is counted as it arrives and refused as soon as it passes the limit. An unsafe
request without a session is refused before its body is read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.parser import BytesHeaderParser, HeaderParser
from email.policy import HTTP
from enum import StrEnum
from typing import Annotated, Final, TypeVar
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
UPLOAD_MEDIA_TYPE: Final = "multipart/form-data"
MAX_FORM_FIELDS: Final = 100
_HEADERS: Final = HeaderParser(policy=HTTP)
_BYTES_HEADERS: Final = BytesHeaderParser(policy=HTTP)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class UploadedFile:
    """A file of an upload form, as the browser named and typed it (neither is trusted)."""

    filename: str
    media_type: str
    content: bytes


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
    every: list[tuple[str, UploadedFile]] = []
    given = request.headers.get("content-type", "")
    content_type = given.partition(";")[0].strip().lower()
    upload_limit: int | None = getattr(request.state, "upload_limit", None)
    if request.method not in SAFE_METHODS and content_type == FORM_MEDIA_TYPE:
        limit = console_config(request).form_max_bytes
        body = (await read_body(request, limit, (FORM_MEDIA_TYPE,))).decode(errors="replace")
        try:
            pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            raise InvalidInput(f"more than {MAX_FORM_FIELDS} form fields", "form") from None
        for name, value in pairs:
            form.setdefault(name, value)
    elif (
        request.method not in SAFE_METHODS
        and content_type == UPLOAD_MEDIA_TYPE
        and upload_limit is not None
    ):
        upload = await read_body(request, upload_limit, (UPLOAD_MEDIA_TYPE,))
        form, every = _multipart(given, upload)
    request.state.form = form
    request.state.files = {}
    for name, file in every:
        request.state.files.setdefault(name, file)
    request.state.every_file = every
    return form


def _multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], list[tuple[str, UploadedFile]]]:
    """The fields (first of each name) and every file, with its field's name, of a
    multipart/form-data body.

    The body is cut at its boundaries and only each part's headers are parsed: a file costs
    one copy of its bytes, where parsing the whole body as one message held about eight
    times its size (a bank's file to bulk-match may be 256 MB)."""
    malformed = InvalidInput("the upload is not a well-formed multipart form", "form")
    boundary = _HEADERS.parsestr(f"Content-Type: {content_type}\r\n\r\n").get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise malformed
    dash = b"--" + boundary.encode("latin-1", errors="replace")
    delimiter = b"\r\n" + dash
    at = 0 if body.startswith(dash) else body.find(delimiter) + 2  # after a preamble
    if at == 1:
        raise malformed  # no boundary at all
    form: dict[str, str] = {}
    files: list[tuple[str, UploadedFile]] = []
    parts = 0
    while not body.startswith(b"--", at + len(dash)):  # until the closing delimiter
        parts += 1
        if parts > MAX_FORM_FIELDS:
            raise InvalidInput(f"more than {MAX_FORM_FIELDS} form fields", "form")
        start = body.find(b"\r\n", at + len(dash)) + 2
        end = body.find(delimiter, start)
        if start < 2 or end < 0:
            raise malformed
        if body.startswith(b"\r\n", start):
            head, content = b"", body[start + 2 : end]  # a part without headers
        else:
            split = body.find(b"\r\n\r\n", start, end)
            if split < 0:
                raise malformed
            head, content = body[start:split], body[split + 4 : end]
        part = _BYTES_HEADERS.parsebytes(head)
        name = str(part.get_param("name", "", header="content-disposition"))
        filename = part.get_filename()
        if filename is not None:
            files.append((name, UploadedFile(filename, part.get_content_type(), content)))
        else:
            form.setdefault(name, content.decode(errors="replace"))
        at = end + 2
    return form, files


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form changed nothing, for its page to show at the form: the error's kind
    (`FundwallError.kind`), the field it names (bad input) and its reason, in English."""

    kind: str
    field: str | None
    reason: str

    @classmethod
    def of(cls, error: FundwallError) -> Refusal:
        if isinstance(error, InvalidInput):
            return cls(error.kind, error.field, error.reason)
        return cls(error.kind, None, error.message())


def chosen(form: Mapping[str, str], name: str, kind: type[E]) -> E:
    """The value of `kind` chosen in the form's field `name`; InvalidInput naming the field
    when none is, or one that is not of `kind` (a form someone edited)."""
    try:
        return kind(form.get(name, "").strip())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"one of {allowed}", name) from None


def takes_upload(request: Request) -> None:
    """Let this route read a file upload, up to the console's upload limit (declare it
    before `csrf_protected`, which reads the form)."""
    request.state.upload_limit = console_config(request).upload_max_bytes


def takes_upload_of(file_bytes: int) -> Callable[[Request], None]:
    """Like `takes_upload`, for a route whose file may hold up to `file_bytes` (the limit
    the API puts on the same file), and the form around it."""

    def dependency(request: Request) -> None:
        request.state.upload_limit = file_bytes + console_config(request).form_max_bytes

    return dependency


async def submitted_files(request: Request) -> dict[str, UploadedFile]:
    """The files of an upload form (none for any other body), by field name."""
    await submitted_form(request)
    files: dict[str, UploadedFile] = request.state.files
    return files


async def submitted_files_named(request: Request, name: str) -> list[UploadedFile]:
    """Every file of an upload form's field `name` (a field taking several files), in the
    order sent; a file input left empty (no name, no content) is not one."""
    await submitted_form(request)
    every: list[tuple[str, UploadedFile]] = request.state.every_file
    return [file for field, file in every if field == name and (file.filename or file.content)]


FormDep = Annotated[dict[str, str], Depends(submitted_form)]
FilesDep = Annotated[dict[str, UploadedFile], Depends(submitted_files)]


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
