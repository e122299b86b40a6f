"""Access to the decision routes: a member's API key, always; no key opens them but the demo's
explicit `api_keys_required=False`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update

from fundwall.api import create_app
from fundwall.auth import Actor
from fundwall.auth.key_cache import KEY_CACHE_SECONDS, KeyCache
from fundwall.bootstrap import Platform
from fundwall.config import Settings
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.members import create_api_key, revoke_api_key
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ApiKeyRow
from fundwall.store.mapping import institution_row

from .pacs import pacs008, transfer
from .records import record
from .service import RuleOfThumbService

BANK = "ICBKCNBJ"
"""A member registered under its BIC, the debtor agent of the test messages."""
OPERATOR = Actor.operator("test")


def own(tx_id: str = "T-1") -> dict[str, object]:
    """A transfer the member's customer pays to a bank outside the region."""
    return record(tx_id, payer_bank=BANK, payee_bank="ABOCCNBJ")


@pytest.fixture
def service() -> RuleOfThumbService:
    """The rule of thumb over a directory in which BANK holds the test payer's account."""
    payer = str(own()["payer_account"])
    return RuleOfThumbService({payer: BANK}, (BANK,))


ROUTES = [
    ("/v1/transactions", {"json": own()}),
    ("/v1/transactions/batch", {"json": [own()]}),
    (
        "/v1/iso20022/pacs.008",
        {"content": pacs008(transfer("K-1")), "headers": {"content-type": "application/xml"}},
    ),
    (
        "/v1/logins",
        {
            "json": [
                {
                    "login_id": "L-1",
                    "ts": "2024-03-01T09:00:00+08:00",
                    "account_no": own()["payer_account"],
                    "face_check": "passed",
                }
            ]
        },
    ),
]


@pytest.fixture
def key(uow_factory: Callable[[], UnitOfWork]) -> str:
    """A valid API key of the member BANK."""
    with uow_factory() as uow:
        uow.session.add(
            institution_row(Institution(BANK, BANK, BANK, InstitutionKind.BANK, "350200"))
        )
        uow.commit()
        _, text = create_api_key(uow, OPERATOR, BANK)
    return text


def guarded(
    service: RuleOfThumbService, settings: Settings, platform: Platform, *, keys: KeyCache
) -> TestClient:
    """A client of the app over the platform's keys, with a key cache of the test's own."""
    access = replace(platform.access, keys=keys)
    app = create_app(service, settings, access=access, clock=platform.clock)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(
    service: RuleOfThumbService, settings: Settings, platform: Platform
) -> Iterator[TestClient]:
    with guarded(service, settings, platform, keys=KeyCache()) as test_client:
        yield test_client


@pytest.mark.parametrize(("path", "request_args"), ROUTES)
def test_a_request_without_a_key_is_refused_unread(
    client: TestClient, service: RuleOfThumbService, path: str, request_args: dict[str, object]
) -> None:
    response = client.post(path, **request_args)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="fundwall"'
    body = response.json()
    assert body["type"] == "https://fundwall.example/problems/unauthorized"
    assert body["title"] == "Unauthorized"
    assert "API key" in body["detail"]
    assert service.calls == []


@pytest.mark.parametrize(("path", "request_args"), ROUTES)
def test_a_member_key_is_let_through(
    client: TestClient, key: str, path: str, request_args: dict[str, object]
) -> None:
    args = dict(request_args)  # the parameters are shared by every run of the test
    headers = {"authorization": f"Bearer {key}", **args.pop("headers", {})}  # type: ignore[dict-item]
    response = client.post(path, headers=headers, **args)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text


def test_the_key_also_goes_in_its_own_header(client: TestClient, key: str) -> None:
    response = client.post("/v1/transactions", json=own(), headers={"x-api-key": key})
    assert response.status_code == 200


def test_a_wrong_or_revoked_key_is_refused(
    client: TestClient, key: str, uow_factory: Callable[[], UnitOfWork]
) -> None:
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    response = client.post("/v1/transactions", json=own(), headers={"x-api-key": forged})
    assert response.status_code == 401
    assert response.json()["detail"] == "the API key is not valid or was revoked"
    with uow_factory() as uow:
        revoke_api_key(uow, OPERATOR, key.split("_")[1])
    response = client.post("/v1/transactions", json=own(), headers={"x-api-key": key})
    assert response.status_code == 401


@pytest.mark.parametrize(("path", "request_args"), ROUTES)
def test_an_app_built_by_create_app_alone_knows_no_key(
    service: RuleOfThumbService, settings: Settings, path: str, request_args: dict[str, object]
) -> None:
    """Without access control there is no store of keys: nothing submits, with or without a
    key, until the app is given one (or opened on purpose, as the demo is)."""
    forged = "fwk_abcdefghijkl_" + "A" * 43
    with TestClient(create_app(service, settings), raise_server_exceptions=False) as alone:
        args = dict(request_args)  # the parameters are shared by every run of the test
        headers: dict[str, str] = args.pop("headers", {})  # type: ignore[assignment]
        for presented in ({}, {"x-api-key": forged}, {"authorization": f"Bearer {forged}"}):
            response = alone.post(path, headers={**headers, **presented}, **args)  # type: ignore[arg-type]
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == 'Bearer realm="fundwall"'
    assert service.calls == []


def test_the_demo_takes_transactions_without_a_key(
    service: RuleOfThumbService, settings: Settings, platform: Platform
) -> None:
    app = create_app(service, settings, access=platform.access, api_keys_required=False)
    with TestClient(app, raise_server_exceptions=False) as open_client:
        assert open_client.post("/v1/transactions", json=record()).status_code == 200


def test_the_docs_offer_both_ways_to_send_the_key(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"apiKey", "apiKeyHeader"}
    operation = spec["paths"]["/v1/transactions"]["post"]
    assert operation["security"] == [{"apiKey": []}, {"apiKeyHeader": []}]
    assert "401" in operation["responses"]


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_checked_key_is_not_read_from_the_database_again_for_30_seconds(
    service: RuleOfThumbService,
    settings: Settings,
    platform: Platform,
    key: str,
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    ticks = Ticks()
    statements: list[str] = []
    event.listen(
        platform.database, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    headers = {"x-api-key": key}
    with guarded(service, settings, platform, keys=KeyCache(monotonic=ticks)) as client:
        assert client.post("/v1/transactions", json=own("T-1"), headers=headers).is_success
        assert statements
        statements.clear()
        for index in range(2, 6):
            answer = client.post("/v1/transactions", json=own(f"T-{index}"), headers=headers)
            assert answer.status_code == 200
        assert statements == []
        # Revoked by another process: the key works until its 30 seconds are up.
        with uow_factory() as uow:
            uow.session.execute(update(ApiKeyRow).values(revoked_at=platform.clock.now()))
            uow.commit()
        ticks.now = KEY_CACHE_SECONDS - 1
        assert client.post("/v1/transactions", json=own("T-6"), headers=headers).is_success
        ticks.now = KEY_CACHE_SECONDS
        refused = client.post("/v1/transactions", json=own("T-7"), headers=headers)
        assert refused.status_code == 401
        assert statements


def test_a_key_revoked_in_this_process_stops_at_once(
    client: TestClient, key: str, uow_factory: Callable[[], UnitOfWork]
) -> None:
    headers = {"authorization": f"Bearer {key}"}
    assert client.post("/v1/transactions", json=own("T-1"), headers=headers).is_success
    assert client.post("/v1/transactions", json=own("T-2"), headers=headers).is_success
    with uow_factory() as uow:
        revoke_api_key(uow, OPERATOR, key.split("_")[1])
    assert client.post("/v1/transactions", json=own("T-3"), headers=headers).status_code == 401
