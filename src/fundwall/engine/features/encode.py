"""Turn a transactions table into the integer columns the kernels read.

Accounts (payer and payee share one code space), devices, IPs and cities are dictionary-encoded
to dense ints (-1 for null); a column that comes dictionary-encoded already (a region's
few-valued columns, `read_table(..., dictionary=True)`, and the identifiers as replay reads
them, `shared_dictionaries`) is coded from its dictionary, to the same codes. Time becomes
int64 µs; the flags (`flags.FLAGS`) come from Arrow compute, over the strings of every row or,
when the columns they read are dictionary ones, once per combination of their values. Every
check the online state makes per transaction is made here per column, with the first
offending transaction named in the error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Role
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.flags import FLAGS
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
    """One row per flag, in `flags.FLAGS` order (`FLAG_ROW`)."""
    account_row: I64
    n_entities: tuple[int, int, int, int, int]
    n_cities: int
    values: tuple[pa.Array, pa.Array, pa.Array]
    """What the account, device and IP codes stand for, for callers that look rows up by
    those values (the hard controls of replay)."""

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def as_table(data: TableLike) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    return pa.table(dict(data))


def codes(column: pa.Array) -> tuple[I32, pa.Array]:
    """Dense codes (-1 for null) and the values they stand for."""
    encoded = column.dictionary_encode()
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return np.asarray(indices, dtype=np.int32), encoded.dictionary


def _dictionary_codes(columns: Sequence[pa.ChunkedArray], out: Sequence[I32]) -> pa.Array:
    """`codes` of dictionary columns in one code space (the payer's and payee's accounts share
    one), as if their decoded values were coded one column after the other, without hashing a
    string a row: the values the dictionary holds are coded once (the chunks brought over one
    dictionary first, unless they are already, `shared_dictionaries`), then the rows are
    numbered in the order they first use a value. The codes of each column are written into
    its array of `out`; the values they stand for are returned."""
    chunks = [chunk for column in columns for chunk in column.chunks]
    if not chunks:
        return pa.array([], pa.string())
    if not all(chunk.dictionary.equals(chunks[0].dictionary) for chunk in chunks[1:]):
        chunks = pa.chunked_array(chunks).unify_dictionaries().chunks
    same, values = codes(chunks[0].dictionary)
    code_of = np.full(len(values), -1, dtype=np.int32)
    used = 0
    start = 0
    for column, numbered in zip(columns, out, strict=True):
        indices = pa.chunked_array(
            [chunk.indices for chunk in chunks[start : start + column.num_chunks]], pa.int32()
        )
        start += column.num_chunks
        used = _first_use(_int32(indices), same, code_of, used, numbered)
    seen = np.flatnonzero(code_of >= 0)
    first = np.empty(used, dtype=np.int64)
    first[code_of[seen]] = seen
    return values.take(pa.array(first)).cast(pa.string())


def _int32(column: pa.ChunkedArray) -> I32:
    """Dictionary indices as one read-only int32 array, -1 for null (always read-only, as
    `int64_column`, so that `_first_use` compiles once)."""
    values = np.asarray(
        pc.fill_null(column.combine_chunks(), -1).to_numpy(zero_copy_only=False), np.int32
    )
    values.setflags(write=False)
    return values


@njit(nogil=True, cache=True)
def _first_use(indices: I32, same: I32, code_of: I32, used: int, numbered: I32) -> int:
    """numbered[i]: the code of row i's value (`same[indices[i]]`, a place in the values; -1
    for null), each value's code given when a row first uses it (`code_of`, carried over from
    column to column, -1 while unused); returns the count of codes given."""
    for i in range(indices.shape[0]):
        value = same[indices[i]] if indices[i] >= 0 else -1
        if value >= 0 and code_of[value] < 0:
            code_of[value] = used
            used += 1
        numbered[i] = code_of[value] if value >= 0 else -1
    return used


def _codes(table: pa.Table, name: str, out: I32) -> pa.Array:
    """The codes of column `name` written into `out`; the values they stand for."""
    if pa.types.is_dictionary(table[name].type):
        return _dictionary_codes([table[name]], [out])
    found, values = codes(_string(table, name))
    out[:] = found
    return values


def shared_dictionaries(table: pa.Table) -> pa.Table:
    """`table` with each dictionary column's chunks over one dictionary, and the payer's and
    payee's accounts over the same: what `encode` would otherwise do on every call, done
    once (replay's `read_history`, where the file is read)."""
    accounts = [table[side] for side in _SIDES]
    if (
        all(pa.types.is_dictionary(c.type) for c in accounts)
        and accounts[0].type == accounts[1].type
    ):
        both = pa.chunked_array(
            [chunk for column in accounts for chunk in column.chunks], accounts[0].type
        ).unify_dictionaries()
        cut = accounts[0].num_chunks
        for side, chunks in zip(_SIDES, (both.chunks[:cut], both.chunks[cut:]), strict=True):
            table = _replaced(table, side, pa.chunked_array(chunks, accounts[0].type))
    for name in table.column_names:
        if name not in _SIDES and pa.types.is_dictionary(table[name].type):
            table = _replaced(table, name, table[name].unify_dictionaries())
    return table


def _replaced(table: pa.Table, name: str, column: pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)


def _string(table: pa.Table, name: str) -> pa.Array:
    return table[name].cast(pa.string()).combine_chunks()


def int64_column(column: pa.ChunkedArray) -> I64:
    """`column` as int64 numbers, always read-only: a column of one chunk comes as a view of
    Arrow's memory, which is read-only, and one of several as a copy; numba compiles a kernel
    once per flag, so arrays of both kinds would compile every kernel twice."""
    values = np.asarray(column.cast(pa.int64()).to_numpy(), np.int64)
    values.setflags(write=False)
    return values


def _first(table: pa.Table, mask: npt.NDArray[np.bool_]) -> str:
    return str(table["tx_id"][int(np.flatnonzero(mask)[0])].as_py())


def _validate(table: pa.Table) -> tuple[I64, I64, _Rows]:
    for name in TRANSACTION_COLUMNS:
        if name not in table.column_names:
            raise InvalidInput(f"transactions table has no column '{name}'", field=name)
    column = table["ts"]
    if not pa.types.is_timestamp(column.type) or column.type.tz is None:
        raise InvalidInput(f"expected timestamp with time zone, got {column.type}", field="ts")
    for name in ("ts", "amount_fen", "kind"):
        if table[name].null_count:
            nulls = table[name].is_null().to_numpy(zero_copy_only=False)
            raise InvalidInput("empty value", field=name, record=_first(table, nulls))
    ts = int64_column(column.cast(pa.timestamp("us", tz="UTC")))
    backwards = ts[1:] < ts[:-1]
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
    amount = int64_column(table["amount_fen"])
    if (amount <= 0).any():
        raise InvalidInput(
            "amount must be a positive whole number of fen",
            field="amount_fen",
            record=_first(table, amount <= 0),
        )
    rows = _distinct_rows(table, _FEW_VALUED)
    kind = rows.column("kind")
    unknown = ~rows.each(pc.is_in(kind, pa.array(KINDS)))
    if unknown.any():
        raise InvalidInput("unknown kind", field="kind", record=_first(table, unknown))
    for side, exempt in (("payer_account", "deposit"), ("payee_account", "withdrawal")):
        absent = table[side].is_null().to_numpy(zero_copy_only=False)
        wrong = absent != rows.each(pc.equal(kind, exempt))
        if wrong.any():
            raise InvalidInput(
                f"only a {exempt} has no {side.split('_')[0]}",
                field=side,
                record=_first(table, wrong),
            )
    return ts, amount, rows


_SIDES: Final = ("payer_account", "payee_account")


def _accounts(pool: ThreadPoolExecutor, table: pa.Table, roles: I32) -> Callable[[], pa.Array]:
    """What writes the payer and payee codes over one dictionary of accounts into their rows
    of `roles` and gives the accounts they stand for, once the pool has coded them:
    dictionary columns of one type in one job; else each side in a job of its own, their two
    dictionaries then merged."""
    payer, payee = (table[side] for side in _SIDES)
    out = (roles[Role.PAYER], roles[Role.PAYEE])
    if pa.types.is_dictionary(payer.type) and payer.type == payee.type:
        return pool.submit(_dictionary_codes, [payer, payee], out).result
    sides = [pool.submit(_codes, table, side, rows) for side, rows in zip(_SIDES, out, strict=True)]
    return lambda: _one_code_space(out, [side.result() for side in sides])


def _one_code_space(rows: Sequence[I32], values: Sequence[pa.Array]) -> pa.Array:
    """The accounts of both sides over one dictionary (each side was encoded on its own
    thread, into its `rows`; their two dictionaries are merged and the codes mapped through
    where they are)."""
    merged, accounts = codes(pa.concat_arrays(list(values)))
    start = 0
    for side, side_values in zip(rows, values, strict=True):
        mapping = merged[start : start + len(side_values)]
        start += len(side_values)
        present = side >= 0
        side[present] = mapping[side[present]]
    return accounts


def encode(data: TableLike, directory: AccountDirectory) -> Encoded:
    """Validate and encode a transactions table (sorted by time) for the kernels. The string
    columns are encoded side by side on two threads (Arrow releases the GIL)."""
    table = as_table(data)
    ts, amount, rows = _validate(table)
    n = len(ts)
    # Every row is written below: each code is written where it is made, not copied there.
    roles = np.empty((len(Role), n), dtype=np.int32)
    city = np.empty(n, dtype=np.int32)
    with ThreadPoolExecutor(max_workers=2) as pool:
        accounts = _accounts(pool, table, roles)
        device_job = pool.submit(_codes, table, "device_id", roles[Role.DEVICE])
        ip_job = pool.submit(_codes, table, "ip", roles[Role.IP])
        city_job = pool.submit(_codes, table, "city", city)
        flags_job = pool.submit(_flags, rows)
        account_values = accounts()
        devices = device_job.result()
        ips = ip_job.result()
        cities = city_job.result()
        flags = flags_job.result()
    account_row = directory.rows_of(account_values)
    # The party of each account code, then of each row's payer: a payer of code -1 (none)
    # reads the last place, which holds -1.
    party = np.full(len(account_values) + 1, -1, dtype=np.int32)
    known = account_row >= 0
    party[:-1][known] = directory.party_of[account_row[known]]
    np.take(party, roles[Role.PAYER], out=roles[Role.PERSON])
    return Encoded(
        ts=ts,
        amount=amount,
        roles=roles,
        city=city,
        flags=flags,
        account_row=account_row,
        n_entities=(
            len(account_values),
            len(account_values),
            len(devices),
            len(ips),
            len(directory.party_birth),
        ),
        n_cities=len(cities),
        values=(account_values, devices, ips),
    )


def _flags(rows: _Rows) -> I8:
    flags = np.empty((len(FLAGS), rows.count), dtype=np.int8)
    for row, flag in enumerate(FLAGS):
        flags[row] = rows.each(flag.column(rows.column))
    return flags


_FEW_VALUED: Final = ("kind", "channel", "payer_bank", "payee_bank")
"""The columns the flags and the checks of the kind read."""
_FEW: Final = 1 << 16
"""The most combinations of their values that are evaluated as such (`_distinct_rows`)."""


@dataclass(frozen=True)
class _Rows:
    """Some string columns of a table over rows that stand for the table's: `column(name)`
    their values, `at` the row that stands for each row of the table (None: its own)."""

    column: Callable[[str], pa.Array]
    at: I32 | None
    count: int
    """The table's rows."""

    def each(self, held: pa.Array) -> npt.NDArray[np.bool_]:
        """A yes/no column over these rows, per row of the table (null is no)."""
        values: npt.NDArray[np.bool_] = pc.fill_null(held, False).to_numpy(zero_copy_only=False)
        return values if self.at is None else values[self.at]


def _distinct_rows(table: pa.Table, names: Sequence[str]) -> _Rows:
    """The columns `names` over their distinct combinations of values, when each is a
    dictionary column and the combinations are few: a rule of their strings is evaluated once
    a combination instead of on every row's decoded strings. Else over the table's rows."""
    columns = [table[name] for name in names]
    if table.num_rows == 0 or not all(pa.types.is_dictionary(c.type) for c in columns):
        return _every_row(table)
    dictionaries, combination, size = [], np.zeros(table.num_rows, dtype=np.int32), 1
    for column in columns:
        if not all(c.dictionary.equals(column.chunk(0).dictionary) for c in column.chunks):
            column = column.unify_dictionaries()
        dictionary = column.chunk(0).dictionary
        indices = _int32(pa.chunked_array([c.indices for c in column.chunks], pa.int32()))
        null = len(dictionary)  # the place of a null value
        size *= null + 1
        if size > _FEW:
            return _every_row(table)
        combination *= null + 1
        combination += indices
        np.add(combination, null + 1, out=combination, where=indices < 0)
        dictionaries.append(dictionary)
    used = np.zeros(size, dtype=np.bool_)
    used[combination] = True
    kept = np.flatnonzero(used)
    place = np.empty(size, dtype=np.int32)
    place[kept] = np.arange(len(kept), dtype=np.int32)
    values = {}
    for name, dictionary in zip(reversed(names), reversed(dictionaries), strict=True):
        null = len(dictionary)
        index = kept % (null + 1)
        kept = kept // (null + 1)
        values[name] = dictionary.take(pa.array(index, mask=index == null)).cast(pa.string())
    return _Rows(values.__getitem__, place[combination], table.num_rows)


def _every_row(table: pa.Table) -> _Rows:
    return _Rows(cache(lambda name: _string(table, name)), None, table.num_rows)
