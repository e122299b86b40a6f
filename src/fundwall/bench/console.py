"""What the console costs an API call, in process: the same call with and without it.

Two apps over a decision service that passes everything, so that the app's own cost shows:
the API as `create_app` makes it, and the same API with the console installed as the demo
installs it (no API key). One `POST /v1/transactions` goes straight through ASGI (no client,
no network) to each app in turn, in rounds of `calls`; each app's figure is its best round.
Both are measured in the same run, so their ratio is the figure to compare across days. With
Starlette's `BaseHTTPMiddleware` under the console's security headers a call cost four to
five times as much; plain ASGI middleware costs little.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import orjson
from fastapi import FastAPI
from starlette.types import Message

from fundwall import bootstrap
from fundwall.api import create_app
from fundwall.config import load_settings
from fundwall.domain.decisions import Action, Decision
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal

TRANSACTION: Final = orjson.dumps(
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
"""The request body: one transfer, stamped in 2024 (the apps do not check the time)."""

_ROUNDS: Final = 5


class Passes:
    """Every transaction passes: the cheapest service, so the app's own cost shows."""

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        return [None] * len(txs)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        return Decision(tx.tx_id, Action.PASS, 0, (), "bench-1")

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        return [self.decide(tx) for tx in txs]


@contextmanager
def console_apps(folder: Path) -> Iterator[tuple[FastAPI, FastAPI]]:
    """The API alone, and the API with the console as the demo installs it, over `Passes`,
    both open as the demo's (no API key); the console's platform (its database, never read
    here, disposed at the end, and its keys) lives in `folder`."""
    settings = load_settings(config_file=None, data_dir=folder, api={"check_time": False})
    with bootstrap.opened(settings, check_schema=False) as platform:
        bare = create_app(Passes(), settings, api_keys_required=False)
        full = platform.app(Passes(), accounts=False, api_keys_required=False, demo_notice="demo")
        yield bare, full


async def post_transaction(app: FastAPI) -> int:
    """One POST /v1/transactions straight through ASGI; the answer's status."""
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
    """Seconds per call over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        status = await post_transaction(app)
        if status != 200:
            raise RuntimeError(f"POST /v1/transactions answered {status}")
    return (time.perf_counter() - start) / calls


def measure_console(calls: int = 200) -> dict[str, object]:
    """The cost of one API call with and without the console, best of five rounds each."""
    with (
        tempfile.TemporaryDirectory(prefix="fundwall-bench-console-") as folder,
        console_apps(Path(folder)) as (bare, full),
    ):

        async def best_rounds() -> tuple[float, float]:
            await _cost(bare, calls // 4)
            await _cost(full, calls // 4)
            rounds = [(await _cost(bare, calls), await _cost(full, calls)) for _ in range(_ROUNDS)]
            return min(r[0] for r in rounds), min(r[1] for r in rounds)

        alone, with_console = asyncio.run(best_rounds())
    return {
        "api_call_alone_us": round(alone * 1e6, 1),
        "api_call_with_console_us": round(with_console * 1e6, 1),
        "console_api_ratio": round(with_console / alone, 2),
    }
