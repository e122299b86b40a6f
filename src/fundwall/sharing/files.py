"""The sharing hub's files: entries to publish, identifiers to match, and match results, as
CSV (UTF-8, a header row naming the columns, an empty cell is null) or Parquet (columns by
name). Errors name the CSV line (the header is line 1, so row i is line i + 2) or the
Parquet row (from 0), and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput
from fundwall.ingest.tabular import check_header

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
) -> TableFile:
    """Read `source` (a path or the bytes of a file) of the given format, its columns among
    `columns` and holding `required`; CSV cells are read as text."""
    if isinstance(source, Path) and not source.is_file():
        raise InvalidInput(f"no such file: {source}", "path")
    if file_format == "csv":
        return TableFile(_read_csv(source, columns, required), "csv")
    if file_format != "parquet":
        raise InvalidInput("csv or parquet", "format")
    try:
        readable = source if isinstance(source, Path) else pa.BufferReader(source)
        table = pq.read_table(readable)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", "file") from None
    check_header(table.column_names, columns, required)
    return TableFile(table, "parquet")


def _read_csv(
    source: Path | bytes, columns: Collection[str], required: Collection[str]
) -> pa.Table:
    raw = source.read_bytes()[: 1 << 16] if isinstance(source, Path) else source[: 1 << 16]
    first = raw.split(b"\n", 1)[0]
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the header is not UTF-8 text").at("line 1") from None
    header = next(csv.reader([line]), None)
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
        raise InvalidInput(f"unreadable CSV: {error}", "file") from None


def write_table(table: pa.Table, file_format: str) -> bytes:
    """`table` as the bytes of a CSV or Parquet file."""
    sink = pa.BufferOutputStream()
    if file_format == "csv":
        pa_csv.write_csv(table, sink)
    else:
        pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())
