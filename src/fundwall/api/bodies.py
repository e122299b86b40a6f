"""Reading request bodies: the media type first, then the size, then the bytes.

A body is refused before it is read when its type is wrong (415) or its Content-Length is over
the route's limit (413); a body sent without a length (chunked) is counted as it arrives and
refused as soon as it passes the limit, so no request holds more than the limit in memory.
JSON is parsed and checked in one pass by pydantic's Rust core, straight from the bytes. It
must be UTF-8 (RFC 8259, section 8.1), whose byte-order mark is skipped; JSON in UTF-16 or
UTF-32 is refused (415) before parsing, saying so, rather than reported as malformed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException

from fundwall.ingest import MAX_XML_BYTES
from fundwall.ingest.unicode import sniff_unicode

JSON_TYPES: Final = ("application/json",)
XML_TYPES: Final = ("application/xml", "text/xml")

T = TypeVar("T")
DRAIN_BYTES: Final = 32 * 1024 * 1024
"""The most of a refused body read and dropped before the 413 (see `_drain`): held in
memory one chunk at a time, so it costs time on the wire, never memory."""


@dataclass(frozen=True)
class ApiLimits:
    """Largest bodies accepted, in bytes."""

    transaction_bytes: int = 64 * 1024
    """One JSON transaction."""
    batch_bytes: int = 16 * 1024 * 1024
    """A JSON batch: room for 10,000 transactions of about 1.6 KB each."""
    xml_bytes: int = MAX_XML_BYTES
    """A pacs.008 message (ingest refuses larger ones too)."""
    login_bytes: int = 4 * 1024 * 1024
    """Login events: room for 10,000 of about 400 bytes each."""


def media_type(request: Request) -> str:
    """The request's media type, without parameters, in lower case ("" without one)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_body(request: Request, limit: int, media_types: Sequence[str]) -> bytes:
    """The body, if its media type is one of `media_types` (or ends in the first one's
    +suffix) and it holds at most `limit` bytes; else a 415 or 413 HTTPException."""
    given = request.headers.get("content-type", "")
    media_type = given.partition(";")[0].strip().lower()
    suffix = "+" + media_types[0].rpartition("/")[2]
    if media_type not in media_types and not media_type.endswith(suffix):
        shown = f"'{given}'" if given else "no Content-Type"
        raise HTTPException(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"send the body as {' or '.join(media_types)}, not {shown}",
        )
    declared = request.headers.get("content-length", "")
    stream = request.stream()
    if declared.isdigit() and int(declared) > limit:
        if int(declared) <= DRAIN_BYTES:
            await _drain(stream, 0)
        raise _too_large(request, limit)
    chunks = []
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            await _drain(stream, received)
            raise _too_large(request, limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(stream: AsyncIterator[bytes], size: int) -> None:
    """Read and drop the rest of a refused body (`size` bytes read so far) up to DRAIN_BYTES in
    all, so a client that sends a body whole before it reads (no `Expect: 100-continue`) reads
    the 413 instead of a connection reset; a larger one is cut off."""
    async for chunk in stream:
        size += len(chunk)
        if size > DRAIN_BYTES:
            return


def parse_json(body: bytes, model: TypeAdapter[T]) -> T:
    """`body` read as UTF-8 JSON into `model` (a 415 HTTPException in another encoding);
    pydantic's problems are located under "body" as FastAPI locates them, so the one handler
    reports both alike."""
    encoding, mark_length = sniff_unicode(body)
    if encoding not in (None, "UTF-8"):
        raise HTTPException(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"JSON must be sent in UTF-8 (RFC 8259), and this body is {encoding}",
        )
    try:
        return model.validate_json(body[mark_length:] if mark_length else body)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        for problem in problems:
            problem["loc"] = ("body", *problem["loc"])
        raise RequestValidationError(problems) from None


def _too_large(request: Request, limit: int) -> HTTPException:
    return HTTPException(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"the body is larger than the limit of {limit:,} bytes for {request.url.path}",
    )
