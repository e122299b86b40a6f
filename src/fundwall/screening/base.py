"""The account base as columns (账户底册): what every screening check reads, built once.

A base comes from a table of one row per account (`BASE_SCHEMA`): the store's accounts with
their holders, bindings and punishments (`fundwall.screening.queries.base_table`), or a
region folder's files (`base_from_region`). Both identify a person by the keyed hash of the
ID number, never the number itself; strings become integer codes here, so the checks are
numpy over arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.accounts import AccountClass, AccountStatus
from fundwall.domain.errors import InvalidInput
from fundwall.domain.parties import PartyKind
from fundwall.domain.transactions import TransactionKind
from fundwall.region import TS, read_table

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

NO_TIME: Final = int(np.iinfo(np.int64).min)
"""An unknown opening, no activity, no punishment."""
CLASSES: Final = tuple(AccountClass)
"""Class codes: I 0, II 1, III 2, corporate 3."""
CORPORATE: Final = CLASSES.index(AccountClass.CORPORATE)
CLASS_I: Final = CLASSES.index(AccountClass.CLASS_I)
LINKS: Final = ("device", "ip", "phone", "agent")
"""What may tie accounts opened in a batch: the opening device, IP address, the holder's
bound phone, the agent who opened it."""

BASE_SCHEMA: Final = pa.schema(
    [
        ("account_no", pa.string()),
        ("member", pa.string()),
        ("party_id", pa.string()),
        ("holder", pa.string()),
        ("person", pa.bool_()),
        ("account_class", pa.string()),
        ("closed", pa.bool_()),
        ("opened_at", TS),
        ("active_at", TS),
        ("balance_fen", pa.int64()),
        ("device", pa.string()),
        ("ip", pa.string()),
        ("phone", pa.string()),
        ("agent", pa.string()),
        ("punished_until", TS),
    ]
)
"""One row per account: its holder (`holder`: the keyed hash of the ID number or credit
code), class, whether closed, opening and last customer activity (null: never), balance as
of the run, the opening device, IP and agent, the phone bound to the holder at the account's
member (a keyed hash) and the end of the holder's punishment listing in force (null: none)."""


@dataclass(frozen=True, eq=False)
class AccountBase:
    """The accounts as arrays, each of `count` entries; strings as codes (-1: none)."""

    as_of_us: int
    account_no: pa.Array
    party_id: pa.Array
    members: tuple[str, ...]
    member: I64
    holder: I64
    person: Bools
    cls: I64
    closed: Bools
    opened: I64
    active: I64
    balance: I64
    links: dict[str, I64]
    punished_until: I64

    @property
    def count(self) -> int:
        return len(self.member)

    @property
    def holders(self) -> int:
        """How many holder codes there are (codes run from 0)."""
        return int(self.holder.max(initial=-1)) + 1

    @classmethod
    def of_table(cls, table: pa.Table, as_of: datetime) -> AccountBase:
        """The base of a table in `BASE_SCHEMA` as of `as_of`."""
        if table.schema.names != BASE_SCHEMA.names:
            raise InvalidInput(f"an account base has the columns {BASE_SCHEMA.names}", "table")
        table = table.cast(BASE_SCHEMA).combine_chunks()
        member = table.column("member")
        members = sorted(str(code) for code in pc.unique(member).to_pylist())
        classes = _codes_in(table.column("account_class"), [c.value for c in CLASSES])
        if (classes < 0).any():
            raise InvalidInput(f"an account class is one of {[c.value for c in CLASSES]}", "class")
        return cls(
            as_of_us=_us(as_of),
            account_no=table.column("account_no").combine_chunks(),
            party_id=table.column("party_id").combine_chunks(),
            members=tuple(members),
            member=_codes_in(member, members),
            holder=_codes(table.column("holder")),
            person=_flags(table.column("person")),
            cls=classes,
            closed=_flags(table.column("closed")),
            opened=_micros(table.column("opened_at")),
            active=_micros(table.column("active_at")),
            balance=table.column("balance_fen").to_numpy().astype(np.int64),
            links={name: _codes(table.column(name)) for name in LINKS},
            punished_until=_micros(table.column("punished_until")),
        )


def _us(moment: datetime) -> int:
    if moment.utcoffset() is None:
        raise InvalidInput("a time with its UTC offset", "as_of")
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _codes(column: pa.ChunkedArray) -> I64:
    """Equal strings, equal codes from 0; -1 for null."""
    if len(column) == 0:
        return np.zeros(0, dtype=np.int64)
    indices = pc.dictionary_encode(column).combine_chunks().indices
    return np.asarray(pc.fill_null(indices, -1).to_numpy(), dtype=np.int64)


def _codes_in(column: pa.ChunkedArray, values: pa.Array | list[str]) -> I64:
    """The position of each string among `values`; -1 when not there."""
    found = pc.index_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _flags(column: pa.ChunkedArray) -> Bools:
    return np.asarray(pc.fill_null(column, False).to_numpy(), dtype=np.bool_)


def _micros(column: pa.ChunkedArray) -> I64:
    whole = pc.fill_null(column.cast(pa.int64()), NO_TIME)
    return np.asarray(whole.to_numpy(), dtype=np.int64)


def period_end(folder: Path) -> datetime:
    """The end of a region folder's period (its manifest's `period_end`)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        return datetime.fromisoformat(manifest["period_end"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInput(f"{folder} has no manifest with a period_end", "folder") from None


Activity = Callable[[Path, datetime], pl.DataFrame]
"""What each account of a region folder did up to a moment, from its transactions: one row
per account named, `account_no`, `out` (fen paid, int64), `paid` (its last payment), `in`
(fen received, int64), `cash` (its last cash deposit); times as `TS`, null for none. Computed
here (`region_activity`) or on Spark (`fundwall.spark.screening`)."""


def region_activity(folder: Path, moment: datetime) -> pl.DataFrame:
    """The accounts' `Activity` from the region's transactions up to `moment`, in this
    process."""
    history = _frame(
        read_table(folder, "transactions", ["ts", "kind", "payer_account", "payee_account",
                                            "amount_fen"])
    ).filter(pl.col("ts") <= moment)  # fmt: skip
    paid = history.group_by(pl.col("payer_account").alias("account_no")).agg(
        pl.col("amount_fen").sum().alias("out"), pl.col("ts").max().alias("paid")
    )
    deposit = pl.col("kind") == TransactionKind.DEPOSIT.value
    received = history.group_by(pl.col("payee_account").alias("account_no")).agg(
        pl.col("amount_fen").sum().alias("in"), pl.col("ts").filter(deposit).max().alias("cash")
    )
    return paid.join(received, on="account_no", how="full", coalesce=True)


def base_from_region(
    folder: Path,
    keyring: Keyring,
    as_of: datetime | None = None,
    activity: Activity = region_activity,
) -> AccountBase:
    """The account base of a region folder as of `as_of` (default: the end of its period):
    its accounts, their activity and balance after the transactions up to then (`activity`),
    each holder by the keyed hash (under `keyring`) of the ID number or credit code, the phone
    each person declared as bound at every member holding one of their accounts (as `fundwall
    load` binds it). A region says nothing of opening IP addresses or punishments."""
    moment = as_of if as_of is not None else period_end(folder)
    accounts = _frame(
        read_table(
            folder,
            "accounts",
            [
                "account_no", "bank", "party_id", "account_class", "status", "opened_at",
                "opening_device_id", "opening_agent", "opening_balance_fen", "last_active_at",
            ],
        )
    )  # fmt: skip
    parties = _frame(read_table(folder, "parties", ["party_id", "kind", "id_number", "phone"]))
    person = parties["kind"] == PartyKind.PERSON.value
    holders = parties.select(
        "party_id",
        person.alias("person"),
        pl.Series("holder", [keyring.keyed_hash(ID_HASH_KIND, v) for v in parties["id_number"]]),
        pl.Series(
            "phone",
            [
                keyring.keyed_hash(PHONE_HASH_KIND, phone) if is_person and phone else None
                for phone, is_person in zip(parties["phone"], person, strict=True)
            ],
            dtype=pl.String,
        ),
    )
    table = (
        accounts.filter(pl.col("opened_at").is_null() | (pl.col("opened_at") <= moment))
        .join(holders, on="party_id", how="left")
        .join(activity(folder, moment), on="account_no", how="left")
        .select(
            "account_no",
            pl.col("bank").alias("member"),
            "party_id",
            "holder",
            "person",
            "account_class",
            (pl.col("status") == AccountStatus.CLOSED.value).alias("closed"),
            "opened_at",
            pl.max_horizontal("last_active_at", "paid", "cash").alias("active_at"),
            (
                pl.col("opening_balance_fen")
                + pl.col("in").fill_null(0)
                - pl.col("out").fill_null(0)
            ).alias("balance_fen"),
            pl.col("opening_device_id").alias("device"),
            pl.lit(None, pl.String).alias("ip"),
            "phone",
            pl.col("opening_agent").alias("agent"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("punished_until"),
        )
    )
    return AccountBase.of_table(table.to_arrow(), moment)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame
