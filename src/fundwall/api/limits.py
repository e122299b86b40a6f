"""Request body limits, enforced before a body is read into memory.

A body whose Content-Length is over its route's limit is refused at once, unread; a body sent
without a length (chunked) is counted as it arrives and refused when it passes the limit. Both
answer a 413 problem through the one exception handler. (Starlette's own limiter answers
plain text whenever the Content-Length is too large, so it cannot give a problem.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fundwall.api.problems import problem
from fundwall.ingest import MAX_XML_BYTES


@dataclass(frozen=True)
class ApiLimits:
    """Largest bodies accepted, in bytes."""

    transaction_bytes: int = 64 * 1024
    """One JSON transaction (also the limit of any route not named here)."""
    batch_bytes: int = 16 * 1024 * 1024
    """A JSON batch: room for 10,000 transactions of about 1.6 KB each."""
    xml_bytes: int = MAX_XML_BYTES
    """A pacs.008 message (ingest refuses larger ones too)."""


class BodyLimit:
    """ASGI middleware refusing (413) a body over the limit of its path."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int], default: int) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limits.get(path, self.default)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    # Outside the exception middleware: answer here rather than raise.
                    await problem(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        _too_large(limit, path),
                        "content-too-large",
                    )(scope, receive, send)
                    return
                break
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # Raised inside the route's body read, so the exception handler answers it.
                raise HTTPException(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _too_large(limit, path))
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int, path: str) -> str:
    return f"the body is larger than the limit of {limit:,} bytes for {path}"
