"""The load generator's requests: the region's transactions in order, new ids, the key."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pyarrow as pa
import pytest

from fundwall.bench.loadgen import Phase, Step, http_request, region_records
from fundwall.sim.run import simulate


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench") / "region"
    simulate("tiny", 3, folder)
    return folder


def _body(request: bytes) -> object:
    return json.loads(request.split(b"\r\n\r\n", 1)[1])


def test_records_follow_the_region_in_order_and_start_over_at_its_end() -> None:
    table = pa.table(
        {
            "tx_id": ["a", "b", "c"],
            "ts": pa.array([1, 2, 3], pa.timestamp("us", tz="UTC")),
            "amount_fen": [10, None, 30],
        }
    )
    records = [json.loads(r) for r in itertools.islice(region_records(table, 1, chunk=2), 5)]
    # Nulls are left out, as a member's system would leave out an absent field.
    assert [r.get("amount_fen") for r in records] == [None, 30, 10, None, 30]
    assert {r["tx_id"] for r in records} == {"{tx_id}"}
    assert records[1]["ts"] == "1970-01-01T00:00:00.000003+00:00"


def test_steps_send_new_ids_with_the_key(region: Path) -> None:
    single = Step("/v1/transactions", 1, 1, 1.0, 3, "s", region, "fwk_key")
    batch = Step("/v1/transactions/batch", 4, 1, 1.0, 2, "b", region, "fwk_key", first=10)
    singles = list(single.requests())
    batches = list(batch.requests())
    assert len(singles) == 3 and len(batches) == 2
    assert all(b"Authorization: Bearer fwk_key\r\n" in r for r in singles + batches)
    assert [_body(r)["tx_id"] for r in singles] == ["s-0", "s-1", "s-2"]  # type: ignore[index]
    sent = [tx for r in batches for tx in _body(r)]  # type: ignore[attr-defined]
    assert [tx["tx_id"] for tx in sent] == [f"b-{i}" for i in range(8)]
    times = [tx["ts"] for tx in sent]
    assert times == sorted(times)


def test_a_request_carries_its_length() -> None:
    request = http_request("/v1/transactions", b'{"a": 1}', "k")
    head, body = request.split(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/transactions HTTP/1.1\r\n")
    assert b"Content-Length: 8" in head and body == b'{"a": 1}'


def test_percentiles_of_a_phase() -> None:
    phase = Phase(requests=100, transactions=100, seconds=2.0)
    phase.latencies_ns = [ms * 1_000_000 for ms in range(100, 0, -1)]
    assert phase.percentile_ms(0.5) == 51
    assert phase.percentile_ms(0.99) == 100
    assert phase.requests_per_s == 50
