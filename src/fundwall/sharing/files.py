"""The sharing hub's files: entries to publish, identifiers to match, and match results, as
CSV (UTF-8, a header row naming the columns, an empty cell is null) or Parquet (columns by
name). Errors name the CSV line (the header is line 1, so row i is line i + 2) or the
Parquet row (from 0), and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput
from fundwall.ingest.tabular import check_header, locate_csv_problem

FORMATS: Final = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
ENTRY_COLUMNS: Final = frozenset(
    {
        "kind",
        "key",
        "category",
        "evidence",
        "bank",
        "valid_from",
        "valid_until",
        "reference",
        "note",
        "replaces",
    }
)
ENTRY_REQUIRED: Final = ("kind", "key", "category", "evidence")
IDENTIFIER_COLUMNS: Final = frozenset({"kind", "key", "bank", "ref"})
"""`ref`: the member's own label of a row (its customer number), echoed in the hits and never
stored; 1 to 64 of A-Z a-z 0-9 . _ : - and no run of 11 digits (no ID or phone number)."""
IDENTIFIER_REQUIRED: Final = ("kind", "key")
_CSV_BLOCK: Final = 1 << 22
MAX_UNPACKED: Final = 512 * 2**20
"""The most bytes a Parquet file's columns may take uncompressed: twice the largest body a
route takes (`fundwall.api.sharing.FILE_BODY_BYTES`), room for a file of the most rows a route
takes, and no room for a small file that decompresses to gigabytes."""


@dataclass(frozen=True)
class TableFile:
    """A file read as a table, with how its rows are named in errors."""

    table: pa.Table
    file_format: str

    def locate(self, row: int) -> str:
        return f"line {row + 2}" if self.file_format == "csv" else f"row {row}"


def format_of(path: Path, given: str | None = None) -> str:
    """`csv` or `parquet`, as given or from the name's suffix."""
    kind = given or FORMATS.get(path.suffix.lower())
    if kind not in ("csv", "parquet"):
        raise InvalidInput(
            f"cannot tell the format of '{path.name}': name it .csv or .parquet", "path"
        )
    return kind


def read_file(
    source: Path | bytes,
    file_format: str,
    columns: Collection[str],
    required: Collection[str],
    *,
    max_rows: int | None = None,
) -> TableFile:
    """Read `source` (a path or the bytes of a file) of the given format, its columns among
    `columns` and holding `required`, every cell as text (a Parquet number or time as its
    text form), at most `max_rows` rows."""
    if isinstance(source, Path) and not source.is_file():
        raise InvalidInput(f"no such file: {source}", "path")
    if file_format == "csv":
        table = _read_csv(source, columns, required)
    elif file_format == "parquet":
        table = _read_parquet(source, columns, required, max_rows)
    else:
        raise InvalidInput("csv or parquet", "format")
    file = TableFile(table, file_format)
    if max_rows is not None and table.num_rows > max_rows:
        raise InvalidInput(f"{table.num_rows:,} rows; at most {max_rows:,} in one file", "file")
    return file


def _read_csv(
    source: Path | bytes, columns: Collection[str], required: Collection[str]
) -> pa.Table:
    raw = source.read_bytes()[: 1 << 16] if isinstance(source, Path) else source[: 1 << 16]
    first = raw.split(b"\n", 1)[0]
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the header is not UTF-8 text").at("line 1") from None
    try:
        header = next(csv.reader([line]), None)
    except csv.Error:  # a carriage return inside an unquoted name
        raise InvalidInput("the header is not a row of CSV").at("line 1") from None
    if not header:
        raise InvalidInput("the file is empty: a CSV file starts with a header row").at("line 1")
    header = [name.strip() for name in header]
    check_header(header, columns, required)
    readable = source if isinstance(source, Path) else io.BytesIO(source)
    try:
        return pa_csv.read_csv(
            readable,
            read_options=pa_csv.ReadOptions(
                block_size=_CSV_BLOCK, column_names=header, skip_rows=1
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        problem = locate_csv_problem(source, len(header), error, lambda number: f"line {number}")
        raise replace(problem, field=problem.field or "file") from None


def _read_parquet(
    source: Path | bytes,
    columns: Collection[str],
    required: Collection[str],
    max_rows: int | None,
) -> pa.Table:
    """The file's columns as text, after its footer is read and checked: a few kilobytes of
    Parquet can declare millions of rows or gigabytes of columns, so the rows (`max_rows`)
    and the bytes the columns take uncompressed (MAX_UNPACKED) are counted before any value
    is unpacked."""

    def readable() -> Path | pa.BufferReader:
        return source if isinstance(source, Path) else pa.BufferReader(source)

    try:
        footer = pq.read_metadata(readable())
        schema = footer.schema.to_arrow_schema()
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", "file") from None
    check_header(schema.names, columns, required)
    for field in schema:
        if pa.types.is_nested(field.type):
            raise InvalidInput(f"a column of text or numbers, not {field.type}", field.name)
    if max_rows is not None and footer.num_rows > max_rows:
        raise InvalidInput(f"{footer.num_rows:,} rows; at most {max_rows:,} in one file", "file")
    unpacked = sum(
        footer.row_group(group).column(column).total_uncompressed_size
        for group in range(footer.num_row_groups)
        for column in range(footer.num_columns)
    )
    if unpacked > MAX_UNPACKED:
        raise InvalidInput(
            f"the Parquet columns take {unpacked:,} bytes uncompressed; at most {MAX_UNPACKED:,}",
            "file",
        )
    try:
        table = pq.read_table(readable())
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", "file") from None
    return pa.table({name: _as_text(table.column(name), name) for name in table.column_names})


def _as_text(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """`column` as text (a number or a time in its text form); InvalidInput naming the
    column, and the first row that is not UTF-8 text."""
    if pa.types.is_dictionary(column.type):
        column = pa.chunked_array(
            [chunk.dictionary_decode() for chunk in column.chunks], column.type.value_type
        )
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowNotImplementedError:
        raise InvalidInput(f"a column of text or numbers, not {column.type}", name) from None
    except pa.ArrowInvalid:
        for row, value in enumerate(column.to_pylist()):
            if isinstance(value, bytes):
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidInput("not UTF-8 text", name).at(f"row {row}") from None
        raise InvalidInput(f"cannot be read as text ({column.type})", name) from None


def write_table(table: pa.Table, file_format: str) -> bytes:
    """`table` as the bytes of a CSV or Parquet file."""
    sink = pa.BufferOutputStream()
    if file_format == "csv":
        pa_csv.write_csv(table, sink)
    else:
        pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())
