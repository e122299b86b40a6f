"""Reading and writing the files of a region folder, each in its fixed schema.

The simulator and both importers write through `write_table`, so every region folder has the
same columns, types and bytes for the same content: rows in a fixed order, zstd compression,
no time of writing anywhere in the file.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput
from fundwall.region.schema import FILES, FORMAT, NULL_WHEN_ABSENT, SCHEMAS

ROW_GROUP: Final = 1_000_000
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
        "network_id",
        "phone_issue",
        "check",
        "planted",
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
    table = _table(name, columns)
    pq.write_table(table, out / f"{name}.parquet", row_group_size=ROW_GROUP, **_options(schema))
    return int(table.num_rows)


def write_chunks(out: Path, name: str, chunks: Iterable[dict[str, Any]]) -> int:
    """Write a large file one row group at a time, so only one chunk of strings is built in
    memory at once; returns the row count."""
    schema = SCHEMAS[name]
    rows = 0
    with pq.ParquetWriter(out / f"{name}.parquet", schema, **_options(schema)) as writer:
        for columns in chunks:
            table = _table(name, columns)
            writer.write_table(table, row_group_size=ROW_GROUP)
            rows += table.num_rows
    return rows


def _table(name: str, columns: dict[str, Any]) -> pa.Table:
    """The columns as a table of the file's schema; a column of NULL_WHEN_ABSENT that the
    writer left out is all null."""
    schema = SCHEMAS[name]
    given = {f.name: _array(columns[f.name], f.type) for f in schema if f.name in columns}
    rows = len(next(iter(given.values()))) if given else 0
    for f in schema:
        if f.name in given:
            continue
        if f.name not in NULL_WHEN_ABSENT.get(name, ()):
            raise KeyError(f"{name}.parquet needs the column {f.name}")
        given[f.name] = pa.nulls(rows, f.type)
    return pa.table({f.name: given[f.name] for f in schema}, schema=schema)


def _array(values: Any, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(kind) if values.type != kind else values
    return pa.array(values, type=kind)


def write_manifest(out: Path, **fields: Any) -> None:
    """manifest.json: format, source and period of the folder; keys sorted, no write time."""
    body = {"format": FORMAT, "files": [f"{name}.parquet" for name in FILES], **fields}
    (out / "manifest.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")


def read_table(
    folder: Path,
    name: str,
    columns: Sequence[str] | None = None,
    *,
    dictionary: bool = False,
    coded: Collection[str] = (),
) -> pa.Table:
    """Read one file of a region folder (only `columns` of it, when given); InvalidInput if
    its columns are not the layout's. With `dictionary`, the columns of few values come as
    dictionary arrays, as the file stores them: a large region's transactions then take a
    quarter less memory, and a reader that codes the values finds them coded. The columns
    named in `coded` come as dictionary arrays too, their values hashed as they are read
    (identifiers that the reader would code anyway)."""
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise InvalidInput(f"{folder} has no {name}.parquet", "folder")
    expected = SCHEMAS[name]
    if dictionary or coded:
        expected = pa.schema(
            [
                f.with_type(pa.dictionary(pa.int32(), f.type))
                if (dictionary and f.name in _LOW_CARDINALITY) or f.name in coded
                else f
                for f in expected
            ]
        )
    found = pq.read_schema(path)
    missing = [f.name for f in expected if found.get_field_index(f.name) < 0]
    if missing:
        raise InvalidInput(f"{path.name} lacks the column(s) {', '.join(missing)}", "folder")
    try:
        names = expected.names if columns is None else list(columns)
        return pq.read_table(path, columns=names, schema=expected)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InvalidInput(
            f"{path.name} does not have the layout's column types: {error}", "folder"
        ) from None
