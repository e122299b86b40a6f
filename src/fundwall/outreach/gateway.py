"""SMS gateways (短信网关): where the outbox's messages go.

`LocalGateway`, the embedded default, delivers at once inside Fundwall: the message is
delivered where it stands in the outbox and `fundwall.outreach.delivered_to` reads it back
(the handset of the demo and the tests). `HttpGateway` hands messages to an SMS provider's
API. `configured_gateway` picks one by the settings (`outreach.gateway`).

The provider's wire format (docs/outreach.md): one `POST` to `http_url` with
`Authorization: Bearer <http_token>`, `Idempotency-Key: <the message's key>` and

    {"message_id": "42", "to": "+8613812345678", "text": "【金融反诈】…", "segments": 2}

answered 200, 201 or 202 with `{"id": "<the provider's id>", "status": "sent" | "delivered"}`.
A timeout, a network failure or a 5xx is tried again (waiting 0.2 s, then twice as long each
time), the same key with each try, so the provider sends a message at most once; a 4xx is
the provider refusing that message and is not tried again; anything else is no answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fundwall.config import OutreachSettings
from fundwall.domain.errors import FundwallError
from fundwall.domain.identity import MobilePhone
from fundwall.store.personal_data import personal_data_in

FIRST_WAIT: Final = 0.2
"""Seconds before the first retry within one offer; each further retry waits twice as long."""
MAX_ANSWER_BYTES: Final = 16 * 1024
MAX_DETAIL: Final = 200
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """A message as a gateway receives it."""

    message_id: int
    message_key: str
    phone: MobilePhone
    text: str
    segments: int


class SendStatus(StrEnum):
    SENT = "sent"
    """The gateway took it; delivery to come."""
    DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    provider_id: str


@dataclass(eq=False)
class GatewayUnavailable(FundwallError):
    """The gateway did not take the message (no answer, a 5xx): offer it again later."""

    gateway: str
    reason: str

    kind = "sms-gateway-unavailable"

    def message(self) -> str:
        return f"SMS gateway {self.gateway} unavailable: {self.reason}"


@dataclass(eq=False)
class GatewayRefused(FundwallError):
    """The gateway refused the message (a 4xx): offering it again changes nothing."""

    gateway: str
    reason: str

    kind = "sms-gateway-refused"

    def message(self) -> str:
        return f"SMS gateway {self.gateway} refused the message: {self.reason}"


class SmsGateway(Protocol):
    """Sends one message; raises GatewayUnavailable or GatewayRefused."""

    @property
    def name(self) -> str: ...

    def send(self, message: OutgoingSms) -> SendResult: ...


class LocalGateway:
    """Delivers every message at once, inside Fundwall (the embedded default)."""

    name: Final = "local"

    def send(self, message: OutgoingSms) -> SendResult:
        return SendResult(SendStatus.DELIVERED, f"local-{message.message_id}")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    status: SendStatus


class HttpGateway:
    """`SmsGateway` over a provider's API at `url` (httpx, TLS verified)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_seconds: float,
        retries: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._url = url
        self._retries = retries
        self._sleep = sleep
        self.name = f"http:{parts.hostname}"
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=timeout_seconds, headers=headers)
        self._timeout = timeout_seconds

    def close(self) -> None:
        self._client.close()

    def send(self, message: OutgoingSms) -> SendResult:
        body = {
            "message_id": str(message.message_id),
            "to": message.phone.e164,
            "text": message.text,
            "segments": message.segments,
        }
        headers = {IDEMPOTENCY_HEADER: message.message_key}
        wait, failure = FIRST_WAIT, ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(wait)
                wait *= 2
            try:
                response = self._client.post(self._url, json=body, headers=headers)
            except httpx.TimeoutException:
                failure = f"no answer within {self._timeout:g} s"
                continue
            except httpx.TransportError as error:
                failure = f"cannot reach it ({type(error).__name__})"
                continue
            if response.status_code >= 500:
                failure = f"HTTP {response.status_code}"
                continue
            if 400 <= response.status_code < 500:
                raise GatewayRefused(self.name, _refusal(response))
            return self._result(response)
        tries = self._retries + 1
        raise GatewayUnavailable(self.name, f"{failure} (tried {tries} times)")

    def _result(self, response: httpx.Response) -> SendResult:
        if response.status_code not in (200, 201, 202):
            raise GatewayUnavailable(self.name, f"unexpected HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise GatewayUnavailable(self.name, "the answer is larger than any receipt")
        try:
            answer = _Answer.model_validate_json(response.content)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise GatewayUnavailable(
                self.name, f"the answer is not a receipt ({where}: {first['msg']})"
            ) from None
        return SendResult(answer.status, answer.id)


def _refusal(response: httpx.Response) -> str:
    """The provider's reason for a 4xx (its `detail` or `message`), never echoing a number."""
    try:
        body = json.loads(response.content[:MAX_ANSWER_BYTES])
    except ValueError:
        body = None
    detail = ""
    if isinstance(body, dict):
        found = body.get("detail") or body.get("message")
        detail = found if isinstance(found, str) else ""
    detail = detail[:MAX_DETAIL]
    if not detail or personal_data_in(detail) is not None:
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}: {detail}"


def configured_gateway(settings: OutreachSettings) -> SmsGateway:
    """The gateway the settings choose (`outreach.gateway`)."""
    if settings.gateway == "http":
        assert settings.http_url is not None  # OutreachSettings requires it
        token = settings.http_token.get_secret_value() if settings.http_token else None
        return HttpGateway(
            settings.http_url,
            token,
            timeout_seconds=settings.http_timeout_seconds,
            retries=settings.http_retries,
        )
    return LocalGateway()
