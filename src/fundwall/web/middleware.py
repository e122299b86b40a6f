"""The app's HTTP front, as plain ASGI: whom a request came from, and the security headers.

Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs every request in a task of
its own with memory streams between the layers: it measured about 350 µs of CPU on each API
call, four times the call itself. On the API's paths the headers are appended as they are,
with no lookup, because the API's routes set none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fundwall.api.docs import ASSETS_PATH

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
"""Scripts only from the console's own files (no inline script, no eval). ECharts sets
inline styles on its elements, hence 'unsafe-inline' for styles alone."""
NO_STORE: Final = {"Cache-Control": "no-store"}
"""Answers show customer data: no browser or proxy keeps a copy."""
NO_SNIFF: Final = {"X-Content-Type-Options": "nosniff"}
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    **NO_SNIFF,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
"""On every answer but the API's: pages, static files, the API documentation."""
API_PATHS: Final = ("/v1/", "/healthz", "/openapi.json")
"""Answered by the API's routes and the console's member-data API: JSON or XML, no page."""
STATIC_PATH: Final = "/static"
STATIC_PATHS: Final = (f"{STATIC_PATH}/", f"{ASSETS_PATH}/")
"""The same files for everyone, which browsers may keep."""

Networks = Sequence[IPv4Network | IPv6Network]


class SecurityHeaders:
    """`Cache-Control: no-store` and `X-Content-Type-Options: nosniff` on every answer (but
    no-store not on static files), the page headers (CSP, framing, referrer) on all but the
    API's, and `Strict-Transport-Security` on every answer over https."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int) -> None:
        self.app = app
        hsts = {"Strict-Transport-Security": f"max-age={hsts_seconds}"}
        api = {**NO_STORE, **NO_SNIFF}
        # Indexed by "over https".
        self._api = tuple(_raw(headers) for headers in (api, {**api, **hsts}))
        self._static = (SECURITY_HEADERS, {**SECURITY_HEADERS, **hsts})
        pages = {**SECURITY_HEADERS, **NO_STORE}
        self._pages = (pages, {**pages, **hsts})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope["scheme"] == "https"
        if path.startswith(API_PATHS):
            appended = self._api[https]

            async def send_appending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *appended]
                await send(message)

            await self.app(scope, receive, send_appending)
            return
        defaults = (self._static if path.startswith(STATIC_PATHS) else self._pages)[https]

        async def send_with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_defaults)


class TrustedFront:
    """Whom a request came from and over what, as the browser sees it.

    `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from a peer in `proxies`:
    the client is then the nearest address in the chain that is not itself a trusted proxy,
    and the scheme the one the proxy reports. From any other peer they are ignored, and the
    peer is the client. With `tls`, the app is served over TLS whatever the hop before says
    (a TLS proxy that is not listed), so the scheme is https. Installed only when either is
    configured: otherwise it would change nothing.
    """

    def __init__(self, app: ASGIApp, *, proxies: Networks, tls: bool) -> None:
        self.app = app
        self.proxies = tuple(proxies)
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            if self.tls:
                scope["scheme"] = "https" if scope["type"] == "http" else "wss"
            client = scope.get("client")
            if client is not None and self.proxies and self._trusted(client[0]):
                self._believe_forwarded(scope, client[0])
        await self.app(scope, receive, send)

    def _trusted(self, host: str) -> bool:
        try:
            address = ip_address(host)
        except ValueError:
            return False
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.proxies)

    def _believe_forwarded(self, scope: Scope, peer: str) -> None:
        chain: list[str] = []
        protocol = ""
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                chain.extend(value.decode("latin-1").split(","))
            elif name == b"x-forwarded-proto":
                protocol = value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
        client = peer
        for hop in reversed(chain):
            if not self._trusted(client):
                break
            hop = hop.strip()
            try:
                client = str(ip_address(hop))
            except ValueError:
                break  # a hop that is no address: the last trusted one is the client
        scope["client"] = (client, 0)
        if protocol in ("http", "https") and scope["type"] == "http" and not self.tls:
            scope["scheme"] = protocol


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]
