"""The app's HTTP front: security headers on every answer, at almost no cost to the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import Message

from fundwall import bootstrap
from fundwall.api import create_app
from fundwall.config import load_settings
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal
from fundwall.web.middleware import SECURITY_HEADERS

from .conftest import Console, open_client

TRANSACTION = orjson.dumps(
    {
        "tx_id": "T-1",
        "ts": "2024-05-01T09:30:00+08:00",
        "kind": "transfer",
        "payer_account": "6222020200112233445",
        "payee_account": "6228480010203040506",
        "payer_bank": "ICBC",
        "payee_bank": "ABC",
        "amount_fen": 12_345,
        "channel": "mobile",
    }
)


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


class Passes:
    """Every transaction passes: the cheapest service, so the app's own cost shows."""

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        return [None] * len(txs)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        return Decision(tx.tx_id, Action.PASS, 0, (), "test-1")

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        return [self.decide(tx) for tx in txs]


def _apps(folder: Path) -> tuple[FastAPI, FastAPI]:
    """The API alone, and the API with the console as the demo installs it (no API key)."""
    # TRANSACTION is stamped in 2024 and the apps run on the system clock: no time window.
    settings = load_settings(config_file=None, data_dir=folder, api={"check_time": False})
    bare = create_app(Passes(), settings, api_keys_required=False)
    with bootstrap.opened(settings, check_schema=False) as platform:  # no database is read
        full = platform.app(Passes(), accounts=False, api_keys_required=False, demo_notice="demo")
    return bare, full


def test_no_middleware_runs_requests_in_tasks_of_their_own(tmp_path: Path) -> None:
    _, full = _apps(tmp_path)
    layers = [layer.cls for layer in full.user_middleware]
    assert layers and not [cls for cls in layers if issubclass(cls, BaseHTTPMiddleware)]  # type: ignore[arg-type]


async def _post(app: FastAPI) -> int:
    """One POST /v1/transactions straight through ASGI (no client, no network)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/transactions",
        "raw_path": b"/v1/transactions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    messages: list[Message] = [{"type": "http.request", "body": TRANSACTION, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> Message:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


async def _cost(app: FastAPI, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        assert await _post(app) == 200
    return (time.perf_counter() - start) / calls


def test_the_console_adds_little_to_an_api_call(tmp_path: Path) -> None:
    """In-process, an API call with the console installed costs about what it costs alone
    (with a BaseHTTPMiddleware layer it cost four to five times as much)."""
    bare, full = _apps(tmp_path)

    async def best_of_rounds() -> tuple[float, float]:
        await _cost(bare, 50)
        await _cost(full, 50)
        rounds = [(await _cost(bare, 200), await _cost(full, 200)) for _ in range(5)]
        return min(r[0] for r in rounds), min(r[1] for r in rounds)

    alone, with_console = asyncio.run(best_of_rounds())
    assert with_console < 1.5 * alone, f"{alone * 1e6:.0f} µs alone, {with_console * 1e6:.0f} µs"
