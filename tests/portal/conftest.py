"""Fixtures of the portal tests: the two-bank world of tests/auth/world.py (bank B001 holds A1
of P1 and A2 of P2, bank B002 holds B1 of P3 and B2 of P4) with phones bound to P1 and P3,
served as `fundwall serve` serves it, and a browser-like client of the portal."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from auth import world  # tests/auth/world.py
from fundwall.bootstrap import Platform
from fundwall.crypto import Keyring
from fundwall.domain.identity import MobilePhone
from fundwall.engine.service import DecisionService
from fundwall.outreach.gateway import LocalGateway
from fundwall.outreach.outbox import delivered_to, dispatch_outbox
from fundwall.phones.queries import bind
from fundwall.store import UnitOfWork

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Uow = Callable[[], UnitOfWork]
PHONES = {1: ("P1", world.BANK_A, "13912340001"), 3: ("P3", world.BANK_B, "13912340003")}
"""Person n: their party, the bank that bound the phone, the phone."""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CODE = re.compile(r"验证码为(\d{6})")


@pytest.fixture
def bound(stocked: Uow, keyring: Keyring) -> Uow:
    with stocked() as uow:
        for party, bank, phone in PHONES.values():
            bind(uow.session, keyring, member=bank, party_id=party, phone=MobilePhone(phone),
                 at=uow.clock.now(), by="system:test", revision=None)  # fmt: skip
        uow.commit()
    return stocked


@dataclass
class Served:
    app: FastAPI
    platform: Platform
    service: DecisionService


@pytest.fixture
def served(bound: Uow, platform: Platform) -> Iterator[Served]:
    service = platform.decision_service()
    try:
        yield Served(platform.app(service), platform, service)
    finally:
        service.close()


class Visitor(TestClient):
    """A person's browser at the portal: keeps its cookie and the page's CSRF token."""

    csrf: str = ""

    def page(self, path: str) -> str:
        answer = self.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        self.remember(answer.text)
        return answer.text

    def remember(self, text: str) -> None:
        found = _CSRF.search(text)
        if found is not None:
            self.csrf = found.group(1)

    def submit(self, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        answer: httpx.Response = self.post(path, data={"csrf_token": self.csrf, **data}, **kwargs)
        return answer


def visitor(app: FastAPI, peer: str = "203.0.113.7") -> Visitor:
    return Visitor(app, base_url="https://testserver", raise_server_exceptions=False,
                   follow_redirects=False, client=(peer, 50000))  # fmt: skip


def code_sent_to(uow_factory: Uow, phone: str) -> str:
    """The newest one-time code the local handset of `phone` received."""
    with uow_factory() as uow:
        dispatch_outbox(uow, LocalGateway())
        texts = [sms.text for sms in delivered_to(uow, phone)]
    codes = [found.group(1) for text in texts if (found := _CODE.search(text))]
    assert codes, texts
    return codes[-1]


def signed_in(app: FastAPI, uow_factory: Uow, n: int, peer: str = "203.0.113.7") -> Visitor:
    """A visitor signed in as world.person(n) with the code from their handset."""
    client = visitor(app, peer)
    client.page("/portal/sign-in")
    answer = client.submit("/portal/sign-in", {"id_number": world.person(n).id_number})
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/code"
    client.page("/portal/code")
    code = code_sent_to(uow_factory, PHONES[n][2])
    answer = client.submit("/portal/code", {"code": code})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/portal/restrictions"
    client.page("/portal/restrictions")
    return client
