"""Every error is an RFC 9457 problem: domain errors, unknown routes, limits, crashes."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundwall.api import create_app
from fundwall.config import Settings
from fundwall.domain.decisions import Decision
from fundwall.domain.errors import (
    Conflict,
    FundwallError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal
from fundwall.store.database import DatabaseUnavailableError

from .records import batch, record
from .service import RuleOfThumbService

PROBLEMS = "https://fundwall.example/problems/"


class RaisingService:
    """A decision service that fails every call with `error`, as a real one may."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        raise self.error

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        raise self.error

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        raise self.error


def client_of(error: Exception, app_settings: Settings) -> TestClient:
    return TestClient(
        create_app(RaisingService(error), app_settings, api_keys_required=False),
        raise_server_exceptions=False,
    )


@pytest.mark.parametrize(
    ("error", "status", "slug", "title", "detail"),
    [
        (
            InvalidInput("unknown account", "payer_account"),
            422,
            "invalid-input",
            "Invalid input",
            "field 'payer_account': unknown account",
        ),
        (
            NotFound("account", "6222…3445"),
            404,
            "not-found",
            "Not found",
            "account not found: 6222…3445",
        ),
        (
            PermissionDenied("decide for another member"),
            403,
            "forbidden",
            "Forbidden",
            "not allowed: decide for another member",
        ),
        (
            Conflict("the rule pack is being replaced"),
            409,
            "conflict",
            "Conflict",
            "the rule pack is being replaced",
        ),
    ],
)
def test_domain_errors_become_their_problems(
    settings: Settings, error: FundwallError, status: int, slug: str, title: str, detail: str
) -> None:
    with client_of(error, settings) as client:
        for response in (
            client.post("/v1/transactions", json=record()),
            client.post("/v1/transactions/batch", json=batch(2)),
        ):
            assert response.status_code == status
            assert response.headers["content-type"] == "application/problem+json"
            body = response.json()
            assert {key: body[key] for key in ("type", "title", "status", "detail")} == {
                "type": PROBLEMS + slug,
                "title": title,
                "status": status,
                "detail": detail,
            }


def test_a_database_outage_is_a_503_that_names_no_database(settings: Settings) -> None:
    outage = DatabaseUnavailableError("postgresql+psycopg://bank:***@db.internal/fw", "refused")
    with client_of(outage, settings) as client:
        response = client.post("/v1/transactions", json=record())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["type"] == PROBLEMS + "service-unavailable"
    assert "db.internal" not in response.text


def test_another_rooms_error_is_a_400_of_its_kind(settings: Settings) -> None:
    @dataclass(eq=False)
    class Expired(FundwallError):
        kind = "order-expired"

        def message(self) -> str:
            return "the stop-payment order expired"

    with client_of(Expired(), settings) as client:
        response = client.post("/v1/transactions", json=record())
    assert response.status_code == 400
    assert response.json() == {
        "type": PROBLEMS + "order-expired",
        "title": "Bad Request",
        "status": 400,
        "detail": "the stop-payment order expired",
    }


def test_an_unexpected_error_is_a_500_problem_without_internals(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "connection string postgresql://bank:hunter2@db"
    with client_of(RuntimeError(secret), settings) as client, caplog.at_level(logging.ERROR):
        response = client.post("/v1/transactions", json=record())
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == PROBLEMS + "internal-error"
    assert body["title"] == "Internal server error"
    incident = uuid.UUID(body["instance"].removeprefix("urn:uuid:"))
    assert str(incident) in body["detail"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    [logged] = [entry for entry in caplog.records if entry.name == "fundwall.api"]
    assert str(incident) in logged.getMessage()
    assert logged.exc_info is not None
    assert logged.exc_info[1] is not None and secret in str(logged.exc_info[1])


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": PROBLEMS + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no such resource: /v1/nothing-here",
    }


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.get("/v1/transactions")
    assert response.status_code == 405
    assert response.json()["detail"] == "GET is not allowed on /v1/transactions"
    assert response.headers["allow"] == "POST"


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, service: RuleOfThumbService
) -> None:
    response = client.post(
        "/v1/transactions",
        content=b" " * 5000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": PROBLEMS + "content-too-large",
        "title": "Content too large",
        "status": 413,
        "detail": "the body is larger than the limit of 4,096 bytes for /v1/transactions",
    }
    assert service.calls == []


def test_a_chunked_body_is_counted_as_it_arrives(
    client: TestClient, service: RuleOfThumbService
) -> None:
    sent: list[int] = []

    def chunks() -> Any:
        for _ in range(200):
            sent.append(1)
            yield b"[" + b" " * 1023

    response = client.post(
        "/v1/transactions/batch", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "the body is larger than the limit of 65,536 bytes for /v1/transactions/batch"
    )
    assert service.calls == []


def test_each_route_has_its_own_limit(client: TestClient) -> None:
    records = batch(40)  # about 14 KB: over the single limit, under the batch limit
    assert client.post("/v1/transactions/batch", json=records).status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
fields = st.sampled_from([*record().keys(), "amount", "other"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(fields, json_values | st.text(max_size=40), max_size=4))
def test_any_json_transaction_is_decided_or_refused_never_a_500(
    client: TestClient, changes: dict[str, Any]
) -> None:
    body = {**record(f"H-{uuid.uuid4().hex}"), **changes}
    # Python's JSON (as FastAPI's) reads NaN and Infinity, so they are sent too.
    response = client.post(
        "/v1/transactions",
        content=json.dumps(body, allow_nan=True),
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["type"] == PROBLEMS + "invalid-input"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_refused_as_a_problem_never_a_500(client: TestClient, content: bytes) -> None:
    for path in ("/v1/transactions", "/v1/transactions/batch"):
        response = client.post(path, content=content, headers={"content-type": "application/json"})
        assert response.status_code in (200, 422), response.text
        assert response.headers["content-type"].startswith(
            ("application/problem+json", "application/json")
        )
