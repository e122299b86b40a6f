"""`/v1/orders` for police units' and banks' systems: issue, read, answer, warn, documents;
RFC 9457 problems for bad input, clashes and others' orders."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest

from auth import world  # tests/auth/world.py
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.members import create_api_key

from .conftest import Uow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


@pytest.fixture
def keys(stocked: Uow, platform: Platform) -> dict[str, dict[str, str]]:
    with stocked() as uow:
        return {
            code: {"authorization": f"Bearer {create_api_key(uow, platform.operator, code)[1]}"}
            for code in ("PSB1", world.BANK_A, world.BANK_B)
        }


@pytest.fixture
def client(platform: Platform, keys: object) -> Iterator[TestClient]:
    service = platform.decision_service()
    try:
        with TestClient(platform.app(service), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        service.close()


def freeze(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "kind": "freeze",
        "document_no": "厦公(思)冻字〔2024〕0042号",
        "officers": "王警官",
        "police_case_no": "A3502032024060001",
        "legal_basis": "《反电信网络诈骗法》第三十二条",
        "account_no": "A1",
        "amount_fen": 500_000,
    }
    body.update(changes)
    return body


def test_an_order_goes_from_the_unit_to_the_bank_and_back(
    client: TestClient, keys: dict[str, dict[str, str]], clock: FixedClock
) -> None:
    police, bank, other = keys["PSB1"], keys[world.BANK_A], keys[world.BANK_B]
    created = client.post("/v1/orders", json=freeze(), headers=police)
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["status"], order["bank_code"], order["events"][0]["event"]) == (
        "issued", world.BANK_A, "issued",
    )  # fmt: skip
    path = f"/v1/orders/{order['id']}"
    assert client.get("/v1/orders", headers=bank).json()["items"][0]["id"] == order["id"]
    assert client.get("/v1/orders", headers=other).json()["items"] == []
    for headers in (other,):
        for url in (path, f"{path}/notice.pdf"):
            missing = client.get(url, headers=headers)
            assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert client.post(f"{path}/answer", json={"executed": True}, headers=police).status_code == 403
    assert (
        client.post("/v1/orders", json=freeze(document_no="X-1"), headers=bank).status_code == 403
    )
    assert client.post(f"{path}/answer", json={"executed": True}).status_code == 401
    assert client.get(f"{path}/receipt.pdf", headers=police).status_code == 409
    answered = client.post(f"{path}/answer", json={"executed": True}, headers=bank)
    assert answered.status_code == 200 and answered.json()["held_fen"] == 500_000
    notice = client.get(f"{path}/notice.pdf", headers=police)
    receipt = client.get(f"{path}/receipt.pdf", headers=bank)
    for pdf in (notice, receipt):
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
    clock.advance(timedelta(days=183) - timedelta(hours=2))
    expiring = client.get("/v1/orders/expiring", headers=police).json()
    assert [o["id"] for o in expiring] == [order["id"]]
    assert 0 < expiring[0]["remaining_seconds"] <= 2 * 3600


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (freeze(document_no=""), 422, "document_no"),
        (freeze(account_no="NOSUCH"), 422, "account_no"),
        (freeze(amount_fen=-1), 422, "amount_fen"),
        (freeze(legal_basis="x" * 501), 422, "legal_basis"),
        (freeze(kind="seize"), 422, "kind"),
        (freeze(unknown=1), 422, "unknown"),
        (freeze(kind="renewal", account_no=None, target_document_no="冻〔2024〕1号"), 422,
         "target_document_no"),
    ],
)  # fmt: skip
def test_bad_orders_are_problems_naming_the_field(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    body: dict[str, object],
    status: int,
    field: str,
) -> None:
    answer = client.post("/v1/orders", json=body, headers=keys["PSB1"])
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert field in answer.text


def test_a_second_stop_payment_is_a_conflict(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    stop = freeze(kind="stop_payment", amount_fen=None)
    assert client.post("/v1/orders", json=stop, headers=keys["PSB1"]).status_code == 201
    again = client.post("/v1/orders", json={**stop, "document_no": "止付〔2024〕2号"},
                        headers=keys["PSB1"])  # fmt: skip
    assert again.status_code == 409 and "stopped already" in again.json()["detail"]


def test_the_order_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/orders", "/v1/orders/expiring", "/v1/orders/{order_id}",
                 "/v1/orders/{order_id}/answer", "/v1/orders/{order_id}/notice.pdf",
                 "/v1/orders/{order_id}/receipt.pdf"):  # fmt: skip
        assert path in paths, path
    assert "409" in paths["/v1/orders"]["post"]["responses"]
