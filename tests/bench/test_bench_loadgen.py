"""The load generator's requests: the region's transactions in order, new ids, each sent by
its own member with that member's key."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pyarrow as pa
import pytest

from fundwall.bench.loadgen import Phase, Step, http_request, region_records
from fundwall.region import read_table
from fundwall.sim.run import simulate


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench") / "region"
    simulate("tiny", 3, folder)
    return folder


def _request(request: bytes) -> tuple[str, object]:
    head, body = request.split(b"\r\n\r\n", 1)
    key = head.split(b"Authorization: Bearer ", 1)[1].split(b"\r\n", 1)[0]
    return key.decode(), json.loads(body)


def _owner(tx: dict[str, str]) -> str:
    return tx["payee_bank"] if tx["kind"] == "deposit" else tx["payer_bank"]


def test_records_follow_the_region_in_order_and_start_over_at_its_end_a_day_later() -> None:
    table = pa.table(
        {
            "tx_id": ["a", "b", "c"],
            "ts": pa.array([1, 2, 3], pa.timestamp("us", tz="UTC")),
            "kind": ["transfer", "deposit", "withdrawal"],
            "payer_bank": ["P1", None, "P3"],
            "payee_bank": ["Q1", "Q2", None],
            "amount_fen": [10, None, 30],
        }
    )
    pairs = list(itertools.islice(region_records(table, 1, chunk=2), 5))
    assert [member for member, _ in pairs] == ["Q2", "P3", "P1", "Q2", "P3"]
    records = [json.loads(record) for _, record in pairs]
    # Nulls are left out, as a member's system would leave out an absent field.
    assert [r.get("amount_fen") for r in records] == [None, 30, 10, None, 30]
    assert {r["tx_id"] for r in records} == {"{tx_id}"}
    # Each pass is later by the region's length in whole days (here less than one), so
    # time only moves forward, at the same hours of the day.
    assert [r["ts"] for r in records] == [
        "1970-01-01T00:00:00.000002+00:00",
        "1970-01-01T00:00:00.000003+00:00",
        "1970-01-02T00:00:00.000001+00:00",
        "1970-01-02T00:00:00.000002+00:00",
        "1970-01-02T00:00:00.000003+00:00",
    ]
    later = json.loads(next(region_records(table, 7))[1])
    assert later["ts"] == "1970-01-03T00:00:00.000002+00:00"


def test_each_member_sends_its_own_transactions_with_its_key(region: Path) -> None:
    table = read_table(region, "transactions")
    members = sorted(
        {_owner(tx) for tx in table.select(["kind", "payer_bank", "payee_bank"]).to_pylist()}
    )
    keys = {member: f"key-{member}" for member in members[:-1]}
    single = Step("/v1/transactions", 1, 1, 1.0, 30, "s", region, keys)
    batch = Step("/v1/transactions/batch", 5, 1, 1.0, 6, "b", region, keys, first=10)
    singles = [_request(r) for r in single.requests()]
    batches = [_request(r) for r in batch.requests()]
    assert len(singles) == 30 and len(batches) == 6
    for key, tx in singles:
        assert isinstance(tx, dict) and key == f"key-{_owner(tx)}"
    assert [tx["tx_id"] for _, tx in singles] == [f"s-{i}" for i in range(30)]  # type: ignore[index]
    sent = []
    for key, txs in batches:
        assert isinstance(txs, list) and len(txs) == 5
        assert {f"key-{_owner(tx)}" for tx in txs} == {key}
        sent += txs
    assert sorted(int(tx["tx_id"][2:]) for tx in sent) == list(range(30))
    # A member without a key (the last) is left out; each member's own stay in time order.
    assert members[-1] not in {_owner(tx) for tx in sent}
    for member in members:
        times = [tx["ts"] for tx in sent if _owner(tx) == member]
        assert times == sorted(times)


def test_a_region_without_a_keyed_member_is_refused(region: Path) -> None:
    step = Step("/v1/transactions", 1, 1, 1.0, 3, "s", region, {"NOBODY": "k"})
    with pytest.raises(RuntimeError, match="no transaction of the region belongs"):
        step.requests()


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
