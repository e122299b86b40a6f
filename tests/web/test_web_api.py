"""The member-data API and the engine's transaction API behind API keys: every endpoint that
returns member data answers another member's record as if it did not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from fundwall.auth import Actor
from fundwall.members import revoke_api_key
from fundwall.store import open_database
from fundwall.store.mapping import transaction_of
from fundwall.store.tables import TransactionRow

from .conftest import Browser, Console, open_client
from .region import Region

AsUser = Callable[[str], Browser]
PROBLEM = "application/problem+json"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _member_endpoints(region: Region, own: bool) -> list[str]:
    account = region.first_account if own else region.second_account
    tx_id = region.blocked_tx if own else region.second_tx
    return [
        f"/v1/accounts/{account}",
        f"/v1/accounts/{account}/transactions",
        f"/v1/transactions/{tx_id}",
    ]


@pytest.mark.parametrize("how", ["session", "bearer", "x-api-key"])
def test_each_endpoint_answers_the_member_and_hides_the_other(
    viewer: AsUser, shared_console: Console, region: Region, how: str
) -> None:
    key = region.first_key
    if how == "session":
        client, headers = viewer("analyst1"), {}
    else:
        client = open_client(shared_console.app)
        headers = _bearer(key) if how == "bearer" else {"X-API-Key": key}
    for path in _member_endpoints(region, own=True):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
    for path in _member_endpoints(region, own=False):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["type"].endswith("/not-found")
    alerts = client.get("/v1/alerts", headers=headers).json()
    assert alerts["items"] and alerts["page"] == 1
    assert {a["tx_id"] for a in alerts["items"]}.isdisjoint(
        {a["tx_id"] for a in _alerts_of(client, region.second_key)}
    )


def _alerts_of(client: Browser, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/alerts", headers=_bearer(key)).json()["items"]
    return items


def test_the_other_members_key_sees_its_own_records(
    shared_console: Console, region: Region
) -> None:
    client = open_client(shared_console.app)
    headers = _bearer(region.second_key)
    for path in _member_endpoints(region, own=False):
        assert client.get(path, headers=headers).status_code == 200, path
    for path in _member_endpoints(region, own=True):
        assert client.get(path, headers=headers).status_code == 404, path


def test_the_account_answer_masks_the_holder(shared_console: Console, region: Region) -> None:
    client = open_client(shared_console.app)
    body = client.get(f"/v1/accounts/{region.first_account}", headers=_bearer(region.first_key))
    holder = body.json()["holder"]
    assert "*" in holder["id_number"]
    assert body.json()["member"] == region.first_bank


def test_the_transaction_answer_explains_its_decisions(
    shared_console: Console, region: Region
) -> None:
    client = open_client(shared_console.app)
    body = client.get(
        f"/v1/transactions/{region.blocked_tx}", headers=_bearer(region.first_key)
    ).json()
    live, shadow = body["decisions"]
    assert (live["action"], live["shadow"], shadow["shadow"]) == ("block", False, True)
    assert live["reasons"] and {"rule_id", "text_zh", "text_en", "values"} <= set(
        live["reasons"][0]
    )


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "send an API key"),
        ({"Authorization": "Bearer fwk_nope"}, "not valid"),
        ({"X-API-Key": "garbage"}, "not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "send an API key"),
    ],
)
def test_no_key_or_a_bad_key_is_a_401_with_a_challenge(
    shared_console: Console, region: Region, headers: dict[str, str], detail: str
) -> None:
    client = open_client(shared_console.app)
    for path in [*_member_endpoints(region, own=True), "/v1/alerts"]:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == 'Bearer realm="fundwall"'
        assert detail in answer.json()["detail"]


@pytest.mark.parametrize("user", ["supervisor", "auditor"])
def test_roles_without_customer_data_are_refused_by_the_api(
    viewer: AsUser, region: Region, user: str
) -> None:
    client = viewer(user)
    for path in [*_member_endpoints(region, own=True), "/v1/alerts"]:
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert answer.headers["content-type"] == PROBLEM


def test_a_revoked_key_stops_at_once(console: Console, region: Region) -> None:
    key_id = region.first_key.split("_")[1]
    client = open_client(console.app)
    path = f"/v1/accounts/{region.first_account}"
    assert client.get(path, headers=_bearer(region.first_key)).status_code == 200
    with console.uow() as uow:
        revoke_api_key(uow, Actor.operator("test"), key_id)
    assert client.get(path, headers=_bearer(region.first_key)).status_code == 401


def _transaction(region: Region) -> dict[str, Any]:
    """The region's blocked payment at the first bank, as its member sent it."""
    database = open_database(f"sqlite:///{region.database}")
    try:
        with database.connect() as connection:
            row = connection.execute(
                select(TransactionRow).where(TransactionRow.tx_id == region.blocked_tx)
            ).one()
    finally:
        database.dispose()
    body = transaction_of(TransactionRow(**row._mapping)).as_row()
    body["ts"] = row.ts.isoformat()
    return {key: value for key, value in body.items() if value is not None}


def test_the_transaction_api_needs_a_members_key_outside_the_demo(
    shared_console: Console, region: Region
) -> None:
    client = open_client(shared_console.app)
    refused = client.post("/v1/transactions", json=_transaction(region))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="fundwall"'
    decided = client.post(
        "/v1/transactions", json=_transaction(region), headers=_bearer(region.first_key)
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["action"] == "block"


def test_another_member_cannot_read_a_decision_by_sending_its_transaction_id(
    shared_console: Console, region: Region
) -> None:
    client = open_client(shared_console.app)
    mine = {
        **_transaction(region),
        "payer_account": region.second_account,
        "payer_bank": region.second_bank,
    }
    probe = client.post("/v1/transactions", json=mine, headers=_bearer(region.second_key))
    assert probe.status_code == 422
    assert probe.headers["content-type"] == PROBLEM
    assert probe.json()["reason"] == "transaction id already used"
    assert "block" not in probe.text and "reasons" not in probe.json()
    foreign = client.post(
        "/v1/transactions", json=_transaction(region), headers=_bearer(region.second_key)
    )
    assert foreign.status_code == 403


def test_a_console_session_cannot_submit_transactions(viewer: AsUser, region: Region) -> None:
    answer = viewer("analyst1").post("/v1/transactions", json=_transaction(region))
    assert answer.status_code == 401


def test_the_demo_takes_transactions_without_a_key(demo_console: Console, region: Region) -> None:
    with open_client(demo_console.app) as client:
        answer = client.post("/v1/transactions", json=_transaction(region))
    assert answer.status_code == 200, answer.text
