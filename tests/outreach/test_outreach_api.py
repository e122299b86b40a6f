"""`/v1/outreach` over HTTP with the banks' API keys, in the two-bank world: a dissuasion task
claimed and closed (the payment cancelled and shown so on the transaction), campaigns,
events, templates and opt-outs; another member's task and campaign are 404, bad input a 422
naming the field, a conflict a 409, no key a 401."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from auth import world
from fundwall.bootstrap import Platform
from fundwall.members import create_api_key
from fundwall.outreach.dissuasion import raise_dissuasion_tasks
from outreach.conftest import OPERATOR, Uow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(outreach_world: Uow, platform: Platform) -> Iterator[TestClient]:
    service = platform.decision_service()
    try:
        with TestClient(platform.app(service), raise_server_exceptions=False) as opened:
            yield opened
    finally:
        service.close()


def _key(platform: Platform, member: str) -> dict[str, str]:
    with platform.unit_of_work() as uow:
        _, text = create_api_key(uow, OPERATOR, member)
    return {"authorization": f"Bearer {text}"}


def test_a_task_is_claimed_and_closed_over_the_api(
    client: TestClient, platform: Platform, outreach_world: Uow
) -> None:
    with outreach_world() as uow:
        [task] = raise_dissuasion_tasks(uow, OPERATOR)
    mine, theirs = _key(platform, world.BANK_B), _key(platform, world.BANK_A)
    assert client.get("/v1/outreach/tasks").status_code == 401
    listed = client.get("/v1/outreach/tasks", headers=mine).json()
    assert [t["id"] for t in listed] == [task] and listed[0]["status"] == "open"
    assert client.get("/v1/outreach/tasks", headers=theirs).json() == []
    assert client.get(f"/v1/outreach/tasks/{task}", headers=theirs).status_code == 404
    assert client.post(f"/v1/outreach/tasks/{task}/claim", headers=theirs).status_code == 404
    claimed = client.post(f"/v1/outreach/tasks/{task}/claim", headers=mine)
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    bad = client.post(f"/v1/outreach/tasks/{task}/outcome", json={"outcome": "maybe"}, headers=mine)
    assert bad.status_code == 422
    done = client.post(
        f"/v1/outreach/tasks/{task}/outcome", json={"outcome": "dissuaded"}, headers=mine
    )
    assert done.status_code == 200 and done.json()["cancelled"] is True
    again = client.post(
        f"/v1/outreach/tasks/{task}/outcome", json={"outcome": "paid_anyway"}, headers=mine
    )
    assert again.status_code == 409
    assert client.get("/v1/transactions/T4", headers=mine).json()["cancelled_at"] is not None
    assert client.get("/v1/transactions/T3", headers=mine).json()["cancelled_at"] is None
    cancelled = client.post(
        "/v1/outreach/cancellations", json={"tx_id": "T3", "reason": "付款人来电取消"}, headers=mine
    )
    assert cancelled.status_code == 201 and cancelled.json()["tx_id"] == "T3"
    refused = client.post(
        "/v1/outreach/cancellations", json={"tx_id": "T3", "reason": "again"}, headers=theirs
    )
    assert refused.status_code == 403


def test_campaigns_templates_events_and_opt_outs_over_the_api(
    client: TestClient, platform: Platform
) -> None:
    mine, theirs = _key(platform, world.BANK_A), _key(platform, world.BANK_B)
    preview = client.get("/v1/outreach/segments/new_payee", headers=mine,
                         params={"as_of": "2024-03-06T00:00:00+08:00"})  # fmt: skip
    assert preview.status_code == 200 and preview.json()["customers"] == 1
    early = client.get("/v1/outreach/segments/elderly", headers=mine,
                       params={"as_of": "0001-01-02T00:00:00+00:00"})  # fmt: skip
    assert early.status_code == 422 and "as_of" in early.text
    template = {"name": "refund_scam", "text": "{bank}提醒：{tip}。回复TD退订"}
    assert client.post("/v1/outreach/templates", json=template, headers=mine).status_code == 201
    assert client.post("/v1/outreach/templates", json=template, headers=mine).status_code == 409
    names = [t["name"] for t in client.get("/v1/outreach/templates", headers=mine).json()]
    assert "refund_scam" in names and "portal_code" in names
    campaign = {"title": "退款诈骗提醒", "template": "refund_scam", "segment": "new_payee",
                "as_of": "2024-03-06T00:00:00+08:00"}  # fmt: skip
    missing = client.post("/v1/outreach/campaigns", json=campaign, headers=mine)
    assert missing.status_code == 422 and "variables.tip" in missing.text
    sent = client.post("/v1/outreach/campaigns", headers=mine,
                       json=campaign | {"variables": {"tip": "退款不需要先转账"}})  # fmt: skip
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["audience"], body["queued"], body["no_phone"]) == (1, 0, 1)  # P1 bound no phone
    assert client.get(f"/v1/outreach/campaigns/{body['id']}", headers=theirs).status_code == 404
    assert client.get("/v1/outreach/campaigns", headers=mine).json() == [body]
    event = {"kind": "school", "title": "校园讲座", "held_on": "2024-05-30", "place": "一中",
             "attendance": 300, "reach": 900}  # fmt: skip
    assert client.post("/v1/outreach/events", json=event, headers=mine).status_code == 201
    negative = client.post("/v1/outreach/events", json=event | {"reach": -1}, headers=mine)
    assert negative.status_code == 422
    future = client.post(
        "/v1/outreach/events", json=event | {"held_on": "2099-01-01"}, headers=mine
    )
    assert future.status_code == 422 and "held_on" in future.text
    # Nor is a number a day in a body (Pydantic alone would read it as seconds since 1970).
    number = client.post("/v1/outreach/events", json=event | {"held_on": 1716940800}, headers=mine)
    assert number.status_code == 422 and "YYYY-MM-DD" in number.text
    assert len(client.get("/v1/outreach/events", headers=mine).json()) == 1
    assert client.get("/v1/outreach/events", headers=theirs).json() == []
    may = {"start": "2024-05-01", "end": "2024-05-31"}
    assert len(client.get("/v1/outreach/events", params=may, headers=mine).json()) == 1
    # The text of a number is no day (Pydantic alone would read it as seconds since 1970).
    unix = client.get("/v1/outreach/events", params={"end": "1716940800"}, headers=mine)
    assert unix.status_code == 422 and "end" in unix.text
    opt_out = {"phone": "13812340001", "channel": "counter"}
    answer = client.post("/v1/outreach/opt-outs", json=opt_out, headers=mine)
    assert answer.status_code == 201 and answer.json()["phone"] == "138****0001"
    assert client.post("/v1/outreach/opt-outs", json=opt_out, headers=theirs).status_code == 409
