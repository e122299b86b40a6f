"""A telecom operator's real-name verification API over HTTP (运营商三要素核验), as a
`TelecomRegistry`.

The wire format (docs/phones.md, "The HTTP adapter"): one `POST` to the configured URL with
`Authorization: Bearer <token>` and the JSON body

    {"phone": "13812345678", "id_number": "11010519491231002X", "name": "张三",
     "bound_at": "2024-03-05T09:00:00+00:00" | null}

answered `200` with

    {"result": "match" | "mismatch" | "not_found" | "recycled",
     "answered_at": "<ISO 8601 with offset>", "released_at": "<ISO 8601>" | null,
     "name_checked": true | false}

A timeout, a network failure or a 5xx answer is tried again (`retries` times, waiting 0.2 s
and then twice as long each time); a 4xx answer is the operator refusing the question and is
not; anything else (another status, a body that is not that JSON) is no answer. Only the
standard library speaks HTTP here, so the adapter adds no dependency; TLS is verified with
the system's trust store.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.phones.registry import (
    PhoneResult,
    RegistryAnswer,
    RegistryRefused,
    RegistryUnavailable,
)
from fundwall.store.personal_data import personal_data_in

FIRST_WAIT: Final = 0.2
"""Seconds before the first retry; each further retry waits twice as long."""
MAX_ANSWER_BYTES: Final = 64 * 1024
"""A verification answer is a few hundred bytes; a larger body is not one."""
MAX_DETAIL: Final = 200


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    result: PhoneResult
    answered_at: AwareDatetime
    released_at: AwareDatetime | None = None
    name_checked: bool


class HttpRegistry:
    """`TelecomRegistry` over an operator's verification API at `url`."""

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
        self._token = token
        self._timeout = timeout_seconds
        self._retries = retries
        self._sleep = sleep
        self._name = f"http:{parts.hostname}"

    @property
    def name(self) -> str:
        return self._name

    def verify(
        self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
    ) -> RegistryAnswer:
        body = json.dumps(
            {
                "phone": phone.number,
                "id_number": id_number.number,
                "name": name,
                "bound_at": bound_at.isoformat() if bound_at is not None else None,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        wait = FIRST_WAIT
        failure = ""
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(wait)
                wait *= 2
            request = urllib.request.Request(self._url, body, headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    status, raw = response.status, response.read(MAX_ANSWER_BYTES + 1)
            except urllib.error.HTTPError as error:
                if 400 <= error.code < 500:
                    raise RegistryRefused(self._name, _refusal(error)) from None
                failure = f"HTTP {error.code}"
                continue
            except TimeoutError:
                failure = f"no answer within {self._timeout:g} s"
                continue
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                failure = f"cannot reach it ({reason})"
                continue
            return self._answer(status, raw)
        tries = self._retries + 1
        raise RegistryUnavailable(self._name, f"{failure} (tried {tries} times)")

    def _answer(self, status: int, raw: bytes) -> RegistryAnswer:
        if status != 200:
            raise RegistryUnavailable(self._name, f"unexpected HTTP {status}")
        if len(raw) > MAX_ANSWER_BYTES:
            raise RegistryUnavailable(self._name, "the answer is larger than any verification")
        try:
            answer = _Answer.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise RegistryUnavailable(
                self._name, f"the answer is not a verification ({where}: {first['msg']})"
            ) from None
        released = answer.released_at if answer.result is PhoneResult.RECYCLED else None
        return RegistryAnswer(answer.result, answer.answered_at, released, answer.name_checked)


def _refusal(error: urllib.error.HTTPError) -> str:
    """The operator's reason for a 4xx (its `detail` or `message`), never echoing a number."""
    try:
        body = json.loads(error.read(MAX_ANSWER_BYTES))
    except ValueError:
        body = None
    detail = ""
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("message") or "")[:MAX_DETAIL]
    if detail and personal_data_in(detail) is not None:
        detail = "its message held a personal number and is not repeated"
    return f"HTTP {error.code}" + (f": {detail}" if detail else "")
