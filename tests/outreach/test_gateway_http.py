"""The HTTP SMS gateway against a real HTTP server started here (no mock): the request it
makes, retries on 5xx and timeouts with the same idempotency key, no retry on 4xx, answers
that are not receipts, and the dispatcher over it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fundwall.clock import FixedClock
from fundwall.config import OutreachSettings
from fundwall.domain.identity import MobilePhone
from fundwall.outreach import (
    GatewayRefused,
    GatewayUnavailable,
    HttpGateway,
    LocalGateway,
    OutgoingSms,
    Receipt,
    ReceiptCounts,
    ReceiptStatus,
    SendStatus,
    SmsPurpose,
    SmsStatus,
    collect_receipts,
    configured_gateway,
    dispatch_outbox,
)
from fundwall.outreach.queries import queue_sms
from fundwall.store.outreach_tables import SmsMessageRow
from outreach.conftest import OPERATOR, Uow, phone_of

TOKEN = "provider-token"
MESSAGE = OutgoingSms(7, "k" * 32, MobilePhone("13812340001"), "【金融反诈】您好", 1)


@dataclass
class Provider:
    """A scripted SMS provider: each request takes the next answer (status, body, delay)."""

    answers: list[tuple[int, object, float]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], dict[str, object]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def provider() -> Iterator[Provider]:
    script = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            script.requests.append((dict(self.headers.items()), body))
            status, answer, delay = script.answers.pop(0)
            time.sleep(delay)
            raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout case)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()


def _gateway(provider: Provider, sleeps: list[float], *, timeout: float = 2.0) -> HttpGateway:
    return HttpGateway(provider.url, TOKEN, timeout_seconds=timeout, retries=2, sleep=sleeps.append)


def test_a_message_is_posted_with_its_key_and_the_receipt_read(provider: Provider) -> None:
    provider.answers.append((202, {"id": "p-1", "status": "sent"}, 0))
    result = _gateway(provider, []).send(MESSAGE)
    assert (result.status, result.provider_id) == (SendStatus.SENT, "p-1")
    [(headers, body)] = provider.requests
    assert headers["Idempotency-Key"] == "k" * 32
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body == {
        "message_id": "7",
        "to": "+8613812340001",
        "text": "【金融反诈】您好",
        "segments": 1,
    }


def test_a_5xx_is_tried_again_with_the_same_key_and_growing_waits(provider: Provider) -> None:
    provider.answers += [(503, {}, 0), (500, {}, 0), (200, {"id": "p-2", "status": "delivered"}, 0)]
    sleeps: list[float] = []
    result = _gateway(provider, sleeps).send(MESSAGE)
    assert result.status is SendStatus.DELIVERED
    assert sleeps == [0.2, 0.4]
    assert {headers["Idempotency-Key"] for headers, _ in provider.requests} == {"k" * 32}


def test_a_provider_that_keeps_failing_is_unavailable_after_its_retries(
    provider: Provider,
) -> None:
    provider.answers += [(502, {}, 0)] * 3
    with pytest.raises(GatewayUnavailable, match=r"HTTP 502 \(tried 3 times\)"):
        _gateway(provider, []).send(MESSAGE)
    assert len(provider.requests) == 3


def test_a_timeout_is_tried_again(provider: Provider) -> None:
    provider.answers += [(200, {"id": "late", "status": "sent"}, 0.6)] * 3
    with pytest.raises(GatewayUnavailable, match=r"no answer within 0\.2 s"):
        _gateway(provider, [], timeout=0.2).send(MESSAGE)
    assert len(provider.requests) == 3


def test_a_4xx_is_refused_at_once_and_its_detail_never_echoes_a_phone(
    provider: Provider,
) -> None:
    provider.answers.append((400, {"detail": "blacklisted number 13812340001"}, 0))
    with pytest.raises(GatewayRefused) as refused:
        _gateway(provider, []).send(MESSAGE)
    assert len(provider.requests) == 1
    assert refused.value.reason == "HTTP 400"
    provider.answers.append((422, {"detail": "text has no signature"}, 0))
    with pytest.raises(GatewayRefused, match="HTTP 422: text has no signature"):
        _gateway(provider, []).send(MESSAGE)


@pytest.mark.parametrize(
    "answer", [b"not json", {"id": "x", "status": "lost"}, {"status": "sent"}, b"[]"]
)
def test_an_answer_that_is_not_a_receipt_is_no_answer(provider: Provider, answer: object) -> None:
    provider.answers.append((200, answer, 0))
    with pytest.raises(GatewayUnavailable, match="not a receipt"):
        _gateway(provider, []).send(MESSAGE)


def test_the_settings_choose_the_gateway(provider: Provider) -> None:
    assert isinstance(configured_gateway(OutreachSettings()), LocalGateway)
    chosen = configured_gateway(OutreachSettings(gateway="http", http_url=provider.url))
    assert isinstance(chosen, HttpGateway)
    assert chosen.name == "http:127.0.0.1"


def test_the_dispatcher_sends_through_the_provider_and_keeps_its_receipt(
    outreach_world: Uow, provider: Provider
) -> None:
    with outreach_world() as uow:
        message = queue_sms(
            uow,
            OPERATOR,
            phone=phone_of(2),
            template="portal_code",
            variables={"code": "204816", "minutes": "5"},
            member=None,
            purpose=SmsPurpose.CODE,
        )
        uow.audit.record(OPERATOR, "test_queue", f"sms:{message}")
        uow.commit()
    provider.answers += [(503, {}, 0), (202, {"id": "p-9", "status": "sent"}, 0)]
    with outreach_world() as uow:
        counts = dispatch_outbox(uow, _gateway(provider, []))
        row = uow.session.get(SmsMessageRow, message)
        assert row is not None
        assert counts.sent == 1
        assert (row.status, row.provider_id, row.gateway) == (
            SmsStatus.SENT.value,
            "p-9",
            "http:127.0.0.1",
        )
        assert row.sent_at is not None and row.delivered_at is None
        assert provider.requests[0][0]["Idempotency-Key"] == row.message_key
    assert provider.requests[0][1]["text"] == "【金融反诈】您的验证码为204816，5分钟内有效。" + (
        "验证码仅用于本人申诉查询，请勿告诉任何人，工作人员不会向您索要。"
    )


def _receipting(provider: Provider) -> HttpGateway:
    return HttpGateway(
        provider.url,
        TOKEN,
        timeout_seconds=2.0,
        retries=1,
        receipts_url=provider.url + "/receipts",
        sleep=[].append,
    )


def test_receipts_are_asked_for_by_id_and_only_those_asked_about_are_kept(
    provider: Provider,
) -> None:
    provider.answers.append(
        (
            200,
            {
                "receipts": [
                    {"id": "p-1", "status": "delivered"},
                    {"id": "p-2", "status": "failed", "reason": "号码13812340001已停机"},
                    {"id": "p-3", "status": "failed", "reason": "blocked by the carrier"},
                    {"id": "p-99", "status": "delivered"},
                ]
            },
            0,
        )
    )
    receipts = _receipting(provider).receipts(["p-1", "p-2", "p-3", "p-4"])
    assert receipts == [
        Receipt("p-1", ReceiptStatus.DELIVERED),
        Receipt("p-2", ReceiptStatus.FAILED, None),
        Receipt("p-3", ReceiptStatus.FAILED, "blocked by the carrier"),
    ]
    [(headers, body)] = provider.requests
    assert body == {"ids": ["p-1", "p-2", "p-3", "p-4"]}
    assert headers["Authorization"] == f"Bearer {TOKEN}"


def test_without_a_receipts_url_no_receipt_is_asked_for(provider: Provider) -> None:
    assert _gateway(provider, []).receipts(["p-1"]) == []
    assert LocalGateway().receipts(["local-1"]) == []
    assert provider.requests == []


@pytest.mark.parametrize(
    "answer",
    [(200, {"receipts": "none"}, 0), (200, {"receipts": [{"id": "p-1"}]}, 0), (404, {}, 0)],
)
def test_an_answer_that_is_not_receipts_leaves_the_gateway_unavailable(
    provider: Provider, answer: tuple[int, object, float]
) -> None:
    provider.answers.append(answer)
    with pytest.raises(GatewayUnavailable, match="receipt"):
        _receipting(provider).receipts(["p-1"])


def test_the_dispatcher_asks_for_receipts_when_due_and_records_them(
    outreach_world: Uow, provider: Provider, clock: FixedClock
) -> None:
    gateway = _receipting(provider)
    with outreach_world() as uow:
        ids = [
            queue_sms(
                uow,
                OPERATOR,
                phone=phone_of(n),
                template="portal_code",
                variables={"code": "204816", "minutes": "5"},
                member=None,
                purpose=SmsPurpose.CODE,
            )
            for n in (3, 4, 5)
        ]
        uow.audit.record(OPERATOR, "test_queue", "sms:three")
        uow.commit()
    provider.answers += [(202, {"id": f"p-{n}", "status": "sent"}, 0) for n in (3, 4, 5)]
    with outreach_world() as uow:
        assert dispatch_outbox(uow, gateway).sent == 3
    with outreach_world() as uow:
        assert collect_receipts(uow, gateway) == ReceiptCounts()  # not due yet: nothing asked
    assert len(provider.requests) == 3
    clock.advance(timedelta(minutes=1))
    provider.answers.append(
        (
            200,
            {"receipts": [{"id": "p-3", "status": "delivered"}, {"id": "p-4", "status": "failed"}]},
            0,
        )
    )
    with outreach_world() as uow:
        assert collect_receipts(uow, gateway) == ReceiptCounts(delivered=1, failed=1, pending=1)
        rows = [uow.session.get(SmsMessageRow, message) for message in ids]
        assert [row.status for row in rows if row] == ["delivered", "failed", "sent"]
        pending = rows[2]
        assert pending is not None and pending.next_attempt_at is not None
        # Asked again after as long as it has waited: a minute after a minute.
        assert pending.next_attempt_at - clock.now() == timedelta(minutes=1)
    assert provider.requests[-1][1] == {"ids": ["p-3", "p-4", "p-5"]}
    # A provider that does not answer leaves the message to a later round, unchanged.
    clock.advance(timedelta(minutes=1))
    provider.answers += [(503, {}, 0), (503, {}, 0)]
    with outreach_world() as uow:
        assert collect_receipts(uow, gateway) == ReceiptCounts(pending=1)
    # Two days after sending, nobody asks any more: the message stays sent.
    clock.advance(timedelta(days=2))
    with outreach_world() as uow:
        assert collect_receipts(uow, gateway) == ReceiptCounts()
        row = uow.session.get(SmsMessageRow, ids[2])
        assert row is not None and (row.status, row.next_attempt_at) == ("sent", None)
