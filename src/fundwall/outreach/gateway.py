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

Delivery receipts are asked for, not pushed (a provider's "pull status" API; no route for
strangers to call): one `POST` to `receipts_url` with `{"ids": ["<provider id>", …]}` (at
most `RECEIPT_BATCH`), answered 200 with `{"receipts": [{"id": "…", "status": "sent" |
"delivered" | "failed", "reason": "…"}]}`; `sent` and an id left out are not known yet, an id
not asked for is ignored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol, TypeVar
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
RECEIPT_BATCH: Final = 100
"""Provider ids asked about in one request: a pull-status API's usual page."""
MAX_RECEIPTS_BYTES: Final = RECEIPT_BATCH * 1024
MAX_DETAIL: Final = 200
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
Answer = TypeVar("Answer", bound=BaseModel)


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


class ReceiptStatus(StrEnum):
    SENT = "sent"
    """Not known yet."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """The carrier could not deliver it (number off, unknown, blocked)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the provider knows of a message it took."""

    provider_id: str
    status: ReceiptStatus
    reason: str | None = None


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
    """Sends one message, raising GatewayUnavailable or GatewayRefused; reads the receipts of
    messages it took (at most `RECEIPT_BATCH` ids; raises GatewayUnavailable)."""

    @property
    def name(self) -> str: ...

    def send(self, message: OutgoingSms) -> SendResult: ...

    def receipts(self, provider_ids: Sequence[str]) -> list[Receipt]: ...


class LocalGateway:
    """Delivers every message at once, inside Fundwall (the embedded default)."""

    name: Final = "local"

    def send(self, message: OutgoingSms) -> SendResult:
        return SendResult(SendStatus.DELIVERED, f"local-{message.message_id}")

    def receipts(self, provider_ids: Sequence[str]) -> list[Receipt]:
        """Nothing is ever waiting for one: every message was delivered when sent."""
        return []


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    status: SendStatus


class _ReceiptAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    status: ReceiptStatus
    reason: str | None = Field(default=None, max_length=10_000)


class _Receipts(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    receipts: list[_ReceiptAnswer] = Field(max_length=RECEIPT_BATCH)


class HttpGateway:
    """`SmsGateway` over a provider's API at `url` (httpx, TLS verified)."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_seconds: float,
        retries: int,
        receipts_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for each in filter(None, (url, receipts_url)):
            parts = urlsplit(each)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {each!r}")
        parts = urlsplit(url)
        self._url = url
        self._receipts_url = receipts_url
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
        response = self._post(self._url, body, {IDEMPOTENCY_HEADER: message.message_key})
        if 400 <= response.status_code < 500:
            raise GatewayRefused(self.name, _refusal(response))
        if response.status_code not in (200, 201, 202):
            raise GatewayUnavailable(self.name, f"unexpected HTTP {response.status_code}")
        answer = self._read(response, _Answer, MAX_ANSWER_BYTES)
        return SendResult(answer.status, answer.id)

    def receipts(self, provider_ids: Sequence[str]) -> list[Receipt]:
        """The receipts the provider has for `provider_ids` (none without `receipts_url`);
        a reason holding a phone or ID number is dropped."""
        if self._receipts_url is None or not provider_ids:
            return []
        if len(provider_ids) > RECEIPT_BATCH:
            raise ValueError(f"at most {RECEIPT_BATCH} ids a request")
        response = self._post(self._receipts_url, {"ids": list(provider_ids)}, {})
        if response.status_code != 200:
            raise GatewayUnavailable(self.name, f"receipts: {_refusal(response)}")
        asked = set(provider_ids)
        return [
            Receipt(each.id, each.status, _clean(each.reason))
            for each in self._read(response, _Receipts, MAX_RECEIPTS_BYTES).receipts
            if each.id in asked
        ]

    def _post(self, url: str, body: object, headers: dict[str, str]) -> httpx.Response:
        """The provider's answer that is not a 5xx, trying again after a timeout, a network
        failure or a 5xx; GatewayUnavailable after the last try."""
        wait, failure = FIRST_WAIT, ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(wait)
                wait *= 2
            try:
                response = self._client.post(url, json=body, headers=headers)
            except httpx.TimeoutException:
                failure = f"no answer within {self._timeout:g} s"
                continue
            except httpx.TransportError as error:
                failure = f"cannot reach it ({type(error).__name__})"
                continue
            if response.status_code >= 500:
                failure = f"HTTP {response.status_code}"
                continue
            return response
        tries = self._retries + 1
        raise GatewayUnavailable(self.name, f"{failure} (tried {tries} times)")

    def _read(self, response: httpx.Response, shape: type[Answer], limit: int) -> Answer:
        if len(response.content) > limit:
            raise GatewayUnavailable(self.name, "the answer is larger than any receipt")
        try:
            return shape.model_validate_json(response.content)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise GatewayUnavailable(
                self.name, f"the answer is not a receipt ({where}: {first['msg']})"
            ) from None


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
    reason = _clean(detail)
    if reason is None:
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}: {reason}"


def _clean(reason: str | None) -> str | None:
    """A provider's reason, cut to `MAX_DETAIL`; none when it holds a phone or ID number."""
    reason = (reason or "")[:MAX_DETAIL]
    if not reason or personal_data_in(reason) is not None:
        return None
    return reason


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
            receipts_url=settings.http_receipts_url,
        )
    return LocalGateway()
