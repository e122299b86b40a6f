"""`/v1/accounts` over the decision service and the store: a member reports the accounts it
opens and changes, and the engine admits and decides on them from the next request on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fundwall.api import create_app
from fundwall.api.accounts import ACCOUNT_BODY_BYTES, AccountReports
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import Settings
from fundwall.domain.accounts import (
    Account,
    AccountClass,
    AccountStatus,
    OpeningChannel,
    RiskTier,
)
from fundwall.domain.identity import ResidentId
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.parties import Party, PartyKind
from fundwall.members import create_api_key
from fundwall.store.mapping import account_row, institution_row, party_row
from fundwall.store.tables import AccountRow

MINE, THEIRS = "301", "302"
CARD = "6222021234567890128"


@pytest.fixture
def keys(platform: Platform) -> dict[str, dict[str, str]]:
    with platform.unit_of_work() as uow:
        for code in (MINE, THEIRS):
            uow.session.add(
                institution_row(Institution(code, code, code, InstitutionKind.BANK, "350200"))
            )
        uow.commit()
        return {
            code: {"authorization": f"Bearer {create_api_key(uow, platform.operator, code)[1]}"}
            for code in (MINE, THEIRS)
        }


@pytest.fixture
def client(platform: Platform, settings: Settings, keys: object) -> Iterator[TestClient]:
    service = platform.decision_service()
    app = create_app(
        service,
        settings,
        access=platform.access,
        clock=platform.clock,
        accounts=AccountReports(platform.unit_of_work, platform.keyring, platform.settings.policy),
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        service.close()


def opening(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_no": CARD,
        "account_class": "III",
        "opened_at": "2024-06-01T07:00:00+00:00",
        "opening_channel": "mobile",
        "holder": {"kind": "person", "id_number": "11010519491231002X", "name": "张三"},
        "bound_account": "6222020200112233445",
        "balance_fen": 300_000,
    }
    body.update(changes)
    return body


def spend(clock: FixedClock, tx_id: str, fen: int = 250_000) -> dict[str, Any]:
    return {
        "tx_id": tx_id,
        "ts": (clock.now() - timedelta(minutes=1)).isoformat(),
        "kind": "transfer",
        "payer_account": CARD,
        "payer_bank": MINE,
        "payee_account": "88001234567",
        "payee_bank": "BKCHCNBJ",
        "amount_fen": fen,
        "channel": "mobile",
    }


def test_a_reported_account_is_admitted_and_decided_at_once(
    client: TestClient, keys: dict[str, dict[str, str]], clock: FixedClock
) -> None:
    before = client.post("/v1/transactions", json=spend(clock, "T-1"), headers=keys[MINE])
    assert before.status_code == 403
    opened = client.post("/v1/accounts", json=opening(), headers=keys[MINE])
    assert opened.status_code == 201, opened.text
    assert opened.json() | {"opened_at": None} == {
        "account_no": CARD,
        "bank": MINE,
        "account_class": "III",
        "status": "normal",
        "opened_at": None,
        "opening_channel": "mobile",
        "bound_account": "6222020200112233445",
    }
    decided = client.post("/v1/transactions", json=spend(clock, "T-1"), headers=keys[MINE])
    assert decided.status_code == 200
    assert decided.json()["action"] == "block"  # class III: ¥2,000 a day at most
    assert "HC13" in [reason["rule_id"] for reason in decided.json()["reasons"]]


def test_another_members_account_is_not_found_whatever_it_asks(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    assert client.post("/v1/accounts", json=opening(), headers=keys[MINE]).status_code == 201
    change = {"account_class": "II", "reason": "x"}
    for answer in (
        client.patch(f"/v1/accounts/{CARD}", json=change, headers=keys[THEIRS]),
        client.patch("/v1/accounts/6222020000000000001", json=change, headers=keys[MINE]),
    ):
        assert answer.status_code == 404
        assert answer.json()["title"] == "Not found"
        assert "张" not in answer.text and "normal" not in answer.text
    again = client.post("/v1/accounts", json=opening(), headers=keys[THEIRS])
    assert again.status_code == 409


def test_a_closed_account_pays_nothing(
    client: TestClient, keys: dict[str, dict[str, str]], clock: FixedClock
) -> None:
    client.post(
        "/v1/accounts", json=opening(account_class="I", bound_account=None), headers=keys[MINE]
    )
    assert (
        client.post("/v1/transactions", json=spend(clock, "T-1"), headers=keys[MINE]).json()[
            "action"
        ]
        != "block"
    )
    closed = client.patch(
        f"/v1/accounts/{CARD}", json={"status": "closed", "reason": "销户"}, headers=keys[MINE]
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    after = client.post("/v1/transactions", json=spend(clock, "T-2"), headers=keys[MINE])
    assert after.json()["action"] == "block"
    police_only = client.patch(
        f"/v1/accounts/{CARD}", json={"status": "frozen_full", "reason": "x"}, headers=keys[MINE]
    )
    assert police_only.status_code == 422


def test_a_high_risk_tier_suspends_non_counter_payments_until_lowered(
    client: TestClient, keys: dict[str, dict[str, str]], clock: FixedClock
) -> None:
    client.post(
        "/v1/accounts", json=opening(account_class="I", bound_account=None), headers=keys[MINE]
    )
    high = {"tier": "high", "reason": "phone bound to 6 people"}
    assert (
        client.put(f"/v1/accounts/{CARD}/tier", json=high, headers=keys[THEIRS]).status_code == 404
    )
    answer = client.put(f"/v1/accounts/{CARD}/tier", json=high, headers=keys[MINE])
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"changed_at": None} == {
        "account_no": CARD, "tier": "high", "previous": "low", "source": "member_system",
        "reason": "phone bound to 6 people", "changed_at": None,
    }  # fmt: skip
    clock.advance(timedelta(minutes=2))  # paid after the tier was set
    blocked = client.post("/v1/transactions", json=spend(clock, "T-1"), headers=keys[MINE]).json()
    assert blocked["action"] == "block"
    assert "HC06" in [r["rule_id"] for r in blocked["reasons"]]
    again = client.put(f"/v1/accounts/{CARD}/tier", json=high, headers=keys[MINE])
    assert again.status_code == 409
    bad = client.put(f"/v1/accounts/{CARD}/tier", json={"tier": "severe", "reason": "x"},
                     headers=keys[MINE])  # fmt: skip
    assert bad.status_code == 422 and "tier" in bad.text
    low = {"tier": "low", "reason": "identity checked again at the counter"}
    assert client.put(f"/v1/accounts/{CARD}/tier", json=low, headers=keys[MINE]).status_code == 200
    clock.advance(timedelta(minutes=2))
    after = client.post("/v1/transactions", json=spend(clock, "T-2"), headers=keys[MINE]).json()
    assert "HC06" not in [r["rule_id"] for r in after["reasons"]]


def test_a_customers_tier_covers_their_open_accounts_at_the_member_only(
    client: TestClient, keys: dict[str, dict[str, str]], platform: Platform
) -> None:
    client.post("/v1/accounts", json=opening(), headers=keys[MINE])
    second = "6222021234567890136"
    client.post("/v1/accounts", json=opening(account_no=second), headers=keys[MINE])
    with platform.unit_of_work() as uow:
        row = uow.session.get(AccountRow, CARD)
        assert row is not None
        party = row.party_id
    path = f"/v1/customers/{party}/tier"
    high = {"tier": "high", "reason": "phone bound to 6 people"}
    assert client.put(path, json=high, headers=keys[THEIRS]).status_code == 404
    answer = client.put(path, json=high, headers=keys[MINE])
    assert answer.status_code == 200, answer.text
    assert answer.json()["party_id"] == party
    assert sorted(c["account_no"] for c in answer.json()["changes"]) == [CARD, second]
    again = client.put(path, json=high, headers=keys[MINE])
    assert again.status_code == 200 and again.json()["changes"] == []
    too_long = client.put(f"/v1/customers/{'H' * 65}/tier", json=high, headers=keys[MINE])
    assert too_long.status_code == 422 and too_long.json()["field"] == "party_id"
    with platform.unit_of_work() as uow:
        tiers = uow.session.scalars(
            select(AccountRow.risk_tier).where(AccountRow.party_id == party)
        ).all()
    assert tiers == ["high", "high"]


def test_an_online_closure_names_what_blocks_it_then_closes(
    client: TestClient, keys: dict[str, dict[str, str]], clock: FixedClock
) -> None:
    client.post(
        "/v1/accounts", json=opening(account_class="I", bound_account=None), headers=keys[MINE]
    )
    path = f"/v1/accounts/{CARD}/closure"
    request = {"verification": "member_channel"}
    assert client.post(path, json=request, headers=keys[THEIRS]).status_code == 404
    refused = client.post(path, json=request, headers=keys[MINE])
    assert refused.status_code == 409 and "must be moved out" in refused.json()["detail"]
    bad = client.post(path, json=request | {"verification": "phone call"}, headers=keys[MINE])
    assert bad.status_code == 422
    lying = client.post(path, json={"verification": "public_portal"}, headers=keys[MINE])
    assert lying.status_code == 422 and lying.json()["field"] == "verification"
    home = request | {"move_to": "6222020200112233445"}
    named = client.post(path, json=home, headers=keys[MINE])
    assert named.status_code == 409 and "as asked" in named.json()["detail"]
    # The holder moves the money out first, a payment the engine decides while it may.
    out = client.post("/v1/transactions", json=spend(clock, "T-out", 300_000), headers=keys[MINE])
    assert out.json()["action"] != "block", out.text
    closed = client.post(path, json=home, headers=keys[MINE])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    after = client.post("/v1/transactions", json=spend(clock, "T-late", 1), headers=keys[MINE])
    assert "HC01" in [r["rule_id"] for r in after.json()["reasons"]]


def test_an_account_loaded_without_its_opening_answers_it_as_unknown(
    client: TestClient, keys: dict[str, dict[str, str]], platform: Platform, clock: FixedClock
) -> None:
    """As `fundwall load` stores an imported account: its opening null, never a stand-in."""
    holder = Party(
        "P1", PartyKind.PERSON, "张三", ResidentId.parse("11010519491231002X"), None, "110105"
    )
    account = Account(
        CARD,
        MINE,
        "P1",
        AccountClass.CLASS_I,
        AccountStatus.NORMAL,
        RiskTier.LOW,
        opened_at=None,
        opening_channel=OpeningChannel.COUNTER,
    )
    with platform.unit_of_work() as uow:
        uow.session.add(party_row(holder, platform.keyring))
        uow.session.flush()
        uow.session.add(account_row(account, balance_fen=300_000))
        uow.commit()
    changed = client.patch(
        f"/v1/accounts/{CARD}", json={"account_class": "II", "reason": "降级"}, headers=keys[MINE]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["opened_at"] is None and changed.json()["account_class"] == "II"
    decided = client.post("/v1/transactions", json=spend(clock, "T-1"), headers=keys[MINE])
    assert decided.status_code == 200, decided.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (opening(account_no="123"), "account_no"),
        (opening(holder={"id_number": "110105194912310021", "name": "x"}), "holder.id_number"),
        (opening(opened_at="2099-01-01T00:00:00+00:00"), "opened_at"),
        (opening(account_class="IV"), "account_class"),
        (opening(surprise=1), "surprise"),
        (opening(opening_ip="203.0.113"), "opening_ip"),
        (opening(opening_device="tablet 7"), "opening_device"),
    ],
)
def test_a_bad_report_names_its_field_and_changes_nothing(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    platform: Platform,
    body: dict[str, Any],
    field: str,
) -> None:
    refused = client.post("/v1/accounts", json=body, headers=keys[MINE])
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field
    with platform.database.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AccountRow)) == 0


def test_an_opening_keeps_the_device_ip_and_agent_it_was_opened_through(
    client: TestClient, keys: dict[str, dict[str, str]], platform: Platform
) -> None:
    through = {"opening_device": "TAB-77", "opening_ip": "203.0.113.7", "opening_agent": "AG7"}
    opened = client.post("/v1/accounts", json=opening(**through), headers=keys[MINE])
    assert opened.status_code == 201, opened.text
    with platform.unit_of_work() as uow:
        row = uow.session.get_one(AccountRow, CARD)
        kept = (row.opening_device_id, row.opening_ip, row.opening_agent, row.last_active_at)
    assert kept == ("TAB-77", "203.0.113.7", "AG7", None)


def test_account_routes_need_a_key_and_a_small_body(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    assert client.post("/v1/accounts", json=opening()).status_code == 401
    change = {"status": "closed", "reason": "x"}
    assert client.patch(f"/v1/accounts/{CARD}", json=change).status_code == 401
    huge = b"{" + b" " * (ACCOUNT_BODY_BYTES + 1) + b"}"
    too_large = client.post(
        "/v1/accounts",
        content=huge,
        headers={**keys[MINE], "content-type": "application/json"},
    )
    assert too_large.status_code == 413
