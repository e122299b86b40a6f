"""`/v1/screening` over HTTP with members' API keys, on the store holding the tiny region: a
run, its work list page by page, a bulk action answered at once and carried out in the
background, its progress; another member's run and action are 404, bad input a 422 naming
the field, no key a 401; the routes are documented with their problems."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from fundwall.bootstrap import Platform
from fundwall.members import create_api_key

from .conftest import OPERATOR

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package for its test client; httpx works the same here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MEMBER, OTHER = "302", "303"


@pytest.fixture
def client(loaded: Platform) -> Iterator[TestClient]:
    service = loaded.decision_service()
    try:
        with TestClient(loaded.app(service), raise_server_exceptions=False) as opened:
            yield opened
    finally:
        service.close()


def _key(platform: Platform, member: str) -> dict[str, str]:
    with platform.unit_of_work() as uow:
        _, text = create_api_key(uow, OPERATOR, member)
    return {"authorization": f"Bearer {text}"}


def test_a_member_runs_reads_and_acts_on_its_work_list(
    client: TestClient, loaded: Platform
) -> None:
    mine, theirs = _key(loaded, MEMBER), _key(loaded, OTHER)
    made = client.post("/v1/screening/runs", json={"checks": ["dormant", "shared_phone"]},
                       headers=mine)  # fmt: skip
    assert made.status_code == 201, made.text
    run = made.json()
    assert run["member"] == MEMBER and run["checks"] == ["dormant", "shared_phone"]
    assert run["found"]["shared_phone"] > 0 and run["screened"] > 0
    assert client.get(f"/v1/screening/runs/{run['id']}", headers=mine).json() == run
    page = client.get(f"/v1/screening/runs/{run['id']}/items",
                      params={"check": "shared_phone"}, headers=mine).json()  # fmt: skip
    assert not page["more"] and len(page["items"]) == run["found"]["shared_phone"]
    item = page["items"][0]
    assert item["findings"][0]["reason_zh"] and item["findings"][0]["reason_en"]
    chosen = [entry["account_no"] for entry in page["items"][:2]]
    acted = client.post(f"/v1/screening/runs/{run['id']}/actions",
                        json={"action": "notify", "accounts": chosen, "reason": "一号多人核查"},
                        headers=mine)  # fmt: skip
    assert acted.status_code == 202, acted.text
    assert acted.json()["counts"]["pending"] == 2
    progress = client.get(f"/v1/screening/actions/{acted.json()['id']}", headers=mine).json()
    assert progress["finished_at"] is not None
    assert progress["counts"] == {"pending": 0, "done": 2, "refused": 0, "failed": 0, "appealed": 0}
    assert {target["account_no"] for target in progress["targets"]} == set(chosen)
    after = client.get(f"/v1/screening/runs/{run['id']}/items", headers=mine).json()
    acted_on = {i["account_no"]: i["actions"] for i in after["items"] if i["actions"]}
    assert set(acted_on) == set(chosen)
    (figures,) = client.get("/v1/screening/figures", headers=mine).json()
    assert (figures["member"], figures["notified"], figures["cleaned"]) == (MEMBER, 2, 0)
    later = {"since": "2030-01-01T00:00:00+08:00"}
    assert client.get("/v1/screening/figures", params=later, headers=mine).json() == []
    for moment in ("0", "2024-03-01", "2024-13-01T00:00:00+08:00"):
        answer = client.get("/v1/screening/figures", params={"until": moment}, headers=mine)
        assert answer.status_code == 422, moment
        assert answer.json()["field"] in ("query.until", "until"), answer.json()
    listed = client.get("/v1/screening/runs", headers=mine).json()
    assert [r["id"] for r in listed["runs"]] == [run["id"]]
    # Another member's key learns nothing of them.
    for path in (f"/v1/screening/runs/{run['id']}", f"/v1/screening/runs/{run['id']}/items",
                 f"/v1/screening/actions/{acted.json()['id']}"):  # fmt: skip
        refused = client.get(path, headers=theirs)
        assert refused.status_code == 404, path
        assert refused.headers["content-type"] == "application/problem+json"
    hostile = client.post(f"/v1/screening/runs/{run['id']}/actions",
                          json={"action": "close", "checks": ["dormant"], "reason": "x"},
                          headers=theirs)  # fmt: skip
    assert hostile.status_code == 404
    assert client.get("/v1/screening/runs", headers=theirs).json()["runs"] == []
    assert client.get("/v1/screening/figures", headers=theirs).json() == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/screening/runs", {"checks": ["sleepy"]}, "checks"),
        ("/v1/screening/runs", {"checks": []}, "checks"),
        ("/v1/screening/runs", {"as_of": 1711814400}, "as_of"),
        ("/v1/screening/runs", {"as_of": "2024-03-31T00:00:00"}, "as_of"),
        ("/v1/screening/runs", {"as_of": "2999-03-31T00:00:00+08:00"}, "as_of"),
        (
            "/v1/screening/runs/{run}/actions",
            {"action": "freeze", "checks": ["dormant"], "reason": "x"},
            "action",
        ),
        ("/v1/screening/runs/{run}/actions", {"action": "notify", "reason": "x"}, "accounts"),
        (
            "/v1/screening/runs/{run}/actions",
            {"action": "notify", "accounts": ["6222"], "reason": "x"},
            "accounts[0]",
        ),
        (
            "/v1/screening/runs/{run}/actions",
            {"action": "notify", "checks": ["dormant"], "reason": "  "},
            "reason",
        ),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, loaded: Platform, path: str, body: dict[str, object], field: str
) -> None:
    mine = _key(loaded, MEMBER)
    run = client.post("/v1/screening/runs", json={}, headers=mine).json()
    answer = client.post(path.format(run=run["id"]), json=body, headers=mine)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_without_a_key_nothing_is_screened_and_the_routes_are_documented(
    client: TestClient,
) -> None:
    answer = client.post("/v1/screening/runs", json={})
    assert answer.status_code == 401
    assert client.get("/v1/screening/runs/1").status_code == 401
    spec = client.get("/openapi.json").json()
    routes = {
        ("/v1/screening/runs", "post"): "201",
        ("/v1/screening/runs", "get"): "200",
        ("/v1/screening/runs/{run_id}", "get"): "200",
        ("/v1/screening/runs/{run_id}/items", "get"): "200",
        ("/v1/screening/runs/{run_id}/actions", "post"): "202",
        ("/v1/screening/actions/{action_id}", "get"): "200",
        ("/v1/screening/figures", "get"): "200",
    }
    for (path, method), success in routes.items():
        operation = spec["paths"][path][method]
        assert {success, "401", "403", "422"} <= set(operation["responses"]), path
        assert operation["tags"] == ["screening"] and operation["summary"]
        assert operation["security"]


def test_a_run_as_of_an_earlier_moment_is_taken_as_text_with_its_offset(
    client: TestClient, loaded: Platform
) -> None:
    earlier = (loaded.clock.now() - timedelta(days=1)).replace(microsecond=0)
    text = earlier.astimezone(timezone(timedelta(hours=8))).isoformat()
    made = client.post("/v1/screening/runs", json={"as_of": text, "checks": ["dormant"]},
                       headers=_key(loaded, MEMBER))  # fmt: skip
    assert made.status_code == 201, made.text
    assert datetime.fromisoformat(made.json()["as_of"].replace("Z", "+00:00")) == earlier
