"""POST /v1/transactions and /v1/transactions/batch: decisions, and bad input as problems."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fundwall.api import DecisionOut, create_app
from fundwall.config import Settings
from fundwall.domain.decisions import Action
from fundwall.ingest import MAX_BATCH, MAX_ERRORS

from .records import batch, record
from .service import PACK_VERSION, RuleOfThumbService, expected_action

PROBLEM = "application/problem+json"
INVALID = "https://fundwall.example/problems/invalid-input"


def assert_invalid(response: Any, *, record: str | None, field: str | None) -> dict[str, Any]:
    """The response is an invalid-input problem pointing at `record` and `field`."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == INVALID
    assert body["title"] == "Invalid input"
    assert body["status"] == 422
    assert (body["record"], body["field"]) == (record, field)
    assert body["errors"][0] == {"record": record, "field": field, "reason": body["reason"]}
    assert body["reason"] in body["detail"]
    return body


# One transaction -------------------------------------------------------------------------


def test_one_transaction_is_decided(client: TestClient, service: RuleOfThumbService) -> None:
    response = client.post("/v1/transactions", json=record("T-9", 2_500_000))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "tx_id": "T-9",
        "action": "delay",
        "score": 25,
        "reasons": [
            {
                "rule_id": "T001",
                "text_zh": "单笔金额¥25,000.00",
                "text_en": "a single transfer of ¥25,000.00",
                "values": {"amount": 2_500_000},
            }
        ],
        "pack_version": PACK_VERSION,
        "model_version": None,
        "latency_us": 7,
    }
    assert DecisionOut.model_validate(response.json()).model_dump(mode="json") == response.json()
    assert service.calls == [("decide", ("T-9",))]


def test_the_service_gets_the_transaction_as_sent(
    client: TestClient, service: RuleOfThumbService
) -> None:
    client.post("/v1/transactions", json=record(amount_fen=None, amount="1,234.56", ip=None))
    [tx] = service.seen
    assert tx.amount.fen == 123_456
    assert tx.ts.isoformat() == "2024-05-01T01:30:00+00:00"
    assert (tx.payer_account, tx.payee_bank, tx.channel, tx.ip) == (
        "6222020200112233445",
        "ABC",
        "mobile",
        None,
    )


@pytest.mark.parametrize("fen", [1, 499_999, 500_000, 1_000_000, 2_000_000, 5_000_000])
def test_each_action_comes_back(client: TestClient, fen: int) -> None:
    body = client.post("/v1/transactions", json=record(amount_fen=fen)).json()
    assert body["action"] == expected_action(fen).value
    assert bool(body["reasons"]) == (body["action"] != Action.PASS)


def test_a_repeated_transaction_gets_its_first_decision(client: TestClient) -> None:
    first = client.post("/v1/transactions", json=record("T-1", 6_000_000)).json()
    again = client.post("/v1/transactions", json=record("T-1", 100)).json()
    assert again == first


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"amount_fen": "100"}, "amount_fen", "expected a whole number, got a string"),
        ({"amount_fen": 12.5}, "amount_fen", "expected a whole number, got a number"),
        ({"amount_fen": True}, "amount_fen", "expected a whole number, got a boolean"),
        ({"tx_id": 7}, "tx_id", "expected text, got a number"),
        ({"tx_id": None}, "tx_id", "missing"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"ts": "2024-05-01T09:30:00"}, "ts", None),
        ({"amount_fen": -5}, "amount_fen", None),
        ({"kind": "gift"}, "kind", None),
        ({"payee_account": "6222020200112233445", "payee_bank": "ICBC"}, "payee_account", None),
        ({"ip": "999.1.1.1"}, "ip", None),
        ({"amount": "12.345"}, "amount", None),
    ],
)
def test_a_bad_field_is_named(
    client: TestClient,
    service: RuleOfThumbService,
    changes: dict[str, Any],
    field: str,
    reason: str | None,
) -> None:
    response = client.post("/v1/transactions", json=record(**changes))
    body = assert_invalid(response, record=None, field=field)
    if reason is not None:
        assert body["reason"] == reason
    assert body["detail"].startswith(f"field '{field}': ")
    assert service.calls == []


def test_several_bad_fields_are_all_listed(client: TestClient) -> None:
    response = client.post("/v1/transactions", json=record(tx_id=1, amount_fen="x", extra=0))
    body = assert_invalid(response, record=None, field="tx_id")
    assert [error["field"] for error in body["errors"]] == ["tx_id", "amount_fen", "extra"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"tx_id": "T-1",', "malformed JSON: EOF while parsing a value at line 1 column 16"),
        (b'{"tx_id": "T-1"}\n  oops', "malformed JSON: trailing characters at line 2 column 3"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b'"text"', "expected a JSON object, got a string"),
        (b"\xff\xff", "malformed JSON"),
    ],
)
def test_a_body_that_is_no_transaction_is_refused(
    client: TestClient, service: RuleOfThumbService, content: bytes, reason: str
) -> None:
    response = client.post(
        "/v1/transactions", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith(reason)
    assert service.calls == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_a_body_that_is_not_json_is_unsupported(
    client: TestClient, service: RuleOfThumbService, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/transactions", content=b"{}", headers=headers)
    assert response.status_code == 415
    body = response.json()
    assert body["type"] == "https://fundwall.example/problems/unsupported-media-type"
    assert body["detail"].startswith("send the body as application/json, not ")
    assert service.calls == []


def test_json_with_a_charset_or_a_json_suffix_is_accepted(client: TestClient) -> None:
    for index, content_type in enumerate(
        ("application/json; charset=utf-8", "application/vnd.bank+json")
    ):
        response = client.post(
            "/v1/transactions",
            content=json.dumps(record(f"T-{index}")),
            headers={"content-type": content_type},
        )
        assert response.status_code == 200, response.text


# Batches ---------------------------------------------------------------------------------


def test_a_batch_is_decided_in_order(client: TestClient, service: RuleOfThumbService) -> None:
    records = [record(f"B-{index}", fen) for index, fen in enumerate([10, 6_000_000, 600_000])]
    response = client.post("/v1/transactions/batch", json=records)
    assert response.status_code == 200
    decisions = response.json()
    assert [(each["tx_id"], each["action"]) for each in decisions] == [
        ("B-0", "pass"),
        ("B-1", "block"),
        ("B-2", "alert"),
    ]
    assert service.calls == [("decide_batch", ("B-0", "B-1", "B-2"))]


def test_a_bad_record_names_its_index_and_nothing_is_decided(
    client: TestClient, service: RuleOfThumbService
) -> None:
    records = batch(5)
    records[3]["amount_fen"] = "12"
    body = assert_invalid(
        client.post("/v1/transactions/batch", json=records), record="3", field="amount_fen"
    )
    assert body["detail"] == "record 3, field 'amount_fen': expected a whole number, got a string"
    assert service.calls == []


def test_a_record_the_domain_refuses_names_its_index(
    client: TestClient, service: RuleOfThumbService
) -> None:
    records = batch(4)
    records[2]["channel"] = "telepathy"
    assert_invalid(client.post("/v1/transactions/batch", json=records), record="2", field="channel")
    assert service.calls == []


def test_every_bad_record_is_listed_up_to_the_limit(client: TestClient) -> None:
    records = batch(30)
    for index in (1, 4):
        records[index]["ts"] = "yesterday"
    records[7]["amount_fen"] = 0
    body = client.post("/v1/transactions/batch", json=records).json()
    assert [(e["record"], e["field"]) for e in body["errors"]] == [
        ("1", "ts"),
        ("4", "ts"),
        ("7", "amount_fen"),
    ]
    assert body["more"] is False
    assert body["detail"].startswith("3 invalid records: record 1, field 'ts': ")

    for each in records:
        each["amount_fen"] = "many"
    body = client.post("/v1/transactions/batch", json=records).json()
    assert [e["record"] for e in body["errors"]] == [str(index) for index in range(MAX_ERRORS)]
    assert body["more"] is True


def test_a_duplicate_id_in_a_batch_is_refused(
    client: TestClient, service: RuleOfThumbService
) -> None:
    records = [record("D-1"), record("D-2"), record("D-1")]
    body = assert_invalid(
        client.post("/v1/transactions/batch", json=records), record="2", field="tx_id"
    )
    assert body["reason"] == "duplicate transaction id, first at record 0"
    assert service.calls == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "too few items: at least 1, got 0"),
        (record(), "expected a JSON array, got an object"),
        ([record(), 5], "expected a JSON object, got a number"),
    ],
)
def test_a_batch_that_is_no_list_of_transactions_is_refused(
    client: TestClient, body: Any, reason: str
) -> None:
    response = client.post("/v1/transactions/batch", json=body)
    assert response.status_code == 422
    assert response.json()["reason"] == reason


def test_a_batch_over_the_most_transactions_is_refused(
    settings: Settings, service: RuleOfThumbService
) -> None:
    app = create_app(service, settings, api_keys_required=False)
    short = {"tx_id": "X", "ts": "", "kind": "", "channel": ""}
    with TestClient(app) as large_client:
        response = large_client.post("/v1/transactions/batch", json=[short] * (MAX_BATCH + 1))
    assert response.status_code == 422
    assert response.json()["reason"] == f"too many items: at most {MAX_BATCH:,}, got 10,001"
    assert service.calls == []
