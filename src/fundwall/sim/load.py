"""`load_region`: put a region folder into the store, once.

Loading is idempotent: each table is loaded in its own unit of work, rows whose key is already
there are left alone, and a load that inserts nothing writes nothing (not even an audit
record). So a load that was interrupted is finished by running it again. Rows go in with
bulk core inserts (executemany) in chunks.

Each row of the folder becomes its domain object, so the domain checks it, and goes into the
store through `fundwall.store.mapping`, as the product writes it (names, ID numbers and phones
SM4-GCM encrypted beside their SM3-HMAC keyed hashes). Transactions go in as read: their
records are already the rows (`TRANSACTION_FIELDS` declares both), and checking half a million
of them again would cost more than the whole load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine, Table, insert, select

from fundwall.crypto import Keyring
from fundwall.domain.accounts import Account, OpeningChannel
from fundwall.domain.devices import Device, LoginEvent
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import CreditCode, MobilePhone, ResidentId
from fundwall.domain.institutions import Institution
from fundwall.domain.parties import Party, PartyKind
from fundwall.region import FILES, TRANSACTIONS, read_table
from fundwall.store import UnitOfWork
from fundwall.store.mapping import (
    account_values,
    device_values,
    institution_values,
    login_event_values,
    party_values,
)
from fundwall.store.tables import (
    AccountRow,
    DeviceRow,
    InstitutionRow,
    LoginEventRow,
    PartyRow,
    TransactionRow,
)

CHUNK = 5_000
ACTOR = "system:region-load"
Progress = Callable[[str, int, int], None]
Make = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(slots=True)
class LoadResult:
    """Rows inserted and rows found already present, per table."""

    inserted: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)


def load_region(
    folder: Path,
    database: Engine,
    keyring: Keyring,
    progress: Progress | None = None,
    *,
    transactions: bool = True,
) -> LoadResult:
    """Load institutions, parties, accounts, devices, logins and transactions of `folder`.

    With `transactions=False` only the reference data goes in, with each account at its
    opening balance, ready for the region's transfers to be sent through the engine."""
    missing = [name for name in FILES if not (folder / f"{name}.parquet").is_file()]
    if missing:
        raise InvalidInput(
            f"{folder} is not a region folder: missing {', '.join(missing)}", "folder"
        )
    tick = progress or (lambda _table, _done, _total: None)
    result = LoadResult()
    history = read_table(folder, "transactions")
    accounts = _balances(read_table(folder, "accounts"), history if transactions else None)
    steps: list[tuple[type[Any], str, str, pa.Table, Make]] = [
        (InstitutionRow, "code", "code", read_table(folder, "institutions"), _institution),
        (PartyRow, "party_id", "party_id", read_table(folder, "parties"), _party(keyring)),
        (AccountRow, "account_no", "account_no", accounts, _account),
        (DeviceRow, "device_id", "device_id", read_table(folder, "devices"), _device),
        (LoginEventRow, "event_id", "login_id", read_table(folder, "logins"), _login),
    ]
    if transactions:
        steps.append((TransactionRow, "tx_id", "tx_id", history, _transaction))
    for row_type, key, source_key, rows, make in steps:
        table: Table = row_type.__table__
        inserted, present = _load_table(database, table, key, source_key, rows, make, tick, folder)
        result.inserted[table.name] = inserted
        result.present[table.name] = present
    return result


def _load_table(
    database: Engine,
    table: Table,
    key: str,
    source_key: str,
    rows: pa.Table,
    make: Make,
    tick: Progress,
    folder: Path,
) -> tuple[int, int]:
    """Insert the rows whose key is not in the table yet, chunk by chunk, in one unit of
    work; only new rows are converted (and, for parties, encrypted). A row the domain refuses
    stops the load, naming the table, the row's key, the field and why.

    A table that was empty before holds none of the keys (a folder's keys are unique): it is
    filled without looking them up."""
    inserted = present = 0
    column = table.c[key]
    with UnitOfWork(database) as uow:
        connection = uow.session.connection()
        empty = connection.execute(select(column).limit(1)).first() is None
        for batch in rows.to_batches(max_chunksize=CHUNK):
            keys = batch.column(source_key).to_pylist()
            found: set[Any] = (
                set()
                if empty
                else set(connection.execute(select(column).where(column.in_(keys))).scalars())
            )
            new = []
            for row_key, r in zip(keys, batch.to_pylist(), strict=True):
                if row_key not in found:
                    try:
                        new.append(make(r))
                    except InvalidInput as error:
                        raise error.at(f"{table.name} {row_key}") from None
            if new:
                connection.execute(insert(table), new)
            inserted += len(new)
            present += len(found)
            tick(table.name, inserted + present, len(rows))
        if inserted:
            uow.audit.record(
                ACTOR,
                "load_region",
                f"region:{folder.name}",
                {"table": table.name, "inserted": inserted, "present": present},
            )
            uow.commit()
    return inserted, present


def _balances(accounts_table: pa.Table, history: pa.Table | None) -> pa.Table:
    """accounts with `balance_fen`: the opening balance plus every inflow minus every outflow
    of the `history` (the folder's transactions), i.e. the balance at the end of the period;
    the opening balance without it (the transactions are not loaded)."""
    accounts = pl.from_arrow(accounts_table)
    tx = pl.from_arrow(history if history is not None else TRANSACTIONS.empty_table())
    assert isinstance(accounts, pl.DataFrame) and isinstance(tx, pl.DataFrame)
    out = tx.group_by(pl.col("payer_account").alias("account_no")).agg(
        pl.col("amount_fen").sum().alias("out")
    )
    into = tx.group_by(pl.col("payee_account").alias("account_no")).agg(
        pl.col("amount_fen").sum().alias("in")
    )
    joined = accounts.join(out, on="account_no", how="left").join(into, on="account_no", how="left")
    return joined.with_columns(
        (
            pl.col("opening_balance_fen") + pl.col("in").fill_null(0) - pl.col("out").fill_null(0)
        ).alias("balance_fen")
    ).to_arrow()


def _institution(r: dict[str, Any]) -> dict[str, Any]:
    return institution_values(
        Institution(r["code"], r["name_zh"], r["name_en"], r["kind"], r["region_code"])
    )


def _party(keyring: Keyring) -> Make:
    def make(r: dict[str, Any]) -> dict[str, Any]:
        kind = PartyKind(r["kind"])
        number = r["id_number"]
        identity = ResidentId(number) if kind == PartyKind.PERSON else CreditCode(number)
        phone = MobilePhone(r["phone"]) if r["phone"] else None
        home = r["home_district"] or r["region_code"]
        return party_values(Party(r["party_id"], kind, r["name"], identity, phone, home), keyring)

    return make


def _account(r: dict[str, Any]) -> dict[str, Any]:
    """Imported accounts do not say how they were opened: as at the counter. Nor when: their
    opening stays unknown (null), never a stand-in time that would make them look new."""
    account = Account(
        r["account_no"],
        r["bank"],
        r["party_id"],
        r["account_class"],
        r["status"],
        r["risk_tier"],
        r["opened_at"],
        r["opening_channel"] or OpeningChannel.COUNTER,
        r["bound_account"],
    )
    return account_values(account, balance_fen=r["balance_fen"])


def _device(r: dict[str, Any]) -> dict[str, Any]:
    return device_values(Device(r["device_id"], r["kind"], r["first_seen_at"]))


def _login(r: dict[str, Any]) -> dict[str, Any]:
    return login_event_values(
        LoginEvent(
            r["login_id"], r["account_no"], r["ts"], r["device_id"], r["ip"], r["city"],
            r["face_check"],
        )
    )  # fmt: skip


def _transaction(r: dict[str, Any]) -> dict[str, Any]:
    """A transaction's record is its row."""
    return r
