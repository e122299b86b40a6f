"""`GET /v1/reports/figures` with API keys, on the seeded records: a member's key reads its
member's figures, a police unit's key its unit's part; another member named is a 404
problem, a bad period a 422 naming it, no key a 401; the route is documented."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from auth import world
from fundwall.auth import Actor
from fundwall.bootstrap import Platform
from fundwall.members import create_api_key

from .conftest import RECOVERED, SUSPECTS, Seeded

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package for its test client; httpx works the same here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

FIGURES = "/v1/reports/figures"


@pytest.fixture
def client(platform: Platform, seeded: Seeded) -> Iterator[TestClient]:
    service = platform.decision_service()
    try:
        with TestClient(platform.app(service), raise_server_exceptions=False) as opened:
            yield opened
    finally:
        service.close()


def _key(platform: Platform, member: str) -> dict[str, str]:
    with platform.unit_of_work() as uow:
        _, text = create_api_key(uow, Actor.operator("test"), member)
    return {"authorization": f"Bearer {text}"}


def test_a_members_key_reads_its_figures_with_their_trend(
    client: TestClient, platform: Platform
) -> None:
    answer = client.get(FIGURES, params={"period": "2024-06"}, headers=_key(platform, "B001"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["scope"], body["member"], body["period"]) == ("member", "B001", "2024-06")
    assert (body["first_day"], body["last_day"]) == ("2024-06-01", "2024-06-30")
    assert len(body["buckets"]) == 30
    clues = {f["key"]: f for s in body["sections"] if s["key"] == "clues" for f in s["figures"]}
    assert clues["suspects_caught"]["value"] == SUSPECTS
    assert clues["recovered_fen"] | {"trend": None} == {
        "key": "recovered_fen", "label_zh": "挽回损失", "label_en": "Losses recovered",
        "unit": "fen", "value": RECOVERED, "trend": None, "link": "/clues/outbox?status=result",
    }  # fmt: skip
    assert sum(clues["recovered_fen"]["trend"]) == RECOVERED


def test_a_police_units_key_reads_its_part_only(client: TestClient, platform: Platform) -> None:
    unit = _key(platform, "PSB1")
    answer = client.get(FIGURES, params={"period": "2024"}, headers=unit)
    assert answer.status_code == 200, answer.text
    assert [s["key"] for s in answer.json()["sections"]] == ["clues", "orders", "returns"]
    refused = client.get(FIGURES, params={"period": "2024", "member": "B001"}, headers=unit)
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"period": "2024-13"}, 422, "period"),
        ({"period": "2024-03-01..2030-03-01"}, 422, "period"),
        ({}, 422, "period"),
        ({"period": "x" * 500}, 422, "period"),
        ({"period": "2024", "member": world.BANK_B}, 404, None),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, platform: Platform, params: dict[str, str], status: int, field: str | None
) -> None:
    answer = client.get(FIGURES, params=params, headers=_key(platform, world.BANK_A))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in answer.text
    assert world.BANK_B not in answer.text or status == 404


def test_no_key_is_a_401_and_the_route_is_documented(client: TestClient) -> None:
    assert client.get(FIGURES, params={"period": "2024"}).status_code == 401
    document = client.get("/openapi.json").json()
    operation = document["paths"][FIGURES]["get"]
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert "reports" in operation["tags"]
