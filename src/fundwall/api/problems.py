"""Every error the API answers, as an RFC 9457 problem (application/problem+json).

One handler, `problem_response`, turns whatever was raised into a problem: the domain's typed
errors, FastAPI's request validation errors (malformed JSON, wrong JSON types), HTTP errors
of the framework (unknown route, wrong method, body too large, wrong content type) and, as a
last resort, any unexpected exception (500, logged here with an incident id, never a traceback
in the body). Routes raise; they never build error responses themselves.

`type` is an absolute URI under `PROBLEM_BASE`. It identifies the kind of problem and is the
same on every deployment, so clients can match on it; it is not meant to be fetched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from fundwall.domain.errors import (
    Conflict,
    FundwallError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from fundwall.engine.shared import SharedStateUnavailable
from fundwall.ingest import MAX_ERRORS, InvalidRecords
from fundwall.phones.registry import RegistryRefused, RegistryUnavailable
from fundwall.store.database import DatabaseUnavailableError

PROBLEM_BASE: Final = "https://fundwall.example/problems/"
PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

log = logging.getLogger("fundwall.api")

_DOMAIN_STATUS: Final[Sequence[tuple[type[FundwallError], HTTPStatus]]] = (
    (InvalidInput, HTTPStatus.UNPROCESSABLE_ENTITY),
    (NotFound, HTTPStatus.NOT_FOUND),
    (PermissionDenied, HTTPStatus.FORBIDDEN),
    (Conflict, HTTPStatus.CONFLICT),
    (RegistryUnavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (RegistryRefused, HTTPStatus.BAD_GATEWAY),
)
_TITLES: Final = {
    "invalid-input": "Invalid input",
    "unauthorized": "Unauthorized",
    "not-found": "Not found",
    "forbidden": "Forbidden",
    "conflict": "Conflict",
    "content-too-large": "Content too large",
    "unsupported-media-type": "Unsupported media type",
    "method-not-allowed": "Method not allowed",
    "internal-error": "Internal server error",
    "service-unavailable": "Service unavailable",
    "registry-unavailable": "Telecom registry unavailable",
    "registry-refused": "Telecom registry refused the check",
}
_SLUG_BY_STATUS: Final = {
    HTTPStatus.UNAUTHORIZED: "unauthorized",
    HTTPStatus.NOT_FOUND: "not-found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method-not-allowed",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "content-too-large",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "unsupported-media-type",
}


class LocatedError(BaseModel):
    """One bad value: which record, which field, why."""

    record: str | None = Field(description="0-based index in a batch; null for one record")
    field: str | None = Field(description="the field (JSON member), null for the whole body")
    reason: str = Field(description="what is wrong, in plain words")


class Problem(BaseModel):
    """An RFC 9457 problem."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": f"{PROBLEM_BASE}content-too-large",
                    "title": "Content too large",
                    "status": 413,
                    "detail": "the body is larger than the limit of 65,536 bytes for "
                    "/v1/transactions",
                }
            ]
        },
    )

    type: str = Field(description="URI naming the kind of problem; match on it")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong this time, in plain words")
    instance: str | None = Field(
        default=None, description="id of this occurrence (500s: quote it when reporting)"
    )


class InvalidInputProblem(Problem):
    """Invalid input (422): where the first bad value is, and every one found."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": f"{PROBLEM_BASE}invalid-input",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "record 3, field 'amount_fen': expected a whole number, got a string",
                    "record": "3",
                    "field": "amount_fen",
                    "reason": "expected a whole number, got a string",
                    "errors": [
                        {
                            "record": "3",
                            "field": "amount_fen",
                            "reason": "expected a whole number, got a string",
                        }
                    ],
                    "more": False,
                }
            ]
        },
    )

    record: str | None = Field(description="the first bad record: its 0-based index in a batch")
    field: str | None = Field(description="the first bad field")
    reason: str = Field(description="what is wrong with it")
    errors: list[LocatedError] = Field(
        description=f"every bad value found, in input order, up to {MAX_ERRORS}"
    )
    more: bool = Field(description="true when there were more than `errors` lists")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problems a route may answer: `InvalidInputProblem`
    for 422, `Problem` for the others (both in the document's components)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {
                        "$ref": "#/components/schemas/"
                        + ("InvalidInputProblem" if status == 422 else "Problem")
                    }
                }
            },
        }
        for status in statuses
    }


def problem_body(
    status: int, detail: str, slug: str | None = None, **extensions: Any
) -> dict[str, Any]:
    """The members of a problem of kind `slug`; without one, a plain HTTP error (about:blank).

    A kind without a title of its own (a domain error of another room) takes the status's.
    """
    return {
        "type": f"{PROBLEM_BASE}{slug}" if slug else "about:blank",
        "title": _TITLES.get(slug, HTTPStatus(status).phrase)
        if slug
        else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extensions,
    }


def problem(
    status: int,
    detail: str,
    slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """A problem+json response."""
    return Response(
        orjson.dumps(problem_body(status, detail, slug, **extensions)),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def problem_response(request: Request, error: Exception) -> Response:
    """The one exception handler: whatever was raised → its problem response.

    Async although it awaits nothing, so Starlette calls it on the event loop instead of
    sending it to a worker thread.
    """
    if isinstance(error, RequestValidationError):
        error = invalid_request(error.errors())
    if isinstance(error, InvalidInput):
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY, error.message(), "invalid-input", **_located(error)
        )
    if isinstance(error, DatabaseUnavailableError):
        # The message names the database; the caller only needs to know to come back.
        log.error("database unavailable: %s", error.message())
        return problem(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "the service cannot reach its database; try again in a moment",
            "service-unavailable",
            {"Retry-After": "5"},
        )
    if isinstance(error, SharedStateUnavailable):
        log.error("%s", error.message())
        return problem(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "the engine's shared state is not available now; nothing was decided, "
            "try again in a moment",
            "service-unavailable",
            {"Retry-After": "1"},
        )
    if isinstance(error, FundwallError):
        status = next(
            (code for kind, code in _DOMAIN_STATUS if isinstance(error, kind)),
            HTTPStatus.BAD_REQUEST,
        )
        return problem(status, error.message(), error.kind)
    if isinstance(error, HTTPException):
        status = HTTPStatus(error.status_code)
        return problem(
            status,
            _http_detail(request, status, error.detail),
            _SLUG_BY_STATUS.get(status),
            error.headers,
        )
    incident = uuid.uuid4()
    log.error(
        "incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=error
    )
    return problem(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        f"an unexpected error occurred; quote incident {incident} when reporting it",
        "internal-error",
        instance=f"urn:uuid:{incident}",
    )


def _located(error: InvalidInput) -> dict[str, Any]:
    errors = error.errors if isinstance(error, InvalidRecords) else (error,)
    return {
        "record": error.record,
        "field": error.field,
        "reason": error.reason,
        "errors": [
            {"record": each.record, "field": each.field, "reason": each.reason} for each in errors
        ],
        "more": isinstance(error, InvalidRecords) and error.more,
    }


def _http_detail(request: Request, status: HTTPStatus, detail: object) -> str:
    """The framework's terse details ("Not Found") made to say what and where."""
    if detail != status.phrase:
        return str(detail)
    if status == HTTPStatus.NOT_FOUND:
        return f"no such resource: {request.url.path}"
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return f"{request.method} is not allowed on {request.url.path}"
    return str(detail)


def invalid_request(problems: Sequence[Mapping[str, Any]]) -> InvalidInput:
    """Pydantic's validation problems (as FastAPI reports them) as the domain's located errors.

    A location ("body", 3, "amount_fen") is record 3, field amount_fen; ("body",
    "amount_fen") is field amount_fen of the one record; ("body",) is the body as a whole.
    """
    located = [_locate(each) for each in problems[: MAX_ERRORS + 1]]
    return InvalidRecords.of(located[:MAX_ERRORS], more=len(located) > MAX_ERRORS)


def _locate(item: Mapping[str, Any]) -> InvalidInput:
    if item["type"] == "json_invalid":
        return InvalidInput(f"malformed JSON: {item.get('ctx', {}).get('error', item['msg'])}")
    loc = tuple(item["loc"])
    parts = loc[1:] if loc[:1] == ("body",) else loc
    record = next((str(part) for part in parts if isinstance(part, int)), None)
    field = ".".join(str(part) for part in parts if not isinstance(part, int)) or None
    return InvalidInput(_reason(item), field, record)


_EXPECTED: Final = {
    "string_type": "text",
    "int_type": "a whole number",
    "model_attributes_type": "a JSON object",
    "model_type": "a JSON object",
    "dict_type": "a JSON object",
    "list_type": "a JSON array",
}


def _reason(item: Mapping[str, Any]) -> str:
    kind = item["type"]
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_json_type(item.get('input'))}"
    ctx = item.get("ctx", {})
    if kind == "too_long":
        return f"too many items: at most {ctx['max_length']:,}, got {ctx['actual_length']:,}"
    if kind == "too_short":
        return f"too few items: at least {ctx['min_length']:,}, got {ctx['actual_length']:,}"
    return str(item.get("msg", "invalid"))


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "a body that is not JSON"
    if isinstance(value, Mapping):
        return "an object"
    return "an array"
