"""`/v1/returns` for police units' and banks' systems: a plan drafted, published, objected
to, approved and executed over HTTP, with its receipt; problems for others' plans, bad input
and clashes."""

from __future__ import annotations

from datetime import timedelta

from auth import world  # tests/auth/world.py
from fundwall.clock import FixedClock
from fundwall.police import OrderView
from police.test_order_api import PROBLEM, TestClient, client, keys

__all__ = ["client", "keys"]


def test_a_plan_goes_from_the_unit_to_the_bank_over_http(
    client: TestClient, keys: dict[str, dict[str, str]], freeze: OrderView, clock: FixedClock
) -> None:
    police, bank, other = keys["PSB1"], keys[world.BANK_A], keys[world.BANK_B]
    body = {"order_id": freeze.id, "victims": [{"victim_account": "B1", "loss_fen": 100_000}]}
    assert client.post("/v1/returns", json=body, headers=bank).status_code == 403
    over = client.post("/v1/returns", json={**body, "amount_fen": 700_000}, headers=police)
    assert over.status_code == 422 and over.headers["content-type"] == PROBLEM
    created = client.post("/v1/returns", json=body, headers=police)
    assert created.status_code == 201, created.text
    plan = created.json()
    path = f"/v1/returns/{plan['id']}"
    assert (plan["status"], plan["method"], plan["residual_fen"]) == ("draft", "direct", 500_000)
    assert client.get(path, headers=other).status_code == 404
    assert client.get("/v1/returns", headers=bank).json()["items"][0]["id"] == plan["id"]
    assert client.post(f"{path}/publish", headers=police).json()["status"] == "published"
    objected = client.post(
        f"{path}/objections", json={"objector": "other", "text": "异议内容"}, headers=bank
    )
    assert objected.status_code == 200, objected.text
    objection = objected.json()["objections"][0]["id"]
    share = plan["shares"][0]["id"]
    execute = f"{path}/shares/{share}/execute"
    early = client.post(execute, json={"transfer_ref": "RT-1"}, headers=bank)
    assert early.status_code == 409 and "objection period" in early.json()["detail"]
    clock.advance(timedelta(days=30))
    decided = client.post(
        f"{path}/objections/{objection}/decision",
        json={"decision": "dismissed", "reason": "不成立"},
        headers=police,
    )
    assert decided.json()["objections"][0]["decision"] == "dismissed"
    assert client.post(f"{path}/approve", headers=police).json()["status"] == "approved"
    assert client.post(execute, json={"transfer_ref": "RT-1"}, headers=other).status_code == 404
    done = client.post(execute, json={"transfer_ref": "RT-1"}, headers=bank)
    assert done.json()["status"] == "executed", done.text
    receipt = client.get(f"{path}/shares/{share}/receipt.pdf", headers=police)
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
