"""`POST /v1/logins` through the engine over a tiny simulated region: a member sends the logins
of its own accounts, inside the time window, each id once; the next decisions read them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
from fastapi.testclient import TestClient

from fundwall.api import ApiLimits, create_app
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import load_settings
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.engine.admission import LOGIN_ALREADY_USED
from fundwall.engine.rules import parse_pack
from fundwall.engine.service import DecisionService
from fundwall.members import create_api_key
from fundwall.region import read_table
from fundwall.sim.run import simulate
from fundwall.store.mapping import institution_row

SEED = 20240304
MINE, THEIRS = "301", "302"
PROBLEMS = "https://fundwall.example/problems/"
LOGIN_PACK = """
pack:
  id: logins
  version: "1"
  description: {zh: "登录规则包", en: "login pack"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: L001
    name: {zh: "收款账户易主", en: "receiving account changed hands"}
    typology: account_trading
    when: payee_takeover_hours >= 0 and payee_takeover_hours < 24
    score: 30
    reason:
      zh: "收款账户{payee_takeover_hours}前易主"
      en: "payee taken over {payee_takeover_hours} ago"
""".encode()


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("logins_region") / "region"
    simulate("tiny", SEED, out)
    return out


def account_of(region: Path, bank: str) -> str:
    accounts = read_table(region, "accounts")
    held = accounts.filter(pc.equal(accounts["bank"], bank))["account_no"]
    return str(held[0].as_py())


@pytest.fixture
def now(region: Path) -> datetime:
    """A time inside the region's history, as the API's clock."""
    first = read_table(region, "transactions")["ts"][0].as_py()
    assert isinstance(first, datetime)
    return first + timedelta(days=10)


@pytest.fixture
def service(region: Path) -> DecisionService:
    return DecisionService.from_region(region, pack=parse_pack(LOGIN_PACK, "logins.yaml"))


@pytest.fixture
def keys(platform: Platform) -> dict[str, dict[str, str]]:
    headers = {}
    with platform.unit_of_work() as uow:
        for code in (MINE, THEIRS):
            uow.session.add(
                institution_row(Institution(code, code, code, InstitutionKind.BANK, "350200"))
            )
        uow.commit()
        for code in (MINE, THEIRS):
            _, text = create_api_key(uow, platform.operator, code)
            headers[code] = {"authorization": f"Bearer {text}"}
    return headers


@pytest.fixture
def client(service: DecisionService, platform: Platform, now: datetime) -> Iterator[TestClient]:
    settings = load_settings(config_file=None)  # the time window on
    limits = ApiLimits(login_bytes=8 * 1024)
    app = create_app(
        service, settings, access=platform.access, clock=FixedClock(now), limits=limits
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def login(login_id: str, when: datetime, account: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "login_id": login_id,
        "ts": when.isoformat(),
        "account_no": account,
        "device_id": "IMEI-358240051111110",
        "ip": "203.0.113.7",
        "city": "Xiamen",
        "face_check": "passed",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def located(response: Any) -> list[tuple[str | None, str | None]]:
    assert response.status_code == 422, response.text
    return [(error["record"], error["field"]) for error in response.json()["errors"]]


def test_a_member_sends_its_accounts_logins_and_the_next_decision_reads_them(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    service: DecisionService,
    region: Path,
    now: datetime,
) -> None:
    theirs = account_of(region, THEIRS)
    sold = [
        login("L-1", now - timedelta(hours=3), theirs, device_id="OWNER-PHONE"),
        login(
            "L-2", now - timedelta(hours=2), theirs, device_id="GANG-PHONE", face_check="mismatch"
        ),
    ]
    response = client.post("/v1/logins", json=sold, headers=keys[THEIRS])
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 2, "new": 2}
    assert client.post("/v1/logins", json=sold, headers=keys[THEIRS]).json() == {
        "received": 2,
        "new": 0,
    }
    transfer = {
        "tx_id": "T-INTO-SOLD",
        "ts": now.isoformat(),
        "kind": "transfer",
        "payer_account": account_of(region, MINE),
        "payer_bank": MINE,
        "payee_account": theirs,
        "payee_bank": THEIRS,
        "amount_fen": 500_00,
        "channel": "mobile",
    }
    decided = client.post("/v1/transactions", json=transfer, headers=keys[MINE])
    assert decided.status_code == 200, decided.text
    (reason,) = decided.json()["reasons"]
    assert reason["rule_id"] == "L001"
    # The paying member reads the alert, not the figures of another member's customer.
    assert "payee_takeover_hours" not in reason["values"]
    assert service.core.features.logins == 2


def test_a_member_cannot_send_logins_of_another_members_account(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    service: DecisionService,
    region: Path,
    now: datetime,
) -> None:
    body = [
        login("L-MINE", now, account_of(region, MINE)),
        login("L-THEIRS", now, account_of(region, THEIRS), face_check="failed"),
    ]
    response = client.post("/v1/logins", json=body, headers=keys[MINE])
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["type"] == f"{PROBLEMS}forbidden"
    assert "record 1, account_no: not an account of member 301" in problem["detail"]
    assert service.core.features.logins == 0  # nothing of the request was taken


def test_login_ids_are_used_once(
    client: TestClient, keys: dict[str, dict[str, str]], region: Path, now: datetime
) -> None:
    mine = login("L-ONCE", now, account_of(region, MINE))
    assert client.post("/v1/logins", json=[mine], headers=keys[MINE]).status_code == 200
    again = dict(mine, account_no=account_of(region, THEIRS))
    probe = client.post("/v1/logins", json=[again], headers=keys[THEIRS])
    assert located(probe) == [("0", "login_id")]
    assert probe.json()["reason"] == LOGIN_ALREADY_USED
    changed = client.post("/v1/logins", json=[dict(mine, face_check="failed")], headers=keys[MINE])
    assert changed.status_code == 409
    assert "face_check differ" in changed.json()["detail"]


def test_bad_logins_are_named_by_record_and_field(
    client: TestClient, keys: dict[str, dict[str, str]], region: Path, now: datetime
) -> None:
    account = account_of(region, MINE)
    body = [
        login("L-0", now, account),
        login("L-1", now, account, face_check="blurry"),
        login("L-2", now, account, face_check=None),
        login("L-0", now, account),
        login("L 4", now, account),
        login("L-5", now, account, ip="999.1.1.1"),
        login("L-6", now, account, extra="x"),
    ]
    response = client.post("/v1/logins", json=body, headers=keys[MINE])
    assert located(response) == [("2", "face_check"), ("6", "extra")]
    body = [each for index, each in enumerate(body) if index not in (2, 6)]
    assert located(client.post("/v1/logins", json=body, headers=keys[MINE])) == [
        ("1", "face_check"),
        ("2", "login_id"),
        ("3", "login_id"),
        ("4", "ip"),
    ]
    naive = login("L-7", now.replace(tzinfo=None), account)
    assert located(client.post("/v1/logins", json=[naive], headers=keys[MINE])) == [("0", "ts")]


def test_logins_outside_the_time_window_are_refused(
    client: TestClient, keys: dict[str, dict[str, str]], region: Path, now: datetime
) -> None:
    account = account_of(region, MINE)
    body = [
        login("L-LATE", now - timedelta(hours=25), account),
        login("L-NOW", now, account),
        login("L-AHEAD", now + timedelta(minutes=6), account),
    ]
    response = client.post("/v1/logins", json=body, headers=keys[MINE])
    assert located(response) == [("0", "ts"), ("2", "ts")]


def test_the_body_is_bounded_typed_and_keyed(
    client: TestClient, keys: dict[str, dict[str, str]], region: Path, now: datetime
) -> None:
    account = account_of(region, MINE)
    many = [login(f"L-{i}", now, account) for i in range(60)]
    assert client.post("/v1/logins", json=many, headers=keys[MINE]).status_code == 413
    assert located(client.post("/v1/logins", json=[], headers=keys[MINE])) == [(None, None)]
    one = login("L-1", now, account)
    assert located(client.post("/v1/logins", json=one, headers=keys[MINE])) == [(None, None)]
    assert client.post("/v1/logins", json=[one]).status_code == 401
    sent_as_text = client.post(
        "/v1/logins", content=b"[]", headers={**keys[MINE], "content-type": "text/plain"}
    )
    assert sent_as_text.status_code == 415


def test_the_route_is_documented(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    operation = openapi["paths"]["/v1/logins"]["post"]
    assert operation["tags"] == ["logins"] and operation["security"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["items"] == {"$ref": "#/components/schemas/LoginIn"}
    schema = openapi["components"]["schemas"]["LoginIn"]
    assert set(schema["required"]) == {"login_id", "ts", "account_no", "face_check"}
    assert "logins" in [tag["name"] for tag in openapi["tags"]]
