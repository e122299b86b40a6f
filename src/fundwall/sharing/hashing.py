"""The member's side of sharing: raw identifiers hashed where they are, so the hub receives
a resident ID, a credit code or a phone only as its shared hash.

    fundwall share hash customers.csv --kind id --key-file share-v3.key --out hashed.csv

The input (CSV or Parquet) has a column `value` (the raw identifier) and may have a column
`ref` (the member's own label of the row, e.g. its customer number). Each value is checked as
the domain checks it (a resident ID's check character and birth date, a mainland mobile
segment, a credit code's check character) and hashed with the key file's version. The
output has `kind`, `key` (`vN:<hex>`) and `ref` (the input's, else the input row's number):
a file the hub's bulk match takes, and whose hits the member maps back by `ref`. A bad row
refuses the file, naming row and field, unless `skip_bad` (then it is reported and left
out). The raw value never appears in the output or in an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa

from fundwall.crypto import CREDIT_CODE_HASH_KIND, ID_HASH_KIND, PHONE_HASH_KIND, SharingKeys
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.engine.controls.model import ListKind
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
from fundwall.sharing.files import TableFile, read_file

HASH_KINDS: Final = {
    ID_HASH_KIND: ListKind.ID_HASH,
    PHONE_HASH_KIND: ListKind.PHONE_HASH,
    CREDIT_CODE_HASH_KIND: ListKind.CREDIT_CODE_HASH,
}
_PARSERS: Final[dict[str, Callable[..., ResidentId | MobilePhone | CreditCode]]] = {
    ID_HASH_KIND: ResidentId.parse,
    PHONE_HASH_KIND: MobilePhone.parse,
    CREDIT_CODE_HASH_KIND: CreditCode.parse,
}
RAW_COLUMNS: Final = frozenset({"value", "ref"})


@dataclass(frozen=True)
class Hashed:
    """The hashed rows as a table (`kind`, `key`, `ref`) and the rows left out as bad."""

    table: pa.Table
    bad: list[InvalidInput]


def hash_identifiers(file: TableFile, kind: str, keys: SharingKeys, *, skip_bad: bool) -> Hashed:
    """Check and hash every `value` of `file` as `kind` (`id`, `phone`, `credit_code`) with
    the current version of `keys`; see the module docstring."""
    if kind not in HASH_KINDS:
        raise InvalidInput(f"one of {', '.join(HASH_KINDS)}", "kind")
    parse = _PARSERS[kind]
    values = file.table.column("value").to_pylist()
    refs = (
        file.table.column("ref").to_pylist()
        if "ref" in file.table.column_names
        else [str(i) for i in range(len(values))]
    )
    hashed: list[str] = []
    labels: list[str] = []
    bad: list[InvalidInput] = []
    for i, (value, ref) in enumerate(zip(values, refs, strict=True)):
        try:
            if value is None:
                raise InvalidInput("required", "value")
            identity = parse(str(value), field="value")
            if ref is None:
                raise InvalidInput("required when the column is given", "ref")
            hashed.append(keys.hash(kind, identity.number))
            labels.append(str(ref))
        except InvalidInput as error:
            bad.append(error.at(file.locate(i)))
    if bad and not skip_bad:
        raise _several(bad)
    table = pa.table(
        {
            "kind": pa.array([HASH_KINDS[kind].value] * len(hashed), pa.string()),
            "key": pa.array(hashed, pa.string()),
            "ref": pa.array(labels, pa.string()),
        }
    )
    return Hashed(table, bad)


def _several(bad: list[InvalidInput]) -> InvalidInput:
    return InvalidRecords.of(bad[:MAX_ERRORS], more=len(bad) > MAX_ERRORS)


def read_raw(path: Path, file_format: str) -> TableFile:
    """A member's file of raw identifiers (`value`, optional `ref`)."""
    return read_file(path, file_format, RAW_COLUMNS, ("value",))
