"""`/v1/traces` for police units' systems: start, list, read, confirm the batch; RFC 9457
problems for bad input, a second confirmation and another unit's trace."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from auth import world  # tests/auth/world.py
from fundwall.bootstrap import Platform
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.members import create_api_key
from fundwall.store import UnitOfWork
from fundwall.store.mapping import institution_row
from tracing.conftest import VICTIM

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
START = {"source": "报案-1", "account_no": "B1", "at": VICTIM.at.isoformat(),
         "amount_fen": VICTIM.amount_fen, "tx_id": "T2"}  # fmt: skip
BATCH = {
    "document_prefix": "厦公止〔2024〕88号",
    "officers": "王警官",
    "police_case_no": "A3502032024060001",
    "legal_basis": "《反电信网络诈骗法》第三十二条",
}


@pytest.fixture
def keys(stocked: object, platform: Platform) -> dict[str, dict[str, str]]:
    with platform.unit_of_work() as uow:
        _add_unit(uow, "PSB9")
        return {
            code: {"authorization": f"Bearer {create_api_key(uow, platform.operator, code)[1]}"}
            for code in ("PSB1", "PSB9", world.BANK_A)
        }


def _add_unit(uow: UnitOfWork, code: str) -> None:
    uow.session.add(
        institution_row(Institution(code, code, code, InstitutionKind.POLICE_UNIT, "350200"))
    )
    uow.commit()


@pytest.fixture
def client(platform: Platform, keys: object) -> Iterator[TestClient]:
    service = platform.decision_service()
    try:
        with TestClient(platform.app(service), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        service.close()


def test_a_trace_is_started_read_and_its_batch_confirmed(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    police = keys["PSB1"]
    made = client.post("/v1/traces", json={"starts": [START], "rule": "proportional"},
                       headers=police)  # fmt: skip
    assert made.status_code == 201, made.text
    trace = made.json()
    assert [a["account_no"] for a in trace["accounts"]] == ["B1", "A2", "B2"]
    assert [t["exit"] for t in trace["transfers"] if t["exit"]] == ["outside"]
    assert [s["amount_fen"] for s in trace["stops"]] == [83_334, 50_000, 42_857]
    listed = client.get("/v1/traces", headers=police).json()
    assert [item["id"] for item in listed["items"]] == [trace["id"]]
    read = client.get(f"/v1/traces/{trace['id']}", headers=police).json()
    assert read["accounts"] == trace["accounts"] and read["batch"] is None
    done = client.post(f"/v1/traces/{trace['id']}/batch", json=BATCH, headers=police)
    assert done.status_code == 200, done.text
    orders = done.json()["batch"]["orders"]
    assert [o["document_no"][-3:] for o in orders] == ["-01", "-02", "-03"]
    assert {a["standing"] for a in done.json()["accounts"]} == {"stopped"}
    again = client.post(f"/v1/traces/{trace['id']}/batch", json=BATCH, headers=police)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    routed = client.get("/v1/orders", headers=keys[world.BANK_A]).json()["items"]
    assert [(o["account_no"], o["amount_fen"]) for o in routed] == [("A2", 50_000)]


def test_another_unit_gets_404_and_bad_input_a_422(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    made = client.post("/v1/traces", json={"starts": [START]}, headers=keys["PSB1"]).json()
    other = client.get(f"/v1/traces/{made['id']}", headers=keys["PSB9"])
    assert other.status_code == 404 and other.headers["content-type"] == PROBLEM
    batch = client.post(f"/v1/traces/{made['id']}/batch", json=BATCH, headers=keys["PSB9"])
    assert batch.status_code == 404
    assert client.get("/v1/traces", headers=keys["PSB9"]).json()["items"] == []
    for bad in (
        {"starts": []},
        {"starts": [{**START, "at": "2024-03-05T05:00:00"}]},
        {"starts": [{**START, "amount_fen": 0}]},
        {"starts": [START], "max_hops": 11},
        {"starts": [START], "rule": "random"},
    ):
        refused = client.post("/v1/traces", json=bad, headers=keys["PSB1"])
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM, bad
    assert client.post("/v1/traces", json={"starts": [START]}, headers=keys[world.BANK_A]
                       ).status_code == 403  # fmt: skip
