"""Transaction files: CSV and Parquet → a validated table in the transactions.parquet layout.

CSV: UTF-8 (a byte-order mark is allowed), a header row naming the columns, one record per
line, an empty cell is null. Parquet: the columns by name, any row groups. Both take the
columns of docs/design.md, with the amount as `amount_fen` (whole fen) or `amount` (yuan as
text, e.g. 1234.56); absent optional columns are null. Errors name the CSV line (the header is
line 1, so row i is line i + 2) or the Parquet row index (from 0).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path
from typing import BinaryIO, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import REQUIRED
from fundwall.ingest.columnar import INPUT_COLUMNS, Locate, validate_table
from fundwall.ingest.errors import MAX_ERRORS

FORMATS: Final = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_CSV_BLOCK: Final = 1 << 22
Source = Path | bytes
"""A file, or a body already in memory."""


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
    return _csv_table(path, lambda line: f"line {line}")


def read_csv_bytes(data: bytes, locate: Locate) -> pa.Table:
    """The cells of a CSV body as text (nulls for empty cells), unvalidated; an error names a
    bad data row by `locate(row)` (the row after the header is 0)."""
    return _csv_table(data, lambda line: locate(line - 2) if line > 1 else None)


LineLabel = Callable[[int], str | None]
"""How an error names line `number` (from 1) of a CSV input; None: the input as a whole."""


def _at(error: InvalidInput, where: str | None) -> InvalidInput:
    return error if where is None else error.at(where)


def _csv_table(source: Source, at_line: LineLabel) -> pa.Table:
    header = _csv_header(source, at_line)
    check_columns(header)
    try:
        with _open(source) as stream:
            return pa_csv.read_csv(
                stream,
                read_options=pa_csv.ReadOptions(block_size=_CSV_BLOCK),
                parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.large_string() for name in header},
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
    except pa.ArrowInvalid as error:
        raise locate_csv_problem(source, len(header), error, at_line) from None


def _open(source: Source) -> BinaryIO:
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


def _csv_header(source: Source, at_line: LineLabel) -> list[str]:
    with _open(source) as stream:
        first = stream.readline()
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _at(InvalidInput("the header is not UTF-8 text"), at_line(1)) from None
    try:
        header = next(csv.reader([line]), None)
    except csv.Error as error:
        raise _at(InvalidInput(f"the header is not a CSV row: {error}"), at_line(1)) from None
    if not header:
        empty = InvalidInput("the file is empty: a CSV file starts with a header row")
        raise _at(empty, at_line(1))
    return header


def locate_csv_problem(
    source: Source, columns: int, error: pa.ArrowInvalid, at_line: LineLabel
) -> InvalidInput:
    """Find the line Arrow stumbled on (it does not say), re-reading the file line by line."""
    with _open(source) as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                return _at(InvalidInput("not UTF-8 text"), at_line(number))
            try:
                fields = next(csv.reader([line]), [])
            except csv.Error as bad:
                return _at(InvalidInput(f"not a CSV row: {bad}"), at_line(number))
            if line.strip("\r\n") and len(fields) != columns:
                wrong = f"expected {columns} fields, got {len(fields)} (a value may not span lines)"
                return _at(InvalidInput(wrong), at_line(number))
    return InvalidInput(f"unreadable CSV: {error}")


def _read_parquet(path: Path) -> pa.Table:
    return _parquet_table(path, _footer(path, "path"), "path")


def read_parquet_bytes(data: bytes, *, max_rows: int, max_unpacked: int) -> pa.Table:
    """The columns of a Parquet body, unvalidated. Its footer is read first: a few kilobytes
    of Parquet can hold millions of rows or a string of hundreds of megabytes, so a body
    declaring more than `max_rows` rows or `max_unpacked` bytes of uncompressed columns is
    refused before anything is decompressed."""
    source = pa.BufferReader(data)
    footer = _footer(source, None)
    if footer.num_rows > max_rows:
        raise InvalidInput(
            f"a batch holds at most {max_rows:,} transactions, got {footer.num_rows:,}"
        )
    unpacked = sum(
        footer.row_group(group).column(column).total_uncompressed_size
        for group in range(footer.num_row_groups)
        for column in range(footer.num_columns)
    )
    if unpacked > max_unpacked:
        raise InvalidInput(
            f"the Parquet columns take {unpacked:,} bytes uncompressed; "
            f"a batch may take at most {max_unpacked:,}"
        )
    return _parquet_table(source, footer, None)


def _footer(source: Path | pa.BufferReader, field: str | None) -> pq.FileMetaData:
    try:
        return pq.read_metadata(source)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", field) from None


def _parquet_table(
    source: Path | pa.BufferReader, footer: pq.FileMetaData, field: str | None
) -> pa.Table:
    check_columns(list(footer.schema.to_arrow_schema().names))
    try:
        return pq.read_table(source)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", field) from None
