"""Turn a transactions table into the integer columns the kernels read.

Accounts (payer and payee share one code space), devices, IPs and cities are dictionary-encoded
to dense ints (-1 for null); time becomes int64 µs; the flag features come straight from
Arrow compute. Every check the online state makes per transaction is made here per column,
with the first offending transaction named in the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Role
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.inputs import KINDS, TRANSACTION_COLUMNS

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]

TableLike: TypeAlias = pa.Table | pa.RecordBatch | Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class Encoded:
    """A transactions table as integer columns; `roles[Role.X]` is the entity code per row."""

    ts: I64
    amount: I64
    roles: I32
    city: I32
    flags: I8
    account_row: I64
    n_entities: tuple[int, int, int, int, int]
    n_cities: int

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def as_table(data: TableLike) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    return pa.table(dict(data))


def _codes(column: pa.Array) -> tuple[I32, pa.Array]:
    """Dense codes (-1 for null) and the values they stand for."""
    encoded = column.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return np.asarray(codes, dtype=np.int32), encoded.dictionary


def _string(table: pa.Table, name: str) -> pa.Array:
    return table[name].cast(pa.string()).combine_chunks()


def _first(table: pa.Table, mask: npt.NDArray[np.bool_]) -> str:
    return str(table["tx_id"][int(np.flatnonzero(mask)[0])].as_py())


def _validate(table: pa.Table) -> tuple[I64, I64]:
    for name in TRANSACTION_COLUMNS:
        if name not in table.column_names:
            raise InvalidInput(f"transactions table has no column '{name}'", field=name)
    column = table["ts"]
    if not pa.types.is_timestamp(column.type) or column.type.tz is None:
        raise InvalidInput(f"expected timestamp with time zone, got {column.type}", field="ts")
    for name in ("ts", "amount_fen", "kind"):
        nulls = table[name].is_null().to_numpy(zero_copy_only=False)
        if nulls.any():
            raise InvalidInput("empty value", field=name, record=_first(table, nulls))
    ts = np.asarray(column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(), np.int64)
    backwards = np.diff(ts) < 0
    if backwards.any():
        raise InvalidInput(
            "transactions must be in time order: this one is earlier than the one before",
            field="ts",
            record=_first(table, np.r_[False, backwards]),
        )
    if not pa.types.is_integer(table["amount_fen"].type):
        raise InvalidInput(
            f"expected whole fen, got {table['amount_fen'].type}", field="amount_fen"
        )
    amount = np.asarray(table["amount_fen"].cast(pa.int64()).to_numpy(), np.int64)
    if (amount <= 0).any():
        raise InvalidInput(
            "amount must be a positive whole number of fen",
            field="amount_fen",
            record=_first(table, amount <= 0),
        )
    kind = _string(table, "kind")
    unknown = ~pc.is_in(kind, pa.array(KINDS)).to_numpy(zero_copy_only=False)
    if unknown.any():
        raise InvalidInput("unknown kind", field="kind", record=_first(table, unknown))
    for side, exempt in (("payer_account", "deposit"), ("payee_account", "withdrawal")):
        absent = table[side].is_null().to_numpy(zero_copy_only=False)
        wrong = absent != pc.equal(kind, exempt).to_numpy(zero_copy_only=False)
        if wrong.any():
            raise InvalidInput(
                f"only a {exempt} has no {side.split('_')[0]}",
                field=side,
                record=_first(table, wrong),
            )
    return ts, amount


def encode(data: TableLike, directory: AccountDirectory) -> Encoded:
    """Validate and encode a transactions table (sorted by time) for the kernels."""
    table = as_table(data)
    ts, amount = _validate(table)
    n = len(ts)
    both = pa.concat_arrays([_string(table, "payer_account"), _string(table, "payee_account")])
    accounts, account_values = _codes(both)
    account_row = directory.rows_of(account_values)
    roles = np.full((len(Role), n), -1, dtype=np.int32)
    roles[Role.PAYER] = accounts[:n]
    roles[Role.PAYEE] = accounts[n:]
    roles[Role.DEVICE], devices = _codes(_string(table, "device_id"))
    roles[Role.IP], ips = _codes(_string(table, "ip"))
    payer = roles[Role.PAYER]
    payer_row = np.full(n, -1, dtype=np.int64)
    payer_row[payer >= 0] = account_row[payer[payer >= 0]]
    known = payer_row >= 0
    roles[Role.PERSON][known] = directory.party_of[payer_row[known]]
    city, cities = _codes(_string(table, "city"))
    return Encoded(
        ts=ts,
        amount=amount,
        roles=roles,
        city=city,
        flags=_flags(table),
        account_row=account_row,
        n_entities=(
            len(account_values),
            len(account_values),
            len(devices),
            len(ips),
            len(directory.party_birth),
        ),
        n_cities=len(cities),
    )


def _flags(table: pa.Table) -> I8:
    channel = _string(table, "channel")
    payer_bank = _string(table, "payer_bank")
    payee_bank = _string(table, "payee_bank")
    rows = (
        pc.not_equal(payer_bank, payee_bank),
        pc.equal(channel, "atm"),
        pc.not_equal(channel, "counter"),
        pc.equal(_string(table, "kind"), "withdrawal"),
    )
    flags = np.empty((len(rows), table.num_rows), dtype=np.int8)
    for i, row in enumerate(rows):
        flags[i] = pc.fill_null(row, False).to_numpy(zero_copy_only=False)
    return flags
