"""CSV and Parquet transaction files: layout, normalisation, located errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fundwall.bench.ingest import upload
from fundwall.domain.errors import InvalidInput
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
from fundwall.ingest.tabular import read_transactions
from fundwall.region import TRANSACTIONS

HEADER = "tx_id,ts,kind,payer_account,payee_account,payer_bank,payee_bank,amount_fen,channel"


def row(tx_id: str, amount: str = "100", kind: str = "transfer", ts: str = "") -> str:
    when = ts or "2024-05-01T09:30:00+08:00"
    payer = ",," if kind == "deposit" else "6222020200112233445,"
    payee = "6228480010203040506"
    if kind == "deposit":
        return f"{tx_id},{when},{kind},,{payee},,ABC,{amount},counter"
    return f"{tx_id},{when},{kind},{payer.rstrip(',')},{payee},ICBC,ABC,{amount},mobile"


def write(tmp_path: Path, *lines: str, name: str = "t.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


def test_csv_rows_come_back_in_the_contract_layout_and_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, row("T2"), row("T1", "5", "deposit"), bom=True)
    table = read_transactions(path)
    assert table.schema == TRANSACTIONS
    assert table.column("tx_id").to_pylist() == ["T2", "T1"]
    first, second = table.to_pylist()
    assert first["ts"] == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert first["amount_fen"] == 100
    assert (second["kind"], second["payer_account"], second["channel"]) == (
        "deposit",
        None,
        "counter",
    )
    assert first["device_id"] is None and first["purpose"] is None


def test_csv_amount_in_yuan_and_unusual_spellings_are_normalised(tmp_path: Path) -> None:
    header = (
        "tx_id,ts,kind,payer_account,payee_account,payer_bank,payee_bank,amount,channel,ip,city"
    )
    path = write(
        tmp_path,
        header,
        'T1,2024-05-01 09:30:00Z,TRANSFER,1234567890,9876543210,ICBC,ABC,"1,234.5",Mobile,'
        "2001:DB8::1, Xiamen ",
        "T2,2024-05-01T09:30:00+08:00,transfer,1234567890,9876543210,ICBC,ABC,0.07,pos,"
        "1.2.3.4,厦门",
    )
    first, second = read_transactions(path).to_pylist()
    assert first["amount_fen"] == 123450
    assert (first["kind"], first["channel"]) == ("transfer", "mobile")
    assert (first["ip"], first["city"]) == ("2001:db8::1", "Xiamen")
    assert first["ts"] == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert (second["amount_fen"], second["city"]) == (7, "厦门")


def test_bad_rows_are_reported_with_their_line_field_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        row("T1"),
        row("T2", amount="0"),
        row("T3", kind="refund"),
        row("T1"),
        row("T5", ts="2024-05-01T09:30:00"),
    )
    with pytest.raises(InvalidRecords) as caught:
        read_transactions(path)
    found = [(error.record, error.field) for error in caught.value.errors]
    assert found == [
        ("line 3", "amount_fen"),
        ("line 4", "kind"),
        ("line 5", "tx_id"),
        ("line 6", "ts"),
    ]
    assert "duplicate transaction id, first at line 2" in caught.value.errors[2].reason
    assert "no UTC offset" in caught.value.errors[3].reason
    assert str(caught.value).startswith("4 invalid records: record line 3, field 'amount_fen'")


def test_an_impossible_date_is_found_without_losing_its_neighbours(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, row("T1"), row("T2", ts="2024-02-30T09:30:00+08:00"))
    with pytest.raises(InvalidInput) as caught:
        read_transactions(path)
    assert (caught.value.record, caught.value.field) == ("line 3", "ts")
    assert read_transactions(write(tmp_path, HEADER, row("T1"), row("T2"))).num_rows == 2


def test_errors_stop_at_the_limit(tmp_path: Path) -> None:
    lines = [row(f"T{i}", amount="-1") for i in range(MAX_ERRORS + 10)]
    with pytest.raises(InvalidRecords) as caught:
        read_transactions(write(tmp_path, HEADER, *lines))
    assert len(caught.value.errors) == MAX_ERRORS
    assert caught.value.more
    with pytest.raises(InvalidRecords) as fewer:
        read_transactions(write(tmp_path, HEADER, *lines), max_errors=3)
    assert [error.record for error in fewer.value.errors] == ["line 2", "line 3", "line 4"]


def test_header_only_file_gives_an_empty_table(tmp_path: Path) -> None:
    table = read_transactions(write(tmp_path, HEADER))
    assert table.num_rows == 0
    assert table.schema == TRANSACTIONS


@pytest.mark.parametrize(
    ("header", "field", "words"),
    [
        (HEADER + ",colour", "colour", "unknown column"),
        (HEADER.replace("ts,", ""), "ts", "required column is missing"),
        (HEADER.replace("amount_fen", "note"), "note", "unknown column"),
        (HEADER.replace(",amount_fen", ""), "amount_fen", "amount_fen or an amount column"),
        (HEADER + ",tx_id", "tx_id", "more than once"),
    ],
)
def test_header_problems_are_named(tmp_path: Path, header: str, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_transactions(write(tmp_path, header))
    assert caught.value.field == field
    assert words in caught.value.reason


def test_empty_file_needs_a_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="starts with a header row"):
        read_transactions(path)


def test_a_row_with_the_wrong_number_of_fields_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, row("T1"), row("T2"), "T3,2024-05-01T09:30:00Z,transfer")
    with pytest.raises(InvalidInput) as caught:
        read_transactions(path)
    assert caught.value.record == "line 4"
    assert "expected 9 fields, got 3" in caught.value.reason


def test_text_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "\n" + row("T1") + "\n").encode() + row("Té").encode("latin-1"))
    with pytest.raises(InvalidInput) as caught:
        read_transactions(path)
    assert (caught.value.record, caught.value.reason) == ("line 3", "not UTF-8 text")


def test_an_empty_line_is_a_row_with_nothing_in_it(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_transactions(write(tmp_path, HEADER, row("T1"), "", row("T3")))
    assert (caught.value.record, caught.value.field) == ("line 3", "tx_id")


def test_parquet_with_native_types_is_read_and_converted(tmp_path: Path) -> None:
    beijing = timezone(timedelta(hours=8))
    table = pa.table(
        {
            "tx_id": pa.array(["T1", "T2"]).dictionary_encode(),
            "ts": pa.array(
                [datetime(2024, 5, 1, 9, 30, tzinfo=beijing)] * 2, pa.timestamp("ns", tz="+08:00")
            ),
            "kind": ["transfer", "withdrawal"],
            "payer_account": ["6222020200112233445", "6222020200112233445"],
            "payee_account": ["6228480010203040506", None],
            "payer_bank": ["ICBC", "ICBC"],
            "payee_bank": ["ABC", None],
            "amount_fen": pa.array([100, 2_000_000], pa.int32()),
            "channel": ["online", "atm"],
            "city": pa.array([None, None], pa.null()),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    result = read_transactions(path)
    assert result.schema == TRANSACTIONS
    assert result.column("ts").to_pylist() == [datetime(2024, 5, 1, 1, 30, tzinfo=UTC)] * 2
    assert result.column("amount_fen").to_pylist() == [100, 2_000_000]
    assert result.column("payee_account").to_pylist() == ["6228480010203040506", None]


def test_parquet_errors_name_the_row_index(tmp_path: Path) -> None:
    table = pa.table(
        {
            "tx_id": ["T0", "T1", "T2"],
            "ts": pa.array([datetime(2024, 5, 1, 9, 30)] * 3, pa.timestamp("us")),
            "kind": ["transfer"] * 3,
            "payer_account": ["6222020200112233445"] * 3,
            "payee_account": ["6228480010203040506"] * 3,
            "payer_bank": ["ICBC"] * 3,
            "payee_bank": ["ABC"] * 3,
            "amount_fen": pa.array([1.5, 2.0, 3.0]),
            "channel": ["online"] * 3,
        }
    )
    path = tmp_path / "naive.parquet"
    pq.write_table(table, path)
    with pytest.raises(InvalidRecords) as caught:
        read_transactions(path)
    assert [(e.record, e.field) for e in caught.value.errors] == [
        ("row 0", "ts"),
        ("row 1", "ts"),
        ("row 2", "ts"),
    ]
    fixed = table.set_column(
        1, "ts", pa.array([datetime(2024, 5, 1, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC"))
    )
    pq.write_table(fixed, path)
    with pytest.raises(InvalidRecords) as floats:
        read_transactions(path)
    assert {e.field for e in floats.value.errors} == {"amount_fen"}
    assert "got float" in floats.value.errors[0].reason


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("t.txt", b"", "name it .csv or .parquet"),
        ("t.parquet", b"not parquet at all", "not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_refused(
    tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=words):
        read_transactions(path)


def test_missing_file_and_explicit_format(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        read_transactions(tmp_path / "absent.csv")
    path = write(tmp_path, HEADER, row("T1"), name="upload.dat")
    assert read_transactions(path, file_format="csv").num_rows == 1


def test_a_large_file_is_validated_whole(tmp_path: Path) -> None:
    # How fast: `fundwall bench` (`ingest_rows_per_s`, fundwall.bench.ingest).
    rows = 200_000
    table = upload(rows)
    path = tmp_path / "big.parquet"
    pq.write_table(table, path)
    result = read_transactions(path)
    assert result.num_rows == rows


def test_nanosecond_timestamps_are_cut_to_microseconds_even_for_rows_the_domain_judges(
    tmp_path: Path,
) -> None:
    moment = pa.array([1_714_527_000_123_456_789] * 2, pa.int64()).cast(
        pa.timestamp("ns", tz="UTC")
    )
    table = pa.table(
        {
            "tx_id": ["T1", "T2"],
            "ts": moment,
            "kind": ["transfer", "TRANSFER "],
            "payer_account": ["6222020200112233445"] * 2,
            "payee_account": ["6228480010203040506"] * 2,
            "payer_bank": ["ICBC"] * 2,
            "payee_bank": ["ABC"] * 2,
            "amount_fen": [1, 2],
            "channel": ["online", "ONLINE"],
            "ip": ["1.2.3.4", "::FFFF:1.2.3.4"],
        }
    )
    path = tmp_path / "ns.parquet"
    pq.write_table(table, path)
    result = read_transactions(path)
    expected = datetime(2024, 5, 1, 1, 30, 0, 123456, tzinfo=UTC)
    assert result.column("ts").to_pylist() == [expected, expected]
    assert result.column("ip").to_pylist() == ["1.2.3.4", "::ffff:102:304"]


def test_timestamps_outside_the_usual_years_are_left_to_the_domain(tmp_path: Path) -> None:
    far = pa.array([0, 253_402_300_800_000_000], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "tx_id": ["T1", "T2"],
            "ts": far,
            "kind": ["transfer"] * 2,
            "payer_account": ["6222020200112233445"] * 2,
            "payee_account": ["6228480010203040506"] * 2,
            "payer_bank": ["ICBC"] * 2,
            "payee_bank": ["ABC"] * 2,
            "amount_fen": [1, 2],
            "channel": ["online"] * 2,
        }
    )
    path = tmp_path / "far.parquet"
    pq.write_table(table, path)
    with pytest.raises(InvalidInput) as caught:
        read_transactions(path)
    assert not isinstance(caught.value, InvalidRecords)
    assert (caught.value.record, caught.value.field) == ("row 1", "ts")
    assert "not an ISO-8601 date and time" in caught.value.reason


def test_columns_of_the_wrong_type_are_judged_by_the_domain(tmp_path: Path) -> None:
    table = pa.table(
        {
            "tx_id": pa.array([None, 7], pa.int64()),
            "ts": ["2024-05-01T09:30:00+08:00"] * 2,
            "kind": ["transfer"] * 2,
            "payer_account": pa.array([6222020200112233445, 6222020200112233445], pa.int64()),
            "payee_account": ["6228480010203040506"] * 2,
            "payer_bank": ["ICBC"] * 2,
            "payee_bank": ["ABC"] * 2,
            "amount_fen": [1, 2],
            "channel": ["online"] * 2,
        }
    )
    path = tmp_path / "types.parquet"
    pq.write_table(table, path)
    with pytest.raises(InvalidRecords) as caught:
        read_transactions(path)
    assert [(e.record, e.field, e.reason) for e in caught.value.errors] == [
        ("row 0", "tx_id", "missing"),
        ("row 1", "tx_id", "expected text, got int"),
    ]
