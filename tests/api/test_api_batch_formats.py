"""POST /v1/transactions/batch in each of its formats: a JSON array, NDJSON, CSV and Parquet,
read into one validated table; bad records named by their 0-based index and field."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from fundwall.api import create_app
from fundwall.config import Settings
from fundwall.ingest import MAX_BATCH
from fundwall.ingest.batches import MAX_PARQUET_UNPACKED

from .records import batch, record
from .service import RuleOfThumbService
from .test_api_transactions import assert_invalid

PATH = "/v1/transactions/batch"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
FIELDS = list(record())


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(each) + "\n" for each in records).encode()


def table(records: list[dict[str, Any]]) -> pa.Table:
    """The records as text columns (the fen as a number), each field a column."""
    return pa.table(
        {
            name: pa.array(
                [each.get(name) for each in records],
                pa.int64() if name == "amount_fen" else pa.string(),
            )
            for name in FIELDS
        }
    )


def csv(records: list[dict[str, Any]]) -> bytes:
    out = io.BytesIO()
    pa_csv.write_csv(table(records), out)
    return out.getvalue()


def parquet(records: list[dict[str, Any]]) -> bytes:
    out = io.BytesIO()
    pq.write_table(table(records), out)
    return out.getvalue()


Encode = Callable[[list[dict[str, Any]]], bytes]
FORMATS: list[tuple[str, Encode]] = [
    ("application/json", lambda records: json.dumps(records).encode()),
    (NDJSON, ndjson),
    (CSV, csv),
    (PARQUET, parquet),
]


def post(client: TestClient, media_type: str, body: bytes) -> Any:
    return client.post(PATH, content=body, headers={"content-type": media_type})


@pytest.mark.parametrize(("media_type", "encode"), FORMATS)
def test_each_format_is_decided_in_order(
    client: TestClient, service: RuleOfThumbService, media_type: str, encode: Encode
) -> None:
    records = [record(f"F-{index}", fen) for index, fen in enumerate([10, 6_000_000, 600_000])]
    response = post(client, media_type, encode(records))
    assert response.status_code == 200, response.text
    assert [(each["tx_id"], each["action"]) for each in response.json()] == [
        ("F-0", "pass"),
        ("F-1", "block"),
        ("F-2", "alert"),
    ]
    assert service.calls == [("decide_batch", ("F-0", "F-1", "F-2"))]
    assert service.seen[-1].amount.fen == 600_000


@pytest.mark.parametrize(("media_type", "encode"), FORMATS)
def test_each_format_names_a_record_the_domain_refuses(
    client: TestClient, service: RuleOfThumbService, media_type: str, encode: Encode
) -> None:
    records = batch(4)
    records[2]["channel"] = "telepathy"
    assert_invalid(post(client, media_type, encode(records)), record="2", field="channel")
    assert service.calls == []


@pytest.mark.parametrize(("media_type", "encode"), FORMATS)
def test_each_format_refuses_an_id_used_twice(
    client: TestClient, service: RuleOfThumbService, media_type: str, encode: Encode
) -> None:
    records = [record("D-1"), record("D-2"), record("D-1")]
    body = assert_invalid(post(client, media_type, encode(records)), record="2", field="tx_id")
    assert body["reason"] == "duplicate transaction id, first at record 0"
    assert service.calls == []


def test_an_ndjson_line_of_the_wrong_type_is_named_by_the_model(
    client: TestClient, service: RuleOfThumbService
) -> None:
    records = batch(3)
    records[1]["amount_fen"] = "12"
    body = assert_invalid(post(client, NDJSON, ndjson(records)), record="1", field="amount_fen")
    assert body["reason"] == "expected a whole number, got a string"
    assert service.calls == []


def test_an_ndjson_line_that_is_no_json_is_named(client: TestClient) -> None:
    body = ndjson(batch(3)).replace(b'"T-2"', b"T-2", 1)
    problem = assert_invalid(post(client, NDJSON, body), record="2", field=None)
    assert problem["reason"].startswith("malformed JSON")


def test_an_ndjson_field_not_known_is_refused(client: TestClient) -> None:
    records = batch(2)
    records[1]["colour"] = "blue"
    assert_invalid(post(client, NDJSON, ndjson(records)), record="1", field="colour")


def test_a_json_array_of_a_float_fen_is_refused_not_rounded(
    client: TestClient, service: RuleOfThumbService
) -> None:
    records = batch(2)
    records[1]["amount_fen"] = 12.5
    body = assert_invalid(client.post(PATH, json=records), record="1", field="amount_fen")
    assert body["reason"] == "expected a whole number, got a number"
    assert service.calls == []


def test_a_csv_amount_in_yuan_is_read(client: TestClient, service: RuleOfThumbService) -> None:
    body = (
        csv([record("Y-1")]).replace(b'"amount_fen"', b'"amount"').replace(b"123456", b'"1234.56"')
    )
    response = post(client, CSV, body)
    assert response.status_code == 200, response.text
    assert service.seen[-1].amount.fen == 123_456


def test_a_csv_row_with_too_many_cells_is_named_by_its_record(client: TestClient) -> None:
    lines = csv(batch(3)).splitlines()
    lines[2] += b',"extra"'
    problem = assert_invalid(post(client, CSV, b"\n".join(lines) + b"\n"), record="1", field=None)
    assert problem["reason"].startswith("expected 13 fields, got 14")


def test_a_csv_header_naming_an_unknown_column_is_refused(client: TestClient) -> None:
    body = csv(batch(1)).replace(b'"city"', b'"town"')
    assert_invalid(post(client, CSV, body), record=None, field="town")


def test_a_body_that_is_no_parquet_is_refused(client: TestClient) -> None:
    response = post(client, PARQUET, b"PAR1 not really")
    assert response.status_code == 422
    assert response.json()["reason"].startswith("not a readable Parquet file")


def _compressed(columns: dict[str, pa.Array]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out, compression="zstd")
    return out.getvalue()


def test_a_parquet_body_declaring_millions_of_rows_is_refused_unread(
    client: TestClient, service: RuleOfThumbService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """14 KB of Parquet hold five million rows: refused from its footer, never decompressed."""
    body = _compressed({"tx_id": pa.array(["T"] * 5_000_000)})
    assert len(body) < 100_000

    def decompressed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the body was decompressed")

    monkeypatch.setattr(pq, "read_table", decompressed)
    response = post(client, PARQUET, body)
    assert response.status_code == 422
    assert response.json()["reason"] == (
        f"a batch holds at most {MAX_BATCH:,} transactions, got 5,000,000"
    )
    assert service.calls == []


def test_a_parquet_body_of_a_huge_string_is_refused_unread(
    client: TestClient, service: RuleOfThumbService
) -> None:
    """7 KB of Parquet hold a 200 MB transaction id: refused from its footer."""
    body = _compressed({"tx_id": pa.array(["a" * 200_000_000], pa.large_string())})
    assert len(body) < 100_000
    response = post(client, PARQUET, body)
    assert response.status_code == 422
    assert response.json()["reason"].startswith("the Parquet columns take 200,0")
    assert response.json()["reason"].endswith(f"at most {MAX_PARQUET_UNPACKED:,}")
    assert service.calls == []


@pytest.mark.parametrize(("media_type", "encode"), FORMATS[1:])
def test_an_empty_batch_is_refused(client: TestClient, media_type: str, encode: Encode) -> None:
    body = b"" if media_type == NDJSON else encode([])
    response = post(client, media_type, body)
    assert response.status_code == 422
    assert response.json()["reason"] == f"empty batch: send 1 to {MAX_BATCH:,} transactions"


def test_more_rows_than_a_batch_holds_are_refused(
    settings: Settings, service: RuleOfThumbService
) -> None:
    app = create_app(service, settings, api_keys_required=False)
    deposits = [record(f"T-{index}", payer_account=None, payer_bank=None) for index in range(3)]
    header, *rows = csv(deposits).splitlines()
    body = b"\n".join(
        [header, *(rows[0].replace(b"T-0", b"T-%d" % i) for i in range(MAX_BATCH + 1))]
    )
    with TestClient(app) as large_client:
        response = post(large_client, CSV, body)
    assert response.status_code == 422
    assert (
        response.json()["reason"] == f"a batch holds at most {MAX_BATCH:,} transactions, got 10,001"
    )
    assert service.calls == []


@pytest.mark.parametrize("media_type", ["application/octet-stream", "text/plain", "text/xml"])
def test_another_media_type_is_unsupported(
    client: TestClient, service: RuleOfThumbService, media_type: str
) -> None:
    response = post(client, media_type, parquet(batch(1)))
    assert response.status_code == 415
    assert response.json()["detail"].startswith(
        f"send the body as application/json or {NDJSON} or {CSV} or {PARQUET}, not "
    )
    assert service.calls == []


def test_a_csv_header_that_is_no_csv_row_is_refused_not_failed(client: TestClient) -> None:
    response = post(client, CSV, b"\r0")
    assert response.status_code == 422
    assert response.json()["reason"].startswith("the header is not a CSV row")
