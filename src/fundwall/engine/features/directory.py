"""The account directory the features read: who holds an account, its class, age and balance.

Built from two Arrow tables (accounts and parties, the region files of docs/data-layout.md)
into flat numpy arrays, so the online state and the columnar kernels read the very same
numbers. Point-in-time counts (accounts and banks of a party) only count accounts opened at
or before the transaction, so a backtest does not see accounts from its future.

An account whose opening the source does not give (`opened_at` null, as imports of public
data sets write it) has an unknown age: its opening is `NEVER`, so its age features read -1
and no rule on a young account fires on it; it counts among its holder's accounts at every
time.

A party's phone only serves to count parties sharing it: `phone_key` (a keyed hash) is used
when present, else the region file's raw `phone`. An account's optional `last_active_at`
(activity before the history starts) is where its idle days count from until it moves.

Accounts that members report after the directory was built (`report`: an opening, a class
change) are kept beside the arrays, so the online form knows them at once without a rebuild;
the columnar form reads only the arrays (a bulk run builds its directory from the files or the
store, which hold every account).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import LOCAL_OFFSET_US, NEVER, US_PER_DAY
from fundwall.region import read_table

I64 = npt.NDArray[np.int64]

ACCOUNT_COLUMNS: Final = (
    "account_no",
    "bank",
    "party_id",
    "account_class",
    "opened_at",
    "opening_balance_fen",
)
PARTY_COLUMNS: Final = ("party_id", "birth_date")
PHONE_COLUMNS: Final = ("phone_key", "phone")

CLASS_CODES: Final = {"corporate": 0, "i": 1, "ii": 2, "iii": 3, "0": 0, "1": 1, "2": 2, "3": 3}
"""Spellings of account classes (I/II/III personal, corporate) and their feature codes."""


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the directory knows of one account, as the online form reads it."""

    bank: str
    klass: int
    opened_us: int
    opening_balance: int
    last_active_us: int
    party: int


@dataclass(frozen=True, slots=True)
class ReportedAccount:
    """An account as its member reports it: opened after the directory was built, or changed.

    `birth` (YYYYMMDD, -1 unknown) and `phone_parties` (-1 unknown) describe the holder and are
    used only when the holder is new to the directory."""

    account_no: str
    bank: str
    party_id: str
    klass: int
    opened_us: int
    opening_balance: int
    birth: int = -1
    phone_parties: int = -1


def _require(table: pa.Table, columns: tuple[str, ...], what: str) -> None:
    for name in columns:
        if name not in table.column_names:
            raise InvalidInput(f"{what} table has no column '{name}'", field=name)


def _no_nulls(column: pa.ChunkedArray, name: str) -> None:
    if column.null_count:
        raise InvalidInput(f"{column.null_count} empty values", field=name)


def _micros(column: pa.ChunkedArray, name: str) -> I64:
    """A timestamp column (any unit) as UTC µs; a date column as local midnight in µs."""
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            raise InvalidInput("timestamps must carry a time zone (UTC)", field=name)
        as_us = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        return np.asarray(as_us.to_numpy(), dtype=np.int64)
    if pa.types.is_date(column.type):
        days = np.asarray(column.cast(pa.date32()).cast(pa.int32()).to_numpy(), dtype=np.int64)
        return days * US_PER_DAY - LOCAL_OFFSET_US
    raise InvalidInput(f"expected a timestamp or a date, got {column.type}", field=name)


def _class_codes(column: pa.ChunkedArray) -> I64:
    _no_nulls(column, "account_class")
    if pa.types.is_integer(column.type):
        codes = np.asarray(column.to_numpy(), dtype=np.int64)
        bad = codes[(codes < 0) | (codes > 3)]
        if bad.size:
            raise InvalidInput(f"unknown account class {bad[0]}", field="account_class")
        return codes
    encoded = column.cast(pa.string()).combine_chunks().dictionary_encode()
    lookup = []
    for spelling in encoded.dictionary.to_pylist():
        code = CLASS_CODES.get(str(spelling).strip().lower().removeprefix("class "))
        if code is None:
            raise InvalidInput(f"unknown account class '{spelling}'", field="account_class")
        lookup.append(code)
    codes = np.asarray(lookup, dtype=np.int64)[encoded.indices.to_numpy()]
    return np.asarray(codes, dtype=np.int64)


def _yyyymmdd(column: pa.ChunkedArray) -> I64:
    """Birth dates as YYYYMMDD, -1 where unknown."""
    if not (pa.types.is_date(column.type) or pa.types.is_timestamp(column.type)):
        raise InvalidInput(f"expected a date, got {column.type}", field="birth_date")
    packed = pc.add(
        pc.add(pc.multiply(pc.year(column), 10000), pc.multiply(pc.month(column), 100)),
        pc.day(column),
    )
    return np.asarray(pc.fill_null(packed, -1).to_numpy(), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class AccountDirectory:
    """Accounts and parties of a region, as arrays indexed by account row and party code.

    `party_start`/`party_opened`/`party_banks` list each party's accounts by opening time:
    the accounts of party p opened at or before t are the first k of
    `party_opened[party_start[p]:party_start[p + 1]]`, and `party_banks[start + k - 1]` is
    the number of distinct banks among them.
    """

    account_no: pa.Array
    account_bank: I64
    """Index into `banks` of each account's bank."""
    banks: tuple[str, ...]
    account_class: I64
    opened_us: I64
    opening_balance: I64
    last_active_us: I64
    party_of: I64
    party_birth: I64
    party_phone_parties: I64
    party_start: I64
    party_opened: I64
    party_banks: I64
    party_bank: I64
    """Index into `banks` of each account in `party_opened` order."""
    party_ids: pa.Array
    """The party id of each party code (holders missing from the parties table included)."""
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _reported: dict[str, AccountFacts] = field(default_factory=dict, repr=False)
    _party_codes: dict[str, int] = field(default_factory=dict, repr=False)
    _new_parties: list[tuple[int, int]] = field(default_factory=list, repr=False)
    _reported_holdings: dict[int, list[tuple[int, str]]] = field(default_factory=dict, repr=False)
    _opened_list: list[int] = field(default_factory=list, repr=False)
    _banks_list: list[int] = field(default_factory=list, repr=False)
    _start_list: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def from_tables(cls, accounts: pa.Table, parties: pa.Table) -> AccountDirectory:
        """Build from an accounts table (ACCOUNT_COLUMNS, optionally `last_active_at`; both
        times may be null: unknown, never used) and a parties table (PARTY_COLUMNS and
        `phone_key` or `phone`; phone and birth date may be null)."""
        _require(accounts, ACCOUNT_COLUMNS, "accounts")
        _require(parties, PARTY_COLUMNS, "parties")
        phone_column = next((c for c in PHONE_COLUMNS if c in parties.column_names), None)
        if phone_column is None:
            raise InvalidInput("parties table has no column 'phone_key'", field="phone_key")
        for name in ("account_no", "bank", "opening_balance_fen"):
            _no_nulls(accounts[name], name)
        _no_nulls(parties["party_id"], "party_id")
        account_no = accounts["account_no"].cast(pa.string()).combine_chunks()
        if pc.count_distinct(account_no).as_py() != len(account_no):
            raise InvalidInput("account numbers repeat", field="account_no")
        party_ids = parties["party_id"].cast(pa.string()).combine_chunks()
        if pc.count_distinct(party_ids).as_py() != len(party_ids):
            raise InvalidInput("party ids repeat", field="party_id")

        # Parties come first in the concatenation, so party row r gets code r; holders missing
        # from the parties table get codes after them (known holder, unknown phone and age).
        holder = accounts["party_id"].cast(pa.string()).combine_chunks()
        codes = pa.concat_arrays([party_ids, holder]).dictionary_encode()
        all_codes = pc.fill_null(codes.indices, -1).to_numpy(zero_copy_only=False)
        party_of = np.asarray(all_codes[len(party_ids) :], dtype=np.int64)
        n_party = len(codes.dictionary)

        birth = np.full(n_party, -1, dtype=np.int64)
        birth[: len(party_ids)] = _yyyymmdd(parties["birth_date"])
        phone_parties = np.full(n_party, -1, dtype=np.int64)
        phones = parties[phone_column].cast(pa.string()).combine_chunks().dictionary_encode()
        phone_code = pc.fill_null(phones.indices, -1).to_numpy(zero_copy_only=False)
        has_phone = phone_code >= 0
        sharing = np.bincount(phone_code[has_phone], minlength=len(phones.dictionary))
        phone_parties[: len(party_ids)][has_phone] = sharing[phone_code[has_phone]]

        opened = _micros_or_never(accounts["opened_at"], "opened_at")
        bank = accounts["bank"].cast(pa.string()).combine_chunks().dictionary_encode()
        bank_code = np.asarray(bank.indices.to_numpy(), dtype=np.int64)
        held = np.flatnonzero(party_of >= 0)
        order = held[np.lexsort((opened[held], party_of[held]))]
        start = np.zeros(n_party + 1, dtype=np.int64)
        np.cumsum(np.bincount(party_of[order], minlength=n_party), out=start[1:])
        return cls(
            account_no=account_no,
            account_bank=bank_code,
            banks=tuple(str(code) for code in bank.dictionary.to_pylist()),
            account_class=_class_codes(accounts["account_class"]),
            opened_us=opened,
            opening_balance=np.asarray(accounts["opening_balance_fen"].to_numpy(), np.int64),
            last_active_us=_last_active(accounts),
            party_of=party_of,
            party_birth=birth,
            party_phone_parties=phone_parties,
            party_start=start,
            party_opened=opened[order],
            party_banks=_prefix_distinct(party_of[order], bank_code[order], len(bank.dictionary)),
            party_bank=bank_code[order],
            party_ids=codes.dictionary,
        )

    @classmethod
    def from_region(cls, folder: Path) -> AccountDirectory:
        """Read accounts.parquet and parties.parquet of a region folder (docs/data-layout.md)."""
        return cls.from_tables(read_table(folder, "accounts"), read_table(folder, "parties"))

    @classmethod
    def empty(cls) -> AccountDirectory:
        """A directory that knows no account: every directory feature reads as unknown."""
        accounts = pa.table(
            {
                "account_no": pa.array([], pa.string()),
                "bank": pa.array([], pa.string()),
                "party_id": pa.array([], pa.string()),
                "account_class": pa.array([], pa.string()),
                "opened_at": pa.array([], pa.timestamp("us", tz="UTC")),
                "opening_balance_fen": pa.array([], pa.int64()),
            }
        )
        parties = pa.table(
            {
                "party_id": pa.array([], pa.string()),
                "phone_key": pa.array([], pa.string()),
                "birth_date": pa.array([], pa.date32()),
            }
        )
        return cls.from_tables(accounts, parties)

    def __len__(self) -> int:
        return len(self.account_no)

    def prepare_lookups(self) -> None:
        """Build the Python-side indexes of the per-transaction look-ups (`row_of`,
        `bank_of`, `holdings`) now, so that no decision pays for building them."""
        if not self._rows and len(self.account_no):
            self._rows.update((a, i) for i, a in enumerate(self.account_no.to_pylist()))
        if not self._opened_list and len(self.party_opened):
            self._opened_list.extend(self.party_opened.tolist())
            self._banks_list.extend(self.party_banks.tolist())
            self._start_list.extend(self.party_start.tolist())

    def row_of(self, account_no: str) -> int:
        """Row of an account, -1 when the directory does not know it."""
        self.prepare_lookups()
        return self._rows.get(account_no, -1)

    def rows_of(self, accounts: pa.Array) -> I64:
        """Rows of many accounts at once (-1 for unknown ones), for the columnar form."""
        found = pc.index_in(accounts, value_set=self.account_no)
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64)

    def holdings(self, party: int, ts_us: int) -> tuple[int, int]:
        """(accounts, distinct banks) of a party counting accounts opened by `ts_us`."""
        self.prepare_lookups()
        base = party < len(self._start_list) - 1
        lo, hi = (self._start_list[party], self._start_list[party + 1]) if base else (0, 0)
        k = bisect.bisect_right(self._opened_list, ts_us, lo, hi)
        reported = self._reported_holdings.get(party)
        if reported is None:
            return k - lo, self._banks_list[k - 1] if k > lo else 0
        banks = {self.banks[code] for code in self.party_bank[lo:k].tolist()}
        later = [bank for opened, bank in reported if opened <= ts_us]
        return k - lo + len(later), len(banks.union(later))

    def facts(self, account_no: str) -> AccountFacts | None:
        """What the directory knows of an account, None when it does not know it."""
        reported = self._reported.get(account_no)
        if reported is not None:
            return reported
        row = self.row_of(account_no)
        if row < 0:
            return None
        return AccountFacts(
            self.banks[self.account_bank[row]],
            int(self.account_class[row]),
            int(self.opened_us[row]),
            int(self.opening_balance[row]),
            int(self.last_active_us[row]),
            int(self.party_of[row]),
        )

    def bank_of(self, account_no: str) -> str | None:
        """The bank holding an account, None when the directory does not know it."""
        reported = self._reported.get(account_no)
        if reported is not None:
            return reported.bank
        row = self.row_of(account_no)
        return self.banks[self.account_bank[row]] if row >= 0 else None

    def holder(self, party: int) -> tuple[int, int]:
        """(birth as YYYYMMDD, parties sharing the phone) of a party code; -1 where unknown."""
        known = len(self.party_birth)
        if party < known:
            return int(self.party_birth[party]), int(self.party_phone_parties[party])
        return self._new_parties[party - known]

    def report(self, account: ReportedAccount) -> None:
        """Know an account opened after the directory was built, or an account's new class.

        Its holder keeps the party code it has here (a new holder gets the next free code), so
        the online state's per-party history stays where it is."""
        before = self.facts(account.account_no)
        if before is not None:
            changed = AccountFacts(
                before.bank,
                account.klass,
                before.opened_us,
                before.opening_balance,
                before.last_active_us,
                before.party,
            )
            self._reported[account.account_no] = changed
            return
        party = self._party_code(account)
        self._reported[account.account_no] = AccountFacts(
            account.bank, account.klass, account.opened_us, account.opening_balance, NEVER, party
        )
        self._reported_holdings.setdefault(party, []).append((account.opened_us, account.bank))

    def _party_code(self, account: ReportedAccount) -> int:
        code = self._codes().get(account.party_id)
        if code is None:
            code = self._party_codes[account.party_id] = len(self.party_birth) + len(
                self._new_parties
            )
            self._new_parties.append((account.birth, account.phone_parties))
        return code

    def _codes(self) -> dict[str, int]:
        if not self._party_codes:
            self._party_codes.update((p, i) for i, p in enumerate(self.party_ids.to_pylist()))
        return self._party_codes

    def party_id(self, code: int) -> str:
        """The party id of a party code (codes are this directory's own; ids are shared)."""
        if code < len(self.party_ids):
            return str(self.party_ids[code].as_py())
        return next(party for party, known in self._codes().items() if known == code)

    def party_code(self, party_id: str) -> int:
        """The code of a party id this directory knows (`party_id`'s inverse)."""
        code = self._codes().get(party_id)
        if code is None:
            raise InvalidInput(f"party {party_id} is not in the account directory", "party_id")
        return code


def _last_active(accounts: pa.Table) -> I64:
    if "last_active_at" not in accounts.column_names:
        return np.full(accounts.num_rows, NEVER, dtype=np.int64)
    return _micros_or_never(accounts["last_active_at"], "last_active_at")


def _micros_or_never(column: pa.ChunkedArray, name: str) -> I64:
    """A timestamp or date column as in `_micros`, `NEVER` where it is null (unknown)."""
    known = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    result = np.full(len(column), NEVER, dtype=np.int64)
    if known.any():
        result[known] = _micros(column.filter(pa.array(known)), name)
    return result


def _prefix_distinct(party: I64, bank: I64, n_bank: int) -> I64:
    """For rows grouped by party: distinct banks among the party's rows up to each row."""
    if party.size == 0:
        return np.zeros(0, dtype=np.int64)
    key = party * max(n_bank, 1) + bank
    first = np.zeros(party.size, dtype=np.int64)
    first[np.unique(key, return_index=True)[1]] = 1
    running = np.cumsum(first)
    group_start = np.r_[0, np.flatnonzero(np.diff(party)) + 1]
    before = np.zeros(party.size, dtype=np.int64)
    before[group_start[1:]] = running[group_start[1:] - 1]
    return running - np.maximum.accumulate(before)
