"""A batch of transactions in any of the API's formats → one validated Arrow table.

The batch route (`POST /v1/transactions/batch`) takes a JSON array, NDJSON (one JSON object a
line), CSV (a header row, then one record a line) or Parquet. Each is read into Arrow columns
and checked by column (`validate_table`), so a batch costs a few microseconds a record
to read rather than one domain object built and checked field by field. Errors name the
record by its 0-based index in the batch (the CSV data row, the NDJSON line, the Parquet
row) and the field, as the JSON array's always did; a batch holds 1 to `MAX_BATCH` records.

`transactions_of(table)` turns a validated table into the domain's transactions, without
checking each value again: `validate_table` vouched for every row.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Final

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from fundwall.domain._fields import assembled
from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money
from fundwall.domain.transactions import COLUMNS, Channel, Transaction, TransactionKind
from fundwall.ingest.columnar import validate_table
from fundwall.ingest.json_api import MAX_BATCH, TransactionIn, parse_transaction
from fundwall.ingest.tabular import read_csv_bytes, read_parquet_bytes

JSON: Final = "application/json"
NDJSON: Final = "application/x-ndjson"
CSV: Final = "text/csv"
PARQUET: Final = "application/vnd.apache.parquet"
BATCH_MEDIA_TYPES: Final = (JSON, NDJSON, CSV, PARQUET)
"""The media types of a batch body, JSON first (a `+json` type is JSON too). Parquet is sent
as its registered type only: `application/octet-stream` says nothing of the content."""

MAX_PARQUET_UNPACKED: Final = 64 * 2**20
"""The most a Parquet batch's columns may take uncompressed: four times the largest batch body
(16 MiB), where 10,000 transactions take a few megabytes."""

_NDJSON_SCHEMA: Final = pa.schema(
    [
        (name, pa.int64() if name == "amount_fen" else pa.large_string())
        for name in (*COLUMNS, "amount")
    ]
)
"""NDJSON as `TransactionIn` types it: text everywhere, the fen a whole number."""
_JSON_FIELDS: Final = frozenset(_NDJSON_SCHEMA.names)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS: Final = {kind.value: kind for kind in TransactionKind}
_CHANNELS: Final = {channel.value: channel for channel in Channel}


def _record(index: int) -> str:
    return str(index)


def _cite(index: int) -> str:
    return f"record {index}"


def read_batch(body: bytes, media_type: str) -> pa.Table:
    """The validated transactions of a batch body of `media_type` (NDJSON, CSV or Parquet;
    a JSON array is parsed by the API's model first, then `table_of_records`)."""
    if media_type == NDJSON:
        table = _read_ndjson(body)
    elif media_type == CSV:
        table = read_csv_bytes(body, _record)
    elif media_type == PARQUET:
        table = read_parquet_bytes(body, max_rows=MAX_BATCH, max_unpacked=MAX_PARQUET_UNPACKED)
    else:
        raise ValueError(f"not a batch format: {media_type}")
    return _validated(table)


def table_of_records(records: list[TransactionIn]) -> pa.Table:
    """The validated transactions of a JSON array whose records the model typed."""
    return _validated(pa.Table.from_pylist([dict(record) for record in records], _NDJSON_SCHEMA))


def read_json_array(body: bytes) -> pa.Table | None:
    """The validated transactions of a JSON array body whose records certainly pass the model
    (`TransactionIn`: objects of known fields, text where text goes, a whole number of fen);
    None when not sure, and the model reads the body to say what is wrong. A good batch is so
    spared the model's pass, most of the cost of reading it (as `validate_table` spares the
    domain's)."""
    try:
        records = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(records) is not list or not records or len(records) > MAX_BATCH:
        return None
    if not all(type(record) is dict for record in records):
        return None
    if not set().union(*records) <= _JSON_FIELDS:
        return None
    for record in records:
        fen = record.get("amount_fen")
        if fen is not None and type(fen) is not int:  # Arrow would read 12.5 as 12
            return None
    try:
        # Arrow takes nothing but text (or null) into a text column: the model's StrictStr.
        table = pa.Table.from_pylist(records, _NDJSON_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    return _validated(table)


def _validated(table: pa.Table) -> pa.Table:
    rows = table.num_rows
    if rows == 0:
        raise InvalidInput(f"empty batch: send 1 to {MAX_BATCH:,} transactions")
    if rows > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} transactions, got {rows:,}")
    return validate_table(table, _record, cite=_cite)


def _read_ndjson(body: bytes) -> pa.Table:
    """Arrow reads well-formed NDJSON; any other is read line by line with the JSON model to
    say which record and field is wrong (Arrow's errors name neither)."""
    try:
        return pa_json.read_json(
            io.BytesIO(body),
            parse_options=pa_json.ParseOptions(
                explicit_schema=_NDJSON_SCHEMA, unexpected_field_behavior="error"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        return _NDJSON_SCHEMA.empty_table()
    if len(lines) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} transactions, got {len(lines):,}")
    for index, line in enumerate(lines):
        try:
            parse_transaction(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"malformed JSON: {error}").at(index) from None
        except InvalidInput as error:
            raise error.at(index) from None
    # Each line passes the model, yet Arrow refused the whole: say so rather than guess.
    raise InvalidInput("unreadable NDJSON: send one JSON object a line, in UTF-8")


def transactions_of(table: pa.Table) -> list[Transaction]:
    """The transactions of a table that `validate_table` returned, in its row order.

    Built column by column (`assembled`) without checking each value again: `validate_table`
    vouched for every row, and a transaction built and checked field by field cost more than
    the rest of reading a batch."""
    rows = table.num_rows
    micros = table.column("ts").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
    fens = table.column("amount_fen").to_pylist()
    values: dict[str, list[object]] = {
        "ts": [_EPOCH + timedelta(microseconds=us) for us in micros],
        "kind": list(map(_KINDS.__getitem__, table.column("kind").to_pylist())),
        "amount": assembled(Money, {"fen": fens}, rows),
        "channel": list(map(_CHANNELS.__getitem__, table.column("channel").to_pylist())),
    }
    for name in COLUMNS:
        if name not in values and name != "amount_fen":
            values[name] = table.column(name).to_pylist()
    return assembled(Transaction, values, rows)
