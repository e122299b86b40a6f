"""Transaction files: CSV and Parquet → a validated table in the transactions.parquet layout.

CSV: UTF-8 (a byte-order mark is allowed), a header row naming the columns, one record per
line, an empty cell is null. Parquet: the columns by name, any row groups. Both take the
columns of docs/design.md, with the amount as `amount_fen` (whole fen) or `amount` (yuan as
text, e.g. 1234.56); absent optional columns are null. Errors name the CSV line (the header is
line 1, so row i is line i + 2) or the Parquet row index (from 0).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import REQUIRED
from fundwall.ingest.columnar import INPUT_COLUMNS, validate_table
from fundwall.ingest.errors import MAX_ERRORS

FORMATS: Final = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_CSV_BLOCK: Final = 1 << 22


def read_transactions(
    path: str | Path, *, file_format: str | None = None, max_errors: int = MAX_ERRORS
) -> pa.Table:
    """Read and validate a CSV or Parquet file of transactions (format from the suffix).

    Returns the rows in file order in `fundwall.region.TRANSACTIONS`, or raises `InvalidInput` (an
    `InvalidRecords` when several rows are bad) naming each bad row, its field and why.
    """
    path = Path(path)
    kind = file_format or FORMATS.get(path.suffix.lower())
    if kind not in ("csv", "parquet"):
        raise InvalidInput(
            f"cannot tell the format of '{path.name}': name it .csv or .parquet", "path"
        )
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", "path")
    if kind == "csv":
        return validate_table(_read_csv(path), _csv_line, max_errors=max_errors)
    return validate_table(_read_parquet(path), _parquet_row, max_errors=max_errors)


def _csv_line(row: int) -> str:
    return f"line {row + 2}"


def _parquet_row(row: int) -> str:
    return f"row {row}"


def check_header(names: list[str], columns: Collection[str], required: Collection[str]) -> None:
    """The header names only `columns`, each once, and every one of `required`."""
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise InvalidInput("column named more than once", repeated[0])
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise InvalidInput(
            f"unknown column; the columns are {', '.join(sorted(columns))}", unknown[0]
        )
    for name in required:
        if name not in names:
            raise InvalidInput("required column is missing", name)


def check_columns(names: list[str]) -> None:
    """The header names known columns, each once, with the required ones and an amount."""
    check_header(names, INPUT_COLUMNS, REQUIRED)
    if "amount_fen" not in names and "amount" not in names:
        raise InvalidInput("give the amount as an amount_fen or an amount column", "amount_fen")


def _read_csv(path: Path) -> pa.Table:
    header = _csv_header(path)
    check_columns(header)
    try:
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=_CSV_BLOCK),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.large_string() for name in header},
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        raise _locate_csv_problem(path, len(header), error) from None


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as stream:
        first = stream.readline()
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the header is not UTF-8 text").at("line 1") from None
    header = next(csv.reader([line]), None)
    if not header:
        raise InvalidInput("the file is empty: a CSV file starts with a header row").at("line 1")
    return header


def _locate_csv_problem(path: Path, columns: int, error: pa.ArrowInvalid) -> InvalidInput:
    """Find the line Arrow stumbled on (it does not say), re-reading the file line by line."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                return InvalidInput("not UTF-8 text").at(f"line {number}")
            fields = next(csv.reader([line]), [])
            if line.strip("\r\n") and len(fields) != columns:
                return InvalidInput(
                    f"expected {columns} fields, got {len(fields)} (a value may not span lines)"
                ).at(f"line {number}")
    return InvalidInput(f"unreadable CSV: {error}")


def _read_parquet(path: Path) -> pa.Table:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", "path") from None
    check_columns(list(schema.names))
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", "path") from None
