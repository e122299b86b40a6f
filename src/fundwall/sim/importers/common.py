"""What both importers share: strict field parsing with line numbers, and writing a region
folder all at once (into a temporary folder beside the target, renamed into place only when
every file is written), so a failed import never leaves half a folder behind."""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from fundwall.domain.errors import InvalidInput
from fundwall.region import FILES, SCHEMAS, write_manifest, write_table
from fundwall.sim.firms import credit_code
from fundwall.sim.params import BEHAVIOUR
from fundwall.sim.people import (
    birth_dates,
    chinese_names,
    draw_ages,
    phone_numbers,
    region_codes,
    resident_ids,
)
from fundwall.sim.region import DISTRICTS

MAX_FEN = 999_999_999_999_999
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class BadRow:
    """A malformed input row: where it is and what is wrong with it."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"


@dataclass(slots=True)
class ImportResult:
    """What an import read, what it wrote, and every row it could not use."""

    rows: int = 0
    bad: list[BadRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    """Well-formed rows the source marks as refused (no money moved), left out."""

    @property
    def written(self) -> bool:
        return bool(self.counts)


def fen(text: str, what: str, *, positive: bool, signed: bool = False) -> int:
    """An amount in yuan written as a decimal number, rounded half up to the fen: more than 0
    when `positive`, any sign when `signed` (a balance that may be overdrawn), else 0 or more.

    The public data sets print floating-point values; rounding the decimal text (never a
    binary float) gives the nearest fen, ties away from zero."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(f"{what} is not a number: {text.strip()[:30]!r}", what) from None
    if not value.is_finite():
        raise InvalidInput(f"{what} is not a finite number", what)
    amount = int((value.quantize(_CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())
    if (amount < 0 and not signed) or (positive and amount <= 0):
        raise InvalidInput(f"{what} must be {'positive' if positive else 'zero or more'}", what)
    if abs(amount) > MAX_FEN:
        raise InvalidInput(f"{what} is too large", what)
    return amount


def whole(text: str, what: str, *, minimum: int, maximum: int | None = None) -> int:
    """A whole number (no sign other than a leading minus, no decimals) in minimum..maximum."""
    stripped = text.strip()
    digits = stripped[1:] if stripped.startswith("-") else stripped
    if not digits.isascii() or not digits.isdigit():
        raise InvalidInput(f"{what} is not a whole number: {stripped[:30]!r}", what)
    value = int(stripped)
    if value < minimum:
        raise InvalidInput(f"{what} must be at least {minimum}, got {value}", what)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{what} must be at most {maximum}, got {value}", what)
    return value


_FLAGS = {"0": False, "1": True, "0.0": False, "1.0": True, "false": False, "true": True}


def flag(text: str, what: str) -> bool:
    """A yes/no label as the data sets and their re-exports write it: `0`/`1`, `0.0`/`1.0`
    (a column that went through a float), `true`/`false` in any case (Java and pandas)."""
    value = _FLAGS.get(text.strip().casefold())
    if value is None:
        raise InvalidInput(
            f"{what} must be 0 or 1 (or true/false), got {text.strip()[:30]!r}", what
        )
    return value


@dataclass(frozen=True, slots=True)
class Column:
    """A column an importer reads: its name, the other names sources give it, and whether a
    file without it can be imported. Header cells match case-insensitively, spaces trimmed."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _key(text: str) -> str:
    return text.strip().casefold()


def has_columns(path: Path, columns: tuple[Column, ...]) -> bool:
    """Whether the header of `path` names every required column (to tell layouts apart)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = {_key(cell) for cell in next(csv.reader(handle), [])}
    return all(
        any(_key(s) in header for s in column.spellings()) for column in columns if column.required
    )


def _positions(path: Path, header: list[str], columns: tuple[Column, ...]) -> dict[str, int]:
    """Where each column is in the header; a missing required column or a column given
    twice is an error for the whole file."""
    cells = [_key(cell) for cell in header]
    found = ",".join(cell.strip() for cell in header)[:200] or "an empty file"
    positions: dict[str, int] = {}
    for column in columns:
        names = {_key(s) for s in column.spellings()}
        at = [i for i, cell in enumerate(cells) if cell in names]
        if len(at) > 1:
            twice = " and ".join(repr(header[i].strip()) for i in at)
            raise InvalidInput(f"{path.name}: {twice} both give {column.name}", column.name)
        if at:
            positions[column.name] = at[0]
        elif column.required:
            others = f" (or {', '.join(column.aliases)})" if column.aliases else ""
            raise InvalidInput(
                f"{path.name}: no column {column.name}{others}; the header is {found}",
                column.name,
            )
    return positions


def csv_rows(
    path: Path, columns: tuple[Column, ...], bad: list[BadRow]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column name: text}) of each data row, in file order; an optional
    column the file lacks is absent from the dict, and columns the importer does not read
    are ignored. A header without a required column is an error for the whole file; a row
    with another number of fields than the header is a bad row."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", "source")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        positions = _positions(path, header, columns)
        for row in reader:
            line = reader.line_num
            if not row or row == [""]:
                continue
            if len(row) != len(header):
                bad.append(
                    BadRow(path.name, line, f"expected {len(header)} fields, got {len(row)}")
                )
                continue
            yield line, {name: row[at] for name, at in positions.items()}


def ensure_free(out: Path) -> None:
    """Refuse an output folder that already holds something (checked before any work)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"the output folder {out} exists and is not empty", "out")


def write_folder(out: Path, tables: dict[str, dict[str, Any]], **manifest: Any) -> dict[str, int]:
    """Write every file of a region folder (empty files for those the source lacks)."""
    ensure_free(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        counts = {}
        for name in FILES:
            columns = tables.get(name) or {f.name: [] for f in SCHEMAS[name]}
            counts[name] = write_table(staging, name, columns)
        write_manifest(staging, **manifest)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def synthetic_parties(party_ids: list[str], firm: list[bool], seed: int) -> dict[str, Any]:
    """parties.parquet columns for a source without people: a generated, valid identity for
    each party (ID number or credit code, name, phone, home district), drawn from a fixed
    seed so an import is reproducible. The sources are anonymous; these identities only let
    an imported folder meet the same contract as a simulated one (and load into the store).
    The birth date and sex inside a generated ID number are not the holder's: `birth_date`
    and `sex` are null (unknown), so no feature reads an invented age.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    persons = [i for i, f in enumerate(firm) if not f]
    age = draw_ages(rng, len(persons))
    birth = birth_dates(rng, age)
    male = rng.random(len(persons)) < 0.5
    codes, district = region_codes(rng, len(persons), BEHAVIOUR.home_share)
    ids = resident_ids(rng, codes, birth, male, set())
    phones = phone_numbers(rng, len(firm), set())
    names = chinese_names(rng, len(persons))
    n = len(party_ids)
    cols: dict[str, list[Any]] = {
        "id_number": [None] * n,
        "name": [None] * n,
        "birth_date": [None] * n,
        "sex": [None] * n,
        "region_code": [None] * n,
        "home_district": [None] * n,
    }
    for k, i in enumerate(persons):
        cols["id_number"][i] = ids[k]
        cols["name"][i] = names[k]
        cols["region_code"][i] = codes[k]
        cols["home_district"][i] = DISTRICTS[int(district[k])][0]
    serials = rng.choice(90_000_000, size=max(n - len(persons), 1), replace=False)
    for k, i in enumerate(i for i, f in enumerate(firm) if f):
        region = DISTRICTS[k % len(DISTRICTS)][0]
        cols["id_number"][i] = credit_code("1", region, 10_000_000 + int(serials[k]))
        cols["name"][i] = f"商户{party_ids[i]}"
        cols["region_code"][i] = region
    return {
        "party_id": party_ids,
        "kind": ["firm" if f else "person" for f in firm],
        **cols,
        "phone": phones,
        "owner_party_id": [None] * n,
    }


def single_institution(code: str, name_en: str, name_zh: str, kind: str) -> dict[str, list[Any]]:
    """institutions.parquet for a source that knows one institution."""
    return {
        "code": [code],
        "name_zh": [name_zh],
        "name_en": [name_en],
        "kind": [kind],
        "region_code": ["350200"],
        "bin": [None],
    }
