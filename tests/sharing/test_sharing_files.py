"""The sharing hub's files as a hostile member may send them: every cell read as text, a
Parquet file that declares more rows or bytes than allowed refused from its footer, columns
that hold no text, bytes that are not UTF-8 and ragged CSV rows refused naming the column
and the row."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.sharing import files
from fundwall.sharing.files import (
    ENTRY_COLUMNS,
    ENTRY_REQUIRED,
    IDENTIFIER_COLUMNS,
    IDENTIFIER_REQUIRED,
    read_file,
)
from fundwall.sharing.risk_list import entries_of

HASH = "v1:" + "ab" * 32


def _parquet(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", **options)  # type: ignore[arg-type]
    return sink.getvalue()


def _repeated(value: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), [value])


def _identifiers(body: bytes, file_format: str = "parquet", max_rows: int = 1_000) -> None:
    read_file(body, file_format, IDENTIFIER_COLUMNS, IDENTIFIER_REQUIRED, max_rows=max_rows)


@pytest.mark.parametrize("store_schema", [True, False])
def test_a_small_file_of_too_many_rows_is_refused_before_it_is_unpacked(
    store_schema: bool,
) -> None:
    table = pa.table({"kind": _repeated("id_hash", 1_001), "key": _repeated(HASH, 1_001)})
    body = _parquet(table, store_schema=store_schema)
    assert len(body) < 10_000
    with pytest.raises(InvalidInput) as refused:
        _identifiers(body)
    assert refused.value.field == "file" and "1,001 rows; at most 1,000" in refused.value.reason
    _identifiers(_parquet(table.slice(0, 1_000), store_schema=store_schema))


def test_a_file_whose_columns_decompress_beyond_the_limit_is_refused_from_its_footer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "MAX_UNPACKED", 2**20)
    rows = 20_000
    table = pa.table({"kind": ["id_hash"] * rows, "key": [HASH] * rows})
    body = _parquet(table, use_dictionary=False)
    assert len(body) < 2**16
    with pytest.raises(InvalidInput) as refused:
        _identifiers(body, max_rows=rows)
    assert refused.value.field == "file" and "bytes uncompressed" in refused.value.reason
    _identifiers(_parquet(table.slice(0, 5_000), use_dictionary=False), max_rows=rows)


@pytest.mark.parametrize(
    ("column", "words"),
    [
        (pa.array([["id_hash"]]), "list"),
        (pa.array([{"a": 1}]), "struct"),
    ],
)
def test_a_column_that_holds_no_text_is_refused_naming_it(column: pa.Array, words: str) -> None:
    body = _parquet(pa.table({"kind": column, "key": [HASH]}))
    with pytest.raises(InvalidInput) as refused:
        _identifiers(body)
    assert refused.value.field == "kind" and words in refused.value.reason


def test_bytes_that_are_not_utf8_are_refused_naming_row_and_column() -> None:
    keys = pa.array([HASH.encode(), b"\xff\xfe"], pa.binary())
    body = _parquet(pa.table({"kind": ["id_hash", "id_hash"], "key": keys}))
    with pytest.raises(InvalidInput) as refused:
        _identifiers(body)
    assert (refused.value.record, refused.value.field) == ("row 1", "key")


def test_a_ragged_csv_row_is_named_by_its_line() -> None:
    body = f"kind,key\nid_hash,{HASH}\ndevice,dev-1,extra\n".encode()
    with pytest.raises(InvalidInput) as refused:
        _identifiers(body, "csv")
    assert refused.value.record == "line 3" and "expected 2 fields, got 3" in refused.value.reason
    assert refused.value.field == "file"


def test_a_carriage_return_inside_a_csv_header_is_refused_naming_line_1() -> None:
    with pytest.raises(InvalidInput) as refused:
        _identifiers(b"kind\rkey\nid_hash,x\n", "csv")
    assert refused.value.record == "line 1"


def test_parquet_numbers_and_times_are_read_as_their_text() -> None:
    """A Parquet time with its zone is a valid time; one without a zone, a date or a number is
    refused naming the field, never taken as no time at all."""
    until = datetime(2099, 1, 1, tzinfo=UTC)
    entry = {
        "kind": ["account"],
        "key": pa.array([6222021234567890128], pa.int64()),
        "bank": pa.array([301], pa.int64()),
        "category": ["mule"],
        "evidence": ["member_verified"],
    }

    def entries(valid_until: pa.Array) -> list[object]:
        body = _parquet(pa.table({**entry, "valid_until": valid_until}))
        file = read_file(body, "parquet", ENTRY_COLUMNS, ENTRY_REQUIRED, max_rows=10)
        return list(entries_of(file.table.to_pylist(), file.locate))

    (read,) = entries(pa.array([until], pa.timestamp("us", tz="UTC")))
    assert (read.key, read.bank, read.valid_until) == (  # type: ignore[attr-defined]
        "6222021234567890128", "301", until,
    )  # fmt: skip
    for bad in (
        pa.array([until.replace(tzinfo=None)], pa.timestamp("us")),
        pa.array([until.date()], pa.date32()),
        pa.array([4_070_908_800], pa.int64()),
    ):
        with pytest.raises(InvalidInput) as refused:
            entries(bad)
        assert (refused.value.record, refused.value.field) == ("row 0", "valid_until"), bad.type
