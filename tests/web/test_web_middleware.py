"""The app's HTTP front: security headers on every answer, in plain ASGI middleware."""

from __future__ import annotations

from pathlib import Path

from starlette.middleware.base import BaseHTTPMiddleware

from fundwall.bench.console import TRANSACTION, console_apps
from fundwall.web.middleware import SECURITY_HEADERS

from .conftest import Console, open_client


def test_console_responses_carry_the_security_headers(console: Console) -> None:
    client = open_client(console.app)
    for path in ("/login", "/static/app.css", "/no-such-page", "/"):
        answer = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (path, name)


def test_api_responses_are_not_kept_nor_sniffed_and_carry_no_page_headers(
    console: Console,
) -> None:
    client = open_client(console.app)
    for answer in (
        client.get("/healthz"),
        client.get("/openapi.json"),
        client.post("/v1/transactions", content=TRANSACTION),
    ):
        assert answer.headers.get_list("cache-control") == ["no-store"]
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"]
        assert "content-security-policy" not in answer.headers
        assert "x-frame-options" not in answer.headers


def test_no_middleware_runs_requests_in_tasks_of_their_own(tmp_path: Path) -> None:
    # What the console costs an API call: `fundwall bench` (`console_api_ratio`).
    with console_apps(tmp_path) as (_, full):
        layers = [layer.cls for layer in full.user_middleware]
    assert layers and not [cls for cls in layers if issubclass(cls, BaseHTTPMiddleware)]  # type: ignore[arg-type]
