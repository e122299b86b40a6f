"""The app's HTTP front: bodies bounded before they are read, the client a trusted proxy names
(and no one else), headers on every answer, and TLS."""

from __future__ import annotations

import asyncio
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from fundwall.api.bodies import DRAIN_BYTES
from fundwall.cli.serve import run_server
from fundwall.config import SecuritySettings

from .conftest import Browser, Console, make_console, open_client, sign_in
from .region import PASSWORD, Region

CHUNK = 64 * 1024
FORM = "application/x-www-form-urlencoded"
TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


class Upload:
    """A request body of `size` bytes handed to the app one fresh chunk at a time, counting
    what the app took: a server that refuses a body without reading it takes nothing, and one
    that keeps what it takes holds new memory for each chunk."""

    def __init__(self, size: int) -> None:
        self.left = size // CHUNK
        self.taken = 0

    async def receive(self) -> Message:
        if not self.left:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.left -= 1
        self.taken += 1
        return {"type": "http.request", "body": bytes(CHUNK), "more_body": True}


def _post(
    app: FastAPI, path: str, upload: Upload, *, declared: int | None, cookie: str = ""
) -> int:
    """POST `upload` to `path` straight through ASGI, with or without a Content-Length."""
    headers = [(b"content-type", FORM.encode()), (b"host", b"testserver")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("198.51.100.7", 50000),
        "server": ("testserver", 443),
        "state": {},
    }
    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, upload.receive, send))
    return statuses[0]


def test_a_20_mb_sign_in_form_is_refused_and_never_held(console: Console) -> None:
    """Refused at once by its declared length; then dropped chunk by chunk (so a client that
    sends it whole before reading reads the 413), never parsed nor kept."""
    size = 20 * 1024 * 1024
    tracemalloc.start()
    try:
        declared = Upload(size)
        assert _post(console.app, "/login", declared, declared=size) == 413
        streamed = Upload(size)  # chunked: no length to refuse by, so it is counted as it comes
        assert _post(console.app, "/login", streamed, declared=None) == 413
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert declared.taken == streamed.taken == size // CHUNK
    assert peak < size // 4


def test_a_body_past_what_is_dropped_is_cut_off_unread(console: Console) -> None:
    huge = Upload(DRAIN_BYTES + CHUNK)
    assert _post(console.app, "/login", huge, declared=DRAIN_BYTES + CHUNK) == 413
    assert huge.taken == 0


def test_signing_out_reads_no_body_without_a_session_and_no_large_one_with(
    console: Console,
) -> None:
    size = 50 * 1024 * 1024
    anonymous = Upload(size)
    assert _post(console.app, "/logout", anonymous, declared=size) == 303
    assert anonymous.taken == 0
    session = sign_in(open_client(console.app), "analyst1").cookies["fundwall_session"]
    signed_in = Upload(size)
    status = _post(
        console.app, "/logout", signed_in, declared=size, cookie=f"fundwall_session={session}"
    )
    assert (status, signed_in.taken) == (413, 0)


def test_a_form_over_the_configured_limit_gets_a_page_saying_so(
    region: Region, tmp_path: Path
) -> None:
    with (
        make_console(region, tmp_path, security=SecuritySettings(form_max_bytes=2048)) as made,
        open_client(made.app) as client,
    ):
        client = sign_in(client, "analyst1")
        path = f"/accounts/{region.first_account}/unmask"
        answer = client.post_form(path, {"purpose": "x" * 4096})
        assert answer.status_code == 413
        assert "表单过大" in answer.text
        assert client.post_form(path, {"purpose": "call-back check"}).status_code == 200


def _last_actor(console: Console) -> str:
    with console.uow() as uow:
        (record,) = uow.audit.tail(1)
    return record.actor


def _sign_in_failing(console: Console, peer: str, headers: dict[str, str]) -> None:
    with open_client(console.app, peer) as client:
        token = TOKEN.search(client.get("/login").text)
        assert token is not None
        answer = client.post(
            "/login",
            data={"username": "analyst1", "password": "wrong", "login_token": token[1]},
            headers=headers,
        )
        assert answer.status_code == 401


def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(
    region: Region, tmp_path: Path
) -> None:
    trusting = SecuritySettings(trusted_proxies=("10.0.0.1", "10.0.1.0/24"))  # type: ignore[arg-type]
    with make_console(region, tmp_path, security=trusting) as console:
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        _sign_in_failing(console, "198.51.100.7", forwarded)
        assert _last_actor(console) == "anonymous:198.51.100.7"
        _sign_in_failing(console, "10.0.0.1", forwarded)
        assert _last_actor(console) == "anonymous:203.0.113.9"
        # Through two proxies: the nearest untrusted hop is the client, not what it claims.
        chain = {"X-Forwarded-For": "192.0.2.66, 203.0.113.10, 10.0.1.5"}
        _sign_in_failing(console, "10.0.0.1", chain)
        assert _last_actor(console) == "anonymous:203.0.113.10"
        _sign_in_failing(console, "10.0.0.1", {"X-Forwarded-For": "not an address"})
        assert _last_actor(console) == "anonymous:10.0.0.1"


def test_without_trusted_proxies_forwarded_addresses_are_ignored(console: Console) -> None:
    _sign_in_failing(console, "10.0.0.1", {"X-Forwarded-For": "203.0.113.9"})
    assert _last_actor(console) == "anonymous:10.0.0.1"


def test_every_answer_but_static_files_is_not_kept_and_none_is_sniffed(
    console: Console,
) -> None:
    client = sign_in(open_client(console.app), "analyst1")
    answers = {
        path: client.get(path)
        for path in ("/", "/login", "/alerts", "/v1/alerts", "/healthz", "/openapi.json", "/docs")
    }
    answers["/v1/transactions"] = client.post("/v1/transactions", content=b"{}")
    answers["/logout"] = client.post_form("/logout", {})  # type: ignore[assignment]
    answers["/no-such-page"] = client.get("/no-such-page")
    for path, answer in answers.items():
        assert answer.headers.get_list("cache-control") == ["no-store"], path
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"], path
    assert len(answers["/docs"].headers.get_list("content-security-policy")) == 1
    for path in ("/static/app.css", "/docs/assets/swagger-ui.css"):
        asset = client.get(path)
        assert asset.status_code == 200 and "no-store" not in asset.headers.get("cache-control", "")
        assert asset.headers["x-content-type-options"] == "nosniff"
    client.close()


def _signed_in_over_http(console: Console, headers: dict[str, str]) -> tuple[str, list[str]]:
    """The session cookie and the HSTS headers of a sign-in over plain HTTP to 127.0.0.1,
    from 10.0.0.1 sending `headers`."""
    with Browser(
        console.app,
        base_url="http://127.0.0.1:8000",
        follow_redirects=False,
        client=("10.0.0.1", 50000),
        headers=headers,
    ) as client:
        token = TOKEN.search(client.get("/login").text)
        assert token is not None
        # Sent by hand: over plain HTTP the client keeps back a cookie marked Secure.
        answer = client.post(
            "/login",
            data={"username": "analyst1", "password": PASSWORD, "login_token": token[1]},
            headers={"Cookie": f"fundwall_login={token[1]}"},
        )
        assert answer.status_code == 303
        hsts = [
            client.get(path).headers.get("strict-transport-security", "")
            for path in ("/", "/healthz", "/static/app.css")
        ]
    return answer.headers["set-cookie"].lower(), hsts


def test_with_tls_on_cookies_are_secure_and_every_answer_asks_for_https(
    region: Region, tmp_path: Path
) -> None:
    (tmp_path / "plain").mkdir()
    with make_console(region, tmp_path / "plain") as console:
        cookie, hsts = _signed_in_over_http(console, {})
    assert "secure" not in cookie and hsts == ["", "", ""]
    (tmp_path / "tls").mkdir()
    with make_console(region, tmp_path / "tls", security=SecuritySettings(tls=True)) as console:
        cookie, hsts = _signed_in_over_http(console, {})
    assert "secure" in cookie and hsts == ["max-age=31536000"] * 3


def test_a_trusted_proxy_reports_tls_by_x_forwarded_proto(region: Region, tmp_path: Path) -> None:
    trusting = SecuritySettings(trusted_proxies=("10.0.0.1",))  # type: ignore[arg-type]
    with make_console(region, tmp_path, security=trusting) as console:
        cookie, hsts = _signed_in_over_http(console, {"X-Forwarded-Proto": "https"})
    assert "secure" in cookie and hsts == ["max-age=31536000"] * 3


def test_the_server_believes_no_forwarded_address_on_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn, as `fundwall serve` runs it, hands the app the peer as it is: left to itself
    it would believe X-Forwarded-For from any caller on 127.0.0.1."""
    seen: list[tuple[str, int]] = []

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["client"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options, app=app))
    run_server(probe, "127.0.0.1", 8000)  # type: ignore[arg-type]
    config = uvicorn.Config(**started)
    config.load()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")],
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
    }

    async def nothing() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def ignore(message: Message) -> None:
        return None

    asyncio.run(config.loaded_app(scope, nothing, ignore))
    assert seen == [("127.0.0.1", 50000)]
