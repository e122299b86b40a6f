"""The Arrow schema of every file of a region folder (docs/data-layout.md explains each column).

The simulator and both importers write through `write_table`, so every region folder has the
same columns, types and bytes for the same content: rows in a fixed order, zstd compression,
no time of writing anywhere in the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput

FORMAT: Final = "fundwall-region/1"
TS: Final = pa.timestamp("us", tz="UTC")
ROW_GROUP: Final = 1_000_000

SCHEMAS: Final[dict[str, pa.Schema]] = {
    "institutions": pa.schema(
        [
            ("code", pa.string()),
            ("name_zh", pa.string()),
            ("name_en", pa.string()),
            ("kind", pa.string()),
            ("region_code", pa.string()),
            ("bin", pa.string()),
        ]
    ),
    "parties": pa.schema(
        [
            ("party_id", pa.string()),
            ("kind", pa.string()),
            ("name", pa.string()),
            ("id_number", pa.string()),
            ("phone", pa.string()),
            ("birth_date", pa.date32()),
            ("sex", pa.string()),
            ("region_code", pa.string()),
            ("home_district", pa.string()),
            ("owner_party_id", pa.string()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account_no", pa.string()),
            ("bank", pa.string()),
            ("party_id", pa.string()),
            ("account_class", pa.string()),
            ("status", pa.string()),
            ("risk_tier", pa.string()),
            ("opened_at", TS),
            ("opening_channel", pa.string()),
            ("opening_device_id", pa.string()),
            ("opening_agent", pa.string()),
            ("bound_account", pa.string()),
            ("opening_balance_fen", pa.int64()),
            ("last_active_at", TS),
        ]
    ),
    "devices": pa.schema(
        [
            ("device_id", pa.string()),
            ("kind", pa.string()),
            ("os", pa.string()),
            ("model", pa.string()),
            ("first_seen_at", TS),
            ("ip", pa.string()),
            ("city", pa.string()),
        ]
    ),
    "logins": pa.schema(
        [
            ("login_id", pa.string()),
            ("ts", TS),
            ("account_no", pa.string()),
            ("bank", pa.string()),
            ("device_id", pa.string()),
            ("ip", pa.string()),
            ("city", pa.string()),
            ("channel", pa.string()),
            ("face_check", pa.string()),
            ("success", pa.bool_()),
        ]
    ),
    "transactions": pa.schema(
        [
            ("tx_id", pa.string()),
            ("ts", TS),
            ("kind", pa.string()),
            ("payer_account", pa.string()),
            ("payee_account", pa.string()),
            ("payer_bank", pa.string()),
            ("payee_bank", pa.string()),
            ("amount_fen", pa.int64()),
            ("channel", pa.string()),
            ("device_id", pa.string()),
            ("ip", pa.string()),
            ("city", pa.string()),
            ("purpose", pa.string()),
        ]
    ),
    "tx_labels": pa.schema(
        [
            ("tx_id", pa.string()),
            ("role", pa.string()),
            ("scam_id", pa.string()),
        ]
    ),
    "account_labels": pa.schema(
        [
            ("account_no", pa.string()),
            ("is_mule", pa.bool_()),
            ("mule_since", TS),
            ("mule_level", pa.int8()),
            ("sold", pa.bool_()),
            ("sold_at", TS),
            ("mule_source", pa.string()),
            ("gang_id", pa.string()),
        ]
    ),
    "party_labels": pa.schema(
        [
            ("party_id", pa.string()),
            ("role", pa.string()),
            ("phone_issue", pa.string()),
        ]
    ),
    "scams": pa.schema(
        [
            ("scam_id", pa.string()),
            ("scam_type", pa.string()),
            ("victim_party_id", pa.string()),
            ("victim_account", pa.string()),
            ("gang_id", pa.string()),
            ("first_paid_at", TS),
            ("last_paid_at", TS),
            ("payments", pa.int32()),
            ("amount_fen", pa.int64()),
            ("levels", pa.int8()),
            ("cashed_out_fen", pa.int64()),
            ("report_id", pa.string()),
        ]
    ),
    "victim_reports": pa.schema(
        [
            ("report_id", pa.string()),
            ("line", pa.int32()),
            ("scam_id", pa.string()),
            ("reported_at", TS),
            ("police_unit", pa.string()),
            ("scam_type", pa.string()),
            ("victim_party_id", pa.string()),
            ("victim_account", pa.string()),
            ("victim_bank", pa.string()),
            ("payee_account", pa.string()),
            ("payee_bank", pa.string()),
            ("paid_at", TS),
            ("amount_fen", pa.int64()),
        ]
    ),
    "phone_registry": pa.schema(
        [
            ("phone", pa.string()),
            ("id_number", pa.string()),
            ("registered_at", TS),
            ("deregistered_at", TS),
        ]
    ),
}
FILES: Final = tuple(SCHEMAS)
_LOW_CARDINALITY: Final = frozenset(
    {
        "kind",
        "channel",
        "city",
        "purpose",
        "payer_bank",
        "payee_bank",
        "bank",
        "role",
        "account_class",
        "status",
        "risk_tier",
        "opening_channel",
        "face_check",
        "os",
        "model",
        "scam_type",
        "police_unit",
        "victim_bank",
        "mule_source",
        "gang_id",
        "phone_issue",
        "sex",
        "region_code",
        "home_district",
    }
)
"""Columns with few distinct values: dictionary-encoded. Identifiers are not, since a
dictionary of millions of ids only costs time (zstd compresses them as well either way)."""


def _options(schema: pa.Schema) -> dict[str, Any]:
    return {
        "compression": "zstd",
        "compression_level": 1,
        "use_dictionary": [f.name for f in schema if f.name in _LOW_CARDINALITY],
        "write_statistics": True,
    }


def write_table(out: Path, name: str, columns: dict[str, Any]) -> int:
    """Write one file of the folder with its fixed schema; returns the row count."""
    schema = SCHEMAS[name]
    table = pa.table({f.name: _array(columns[f.name], f.type) for f in schema}, schema=schema)
    pq.write_table(table, out / f"{name}.parquet", row_group_size=ROW_GROUP, **_options(schema))
    return int(table.num_rows)


def write_chunks(out: Path, name: str, chunks: Iterable[dict[str, Any]]) -> int:
    """Write a large file one row group at a time, so only one chunk of strings is built in
    memory at once; returns the row count."""
    schema = SCHEMAS[name]
    rows = 0
    with pq.ParquetWriter(out / f"{name}.parquet", schema, **_options(schema)) as writer:
        for columns in chunks:
            table = pa.table(
                {f.name: _array(columns[f.name], f.type) for f in schema}, schema=schema
            )
            writer.write_table(table, row_group_size=ROW_GROUP)
            rows += table.num_rows
    return rows


def _array(values: Any, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(kind) if values.type != kind else values
    return pa.array(values, type=kind)


def write_manifest(out: Path, **fields: Any) -> None:
    """manifest.json: format, source and period of the folder; keys sorted, no write time."""
    body = {"format": FORMAT, "files": [f"{name}.parquet" for name in FILES], **fields}
    (out / "manifest.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")


def read_table(folder: Path, name: str) -> pa.Table:
    """Read one file of a region folder; InvalidInput if its columns are not the layout's."""
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise InvalidInput(f"{folder} has no {name}.parquet", "folder")
    expected = SCHEMAS[name]
    found = pq.read_schema(path)
    missing = [f.name for f in expected if found.get_field_index(f.name) < 0]
    if missing:
        raise InvalidInput(f"{path.name} lacks the column(s) {', '.join(missing)}", "folder")
    try:
        return pq.read_table(path, columns=expected.names, schema=expected)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InvalidInput(
            f"{path.name} does not have the layout's column types: {error}", "folder"
        ) from None
