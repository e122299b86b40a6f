"""The HTTP adapter against a real HTTP server on localhost: the request it sends, the
answers it reads, retries after failures, timeouts and refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fundwall.config import load_settings
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.phones.http import HttpRegistry
from fundwall.phones.registry import PhoneResult, RegistryRefused, RegistryUnavailable

PHONE = MobilePhone("13812345678")
PERSON = ResidentId("11010519491231002X")
BOUND = datetime(2024, 3, 5, 9, tzinfo=UTC)
ANSWER = {
    "result": "recycled",
    "answered_at": "2024-06-01T10:00:00+08:00",
    "released_at": "2024-01-02T00:00:00+00:00",
    "name_checked": True,
}
Reply = tuple[int, bytes, float]
"""Status, body, seconds to wait before answering."""


class Operator:
    """A scripted telecom operator: each request takes the next reply (the last repeats)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [(200, json.dumps(ANSWER).encode(), 0.0)]
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def operator() -> Iterator[tuple[Operator, str]]:
    script = Operator()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            script.requests.append((dict(self.headers), json.loads(self.rfile.read(length))))
            status, body, wait = script.next_reply()
            time.sleep(wait)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script, f"http://127.0.0.1:{server.server_address[1]}/verify"
    finally:
        server.shutdown()
        server.server_close()


def _registry(url: str, **options: Any) -> tuple[HttpRegistry, list[float]]:
    waits: list[float] = []
    settings: dict[str, Any] = {"timeout_seconds": 2.0, "retries": 2, "sleep": waits.append}
    settings.update(options)
    return HttpRegistry(url, "tok-123", **settings), waits


def test_it_sends_the_person_and_reads_the_operators_answer(
    operator: tuple[Operator, str],
) -> None:
    script, url = operator
    registry, _ = _registry(url)
    answer = registry.verify(PHONE, PERSON, "张三", BOUND)
    assert answer.result is PhoneResult.RECYCLED
    assert answer.answered_at == datetime(2024, 6, 1, 2, tzinfo=UTC)
    assert answer.released_at == datetime(2024, 1, 2, tzinfo=UTC)
    assert answer.name_checked is True
    headers, body = script.requests[0]
    assert headers["Authorization"] == "Bearer tok-123"
    assert body == {
        "phone": "13812345678",
        "id_number": "11010519491231002X",
        "name": "张三",
        "bound_at": BOUND.isoformat(),
    }
    assert registry.name == "http:127.0.0.1"


def test_a_server_error_is_tried_again_with_growing_waits(operator: tuple[Operator, str]) -> None:
    script, url = operator
    script.replies = [(503, b"{}", 0.0), (500, b"", 0.0), (200, json.dumps(ANSWER).encode(), 0)]
    registry, waits = _registry(url)
    assert registry.verify(PHONE, PERSON, "张三", None).result is PhoneResult.RECYCLED
    assert len(script.requests) == 3
    assert waits == [0.2, 0.4]


def test_no_answer_after_the_retries_is_unavailable(operator: tuple[Operator, str]) -> None:
    script, url = operator
    script.replies = [(502, b"", 0.0)]
    registry, _ = _registry(url, retries=1)
    with pytest.raises(RegistryUnavailable, match=r"HTTP 502 \(tried 2 times\)"):
        registry.verify(PHONE, PERSON, "张三", None)
    assert len(script.requests) == 2


def test_a_slow_operator_times_out(operator: tuple[Operator, str]) -> None:
    script, url = operator
    script.replies = [(200, json.dumps(ANSWER).encode(), 1.0)]
    registry, _ = _registry(url, timeout_seconds=0.2, retries=0)
    with pytest.raises(RegistryUnavailable, match=r"no answer within 0.2 s"):
        registry.verify(PHONE, PERSON, "张三", None)


def test_nobody_listening_is_unavailable() -> None:
    registry, _ = _registry("http://127.0.0.1:9/verify", retries=0)
    with pytest.raises(RegistryUnavailable, match="cannot reach it"):
        registry.verify(PHONE, PERSON, "张三", None)


def test_a_refusal_is_not_retried_and_never_echoes_a_number(
    operator: tuple[Operator, str],
) -> None:
    script, url = operator
    script.replies = [(400, b'{"detail": "bad phone 13812345678"}', 0.0)]
    registry, _ = _registry(url)
    with pytest.raises(RegistryRefused) as refused:
        registry.verify(PHONE, PERSON, "张三", None)
    assert len(script.requests) == 1
    assert "13812345678" not in str(refused.value)
    assert "HTTP 400" in str(refused.value)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"not json", "body"),
        (b'{"result": "maybe", "answered_at": "2024-06-01T10:00:00+08:00", '
         b'"name_checked": false}', "result"),
        (b'{"result": "match", "answered_at": "2024-06-01T10:00:00", "name_checked": false}',
         "answered_at"),
    ],
)  # fmt: skip
def test_an_answer_that_is_not_a_verification_is_unavailable(
    operator: tuple[Operator, str], body: bytes, where: str
) -> None:
    script, url = operator
    script.replies = [(200, body, 0.0)]
    registry, _ = _registry(url)
    with pytest.raises(RegistryUnavailable, match=f"not a verification \\({where}"):
        registry.verify(PHONE, PERSON, "张三", None)


def test_the_configuration_selects_the_http_adapter_and_needs_its_url(tmp_path: Any) -> None:
    from fundwall.phones.adapters import configured_registry

    settings = load_settings(
        config_file=None,
        data_dir=tmp_path,
        phones={"registry": "http", "http_url": "https://operator.example/v1/verify"},
    )
    chosen = configured_registry(settings.phones, None, None, None)  # type: ignore[arg-type]
    assert isinstance(chosen, HttpRegistry) and chosen.name == "http:operator.example"
    with pytest.raises(InvalidInput, match="http_url"):
        load_settings(config_file=None, data_dir=tmp_path, phones={"registry": "http"})
