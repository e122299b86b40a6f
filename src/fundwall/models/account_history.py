"""A region's history as of a moment: the account index and event arrays the account features read.

`History.before(transactions, accounts, until)` keeps only the transactions strictly before
`until` (µs since the epoch, exclusive), in time order, with payer and payee
as rows of one sorted index of accounts: every account that transacts before the moment, and
every account of the accounts table opened before it. Every
feature family reads this one view, so no family can see a later event than another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.errors import InvalidInput
from fundwall.region import TS

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

TRANSACTION_COLUMNS: Final = (
    "tx_id",
    "ts",
    "payer_account",
    "payee_account",
    "amount_fen",
    "device_id",
    "city",
)
"""What the account features read of a transaction."""


def micros(column: pa.ChunkedArray | pa.Array, name: str) -> I64:
    """A timezone-aware timestamp column as µs since the epoch (nulls become 0: callers mask
    them with the column's validity)."""
    if not pa.types.is_timestamp(column.type) or column.type.tz is None:
        raise InvalidInput(f"expected a timestamp with time zone, got {column.type}", field=name)
    as_us = pc.fill_null(column.cast(TS).cast(pa.int64()), 0)
    return np.asarray(as_us.to_numpy(zero_copy_only=False), np.int64)


def present(column: pa.ChunkedArray | pa.Array) -> Mask:
    """Where a column has a value."""
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), np.bool_)


def codes(column: pa.ChunkedArray | pa.Array) -> I64:
    """Dense codes of a column's values (-1 for null)."""
    encoded = column.cast(pa.string()).dictionary_encode()
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    return np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), np.int64)


def _require(table: pa.Table, columns: tuple[str, ...], what: str) -> None:
    for name in columns:
        if name not in table.column_names:
            raise InvalidInput(f"the {what} table has no column '{name}'", field=name)


def _check(table: pa.Table) -> None:
    """The transaction facts every feature relies on: a time, a positive amount, an end."""
    for name in ("ts", "amount_fen"):
        missing = ~present(table[name])
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise InvalidInput("empty value", field=name, record=str(table["tx_id"][row]))
    amount = np.asarray(table["amount_fen"].cast(pa.int64()).to_numpy(), np.int64)
    if (amount <= 0).any():
        row = int(np.flatnonzero(amount <= 0)[0])
        raise InvalidInput(
            "amount must be a positive whole number of fen",
            field="amount_fen",
            record=str(table["tx_id"][row]),
        )
    neither = ~present(table["payer_account"]) & ~present(table["payee_account"])
    if neither.any():
        row = int(np.flatnonzero(neither)[0])
        raise InvalidInput(
            "a transaction needs a payer or a payee",
            field="payer_account",
            record=str(table["tx_id"][row]),
        )


def _rows(index: pa.Array, values: pa.Array | pa.ChunkedArray) -> I64:
    found = pc.index_in(values.cast(pa.string()), value_set=index)
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64)


@dataclass(frozen=True, eq=False)
class History:
    """Transactions before the moment, as arrays in time order over one account index."""

    accounts: pa.Array
    """Account numbers, sorted; row i of every per-account array is `accounts[i]`."""
    moment: int
    """The moment the features describe, µs (exclusive: nothing at or after it is read)."""
    ts: I64
    payer: I64
    """Row of the paying account, -1 for a deposit."""
    payee: I64
    """Row of the receiving account, -1 for a withdrawal."""
    amount: I64
    device: I64
    """Code of the device the transaction was made from, -1 when none is recorded."""
    city: I64
    """Code of the city it was made in (`cities`), -1 when none is recorded."""
    cities: pa.Array
    devices: pa.Array

    def __len__(self) -> int:
        return len(self.accounts)

    def rows_of(self, values: pa.Array | pa.ChunkedArray) -> I64:
        """Rows of these account numbers, -1 for accounts outside the index."""
        return _rows(self.accounts, values)

    def is_before(self, ts: I64) -> Mask:
        """Which of these times fall before the moment."""
        return ts < self.moment

    def until(self, moment: int) -> History:
        """The same accounts (the same rows) with only the transactions before `moment`."""
        if moment >= self.moment:
            return self
        kept = int(np.searchsorted(self.ts, moment, side="left"))
        return replace(
            self,
            moment=moment,
            ts=self.ts[:kept],
            payer=self.payer[:kept],
            payee=self.payee[:kept],
            amount=self.amount[:kept],
            device=self.device[:kept],
            city=self.city[:kept],
        )

    @classmethod
    def before(cls, transactions: pa.Table, accounts: pa.Table | None, until: int) -> History:
        _require(transactions, TRANSACTION_COLUMNS, "transactions")
        transactions = transactions.select(list(TRANSACTION_COLUMNS))
        all_ts = micros(transactions["ts"], "ts")
        kept = transactions.filter(pa.array(all_ts < until))
        _check(kept)
        ts = micros(kept["ts"], "ts")
        order = np.argsort(ts, kind="stable")
        kept = kept.take(pa.array(order))
        ts = ts[order]
        payer = kept["payer_account"].cast(pa.string())
        payee = kept["payee_account"].cast(pa.string())
        names = [payer.drop_null(), payee.drop_null()]
        if accounts is not None:
            _require(accounts, ("account_no", "opened_at"), "accounts")
            number = accounts["account_no"].cast(pa.string())
            # An account whose opening is unknown (imported data) exists at every moment.
            unknown = ~present(accounts["opened_at"])
            opened = micros(accounts["opened_at"], "opened_at")
            names.append(number.filter(pa.array(unknown | (opened < until))).drop_null())
        index = pc.unique(pa.chunked_array(names, pa.string()).combine_chunks())
        index = pc.take(index, pc.sort_indices(index))
        device = kept["device_id"].cast(pa.string()).combine_chunks().dictionary_encode()
        city = kept["city"].cast(pa.string()).combine_chunks().dictionary_encode()
        return cls(
            accounts=index,
            moment=until,
            ts=ts,
            payer=_rows(index, payer),
            payee=_rows(index, payee),
            amount=np.asarray(kept["amount_fen"].cast(pa.int64()).to_numpy(), np.int64),
            device=np.asarray(pc.fill_null(device.indices, -1).to_numpy(False), np.int64),
            city=np.asarray(pc.fill_null(city.indices, -1).to_numpy(False), np.int64),
            cities=city.dictionary,
            devices=device.dictionary,
        )
