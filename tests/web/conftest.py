"""Fixtures of the console tests: the tiny region (built once), an app per test over a private
copy of its database, and clients signed in as the demo users."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from fast_settings import TEST_PORTAL  # tests/fast_settings.py
from fundwall import bootstrap
from fundwall.auth import Passwords
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import SecuritySettings, load_settings
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.members import demo_notice
from fundwall.sharing.risk_list import list_risk
from fundwall.store import UnitOfWork
from fundwall.store.tables import TransactionRow

from .region import NOW, PASSWORD, Region, session_region, trial_pack_text
from .service import StoredDecisions

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package for its test client; httpx works the same here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BASE_URL = "https://testserver"
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    return session_region(tmp_path_factory)


@dataclass
class Console:
    """An app over a private copy of the region's database."""

    app: FastAPI
    platform: Platform
    clock: FixedClock
    region: Region

    def uow(self) -> UnitOfWork:
        return self.platform.unit_of_work()

    def list_a_payer(self, category: RiskCategory = RiskCategory.MULE) -> tuple[str, str]:
        """An account of the first bank and an account of the second bank that paid it, now
        on the shared risk list (`category`): the second bank's customer the first bank's
        analyst may know as listed, and must otherwise see only masked."""
        first, second = self.region.first_bank, self.region.second_bank
        with self.uow() as uow:
            mine, theirs = uow.session.execute(
                select(TransactionRow.payee_account, TransactionRow.payer_account)
                .where(TransactionRow.payee_bank == first, TransactionRow.payer_bank == second)
                .order_by(TransactionRow.ts)
                .limit(1)
            ).one()
            list_risk(
                uow,
                self.platform.operator,
                ListKind.ACCOUNT,
                theirs,
                category,
                Evidence.POLICE_CONFIRMED,
                second,
                bank=second,
                valid_from=NOW - timedelta(days=30),
            )
        return str(mine), str(theirs)


@contextmanager
def make_console(
    region: Region,
    folder: Path,
    *,
    demo: bool = False,
    poll_seconds: int = 5,
    security: SecuritySettings | None = None,
) -> Iterator[Console]:
    packs = folder / "packs"
    packs.mkdir()
    (packs / "trial.yaml").write_text(trial_pack_text(), encoding="utf-8")
    settings = load_settings(
        config_file=None,
        data_dir=region.data_dir,
        database_url=region.copy_to(folder),
        keys={"dir": str(region.keys)},
        # The region's transactions, sent again, are days older than NOW: no time window.
        api={"check_time": False},
        security=security or SecuritySettings(),
        portal=TEST_PORTAL,
    )
    clock = FixedClock(NOW)
    with bootstrap.opened(
        settings, clock=clock, passwords=Passwords.fast_for_tests(), check_schema=False
    ) as platform:
        app = platform.app(
            StoredDecisions(platform.database),
            api_keys_required=not demo,
            demo_notice=demo_notice(region.first_bank, region.second_bank, region.police_unit)
            if demo
            else None,
            packs_dir=packs,
            poll_seconds=poll_seconds,
        )
        yield Console(app, platform, clock, region)


@pytest.fixture
def console(region: Region, tmp_path: Path) -> Iterator[Console]:
    with make_console(region, tmp_path) as made:
        yield made


@pytest.fixture
def demo_console(region: Region, tmp_path: Path) -> Iterator[Console]:
    """A console as the demo runs it: open transaction API, demo users on the sign-in page."""
    with make_console(region, tmp_path, demo=True) as made:
        yield made


class Browser(TestClient):
    """A test client that knows its session's CSRF token once signed in."""

    csrf: str = ""

    def post_form(self, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        answer: httpx.Response = self.post(path, data={"csrf_token": self.csrf, **data}, **kwargs)
        return answer


def open_client(app: FastAPI, peer: str = "testclient") -> Browser:
    """A client of `app`, connecting from the address `peer`."""
    return Browser(
        app,
        base_url=BASE_URL,
        raise_server_exceptions=False,
        follow_redirects=False,
        client=(peer, 50000),
    )


def sign_in(client: Browser, username: str, password: str = PASSWORD) -> Browser:
    """Sign in through the form, as a person would; keeps the session's CSRF token."""
    form = client.get("/login")
    token = _LOGIN_TOKEN.search(form.text)
    assert token is not None, form.text
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/", follow_redirects=True)
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    client.csrf = found.group(1)
    return client


def _clients(console: Console) -> Iterator[Callable[[str], Browser]]:
    opened: dict[str, Browser] = {}

    def client_for(username: str) -> Browser:
        if username not in opened:
            opened[username] = sign_in(open_client(console.app), username)
        return opened[username]

    yield client_for
    for client in opened.values():
        client.close()


@pytest.fixture
def as_user(console: Console) -> Iterator[Callable[[str], Browser]]:
    """Clients signed in as the given user on the test's own console, closed after it."""
    yield from _clients(console)


@pytest.fixture(scope="module")
def shared_console(region: Region, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One console for a module's tests that only read."""
    with make_console(region, tmp_path_factory.mktemp("shared_console")) as made:
        yield made


@pytest.fixture(scope="module")
def viewer(shared_console: Console) -> Iterator[Callable[[str], Browser]]:
    """Clients on the module's shared console, one per user, signed in once: only for
    tests that change nothing (and do not switch the language back and forth)."""
    yield from _clients(shared_console)
