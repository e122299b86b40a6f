"""`load_region`: put a region folder into the store, once.

Loading is idempotent: each table is loaded in its own unit of work, rows whose key is already
there are left alone, and a load that inserts nothing writes nothing (not even an audit
record). So a load that was interrupted is finished by running it again. Rows go in with
bulk core inserts (executemany) in chunks. Names, ID numbers and phones are stored SM4-GCM
encrypted beside their SM3-HMAC keyed hashes (`fundwall.crypto.Keyring`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import Engine, Table, insert, select

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import COLUMNS as TRANSACTION_COLUMNS
from fundwall.region import FILES, read_table
from fundwall.store import UnitOfWork
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
    steps: list[tuple[type[Any], str, str, pa.Table, Make]] = [
        (InstitutionRow, "code", "code", read_table(folder, "institutions"), _institution),
        (PartyRow, "party_id", "party_id", read_table(folder, "parties"), _party(keyring)),
        (AccountRow, "account_no", "account_no", _balances(folder, transactions), _account),
        (DeviceRow, "device_id", "device_id", read_table(folder, "devices"), _device_row),
        (LoginEventRow, "event_id", "login_id", read_table(folder, "logins"), _login),
    ]
    if transactions:
        steps.append(
            (TransactionRow, "tx_id", "tx_id", read_table(folder, "transactions"), _transaction)
        )
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
    work; only new rows are converted (and, for parties, encrypted)."""
    inserted = present = 0
    column = table.c[key]
    with UnitOfWork(database) as uow:
        connection = uow.session.connection()
        for batch in rows.to_batches(max_chunksize=CHUNK):
            source = batch.to_pylist()
            keys = [r[source_key] for r in source]
            found = set(connection.execute(select(column).where(column.in_(keys))).scalars())
            new = [make(r) for r in source if r[source_key] not in found]
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


def _balances(folder: Path, after_transactions: bool) -> pa.Table:
    """accounts with `balance_fen`: the opening balance plus every inflow minus every outflow
    of the folder, i.e. the balance at the end of the period (or the opening balance when the
    transactions are not loaded)."""
    accounts = pl.from_arrow(read_table(folder, "accounts"))
    tx = pl.from_arrow(read_table(folder, "transactions"))
    if not after_transactions:
        tx = tx.clear()
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
    return {
        "code": r["code"],
        "name_zh": r["name_zh"],
        "name_en": r["name_en"],
        "kind": r["kind"],
        "region": r["region_code"],
    }


def _party(keyring: Keyring) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def make(r: dict[str, Any]) -> dict[str, Any]:
        phone = r["phone"]
        born = r["birth_date"]
        return {
            "party_id": r["party_id"],
            "kind": r["kind"],
            "name_enc": keyring.encrypt(r["name"]),
            "id_number_enc": keyring.encrypt(r["id_number"]),
            "id_number_hash": keyring.keyed_hash(ID_HASH_KIND, r["id_number"]),
            "phone_enc": keyring.encrypt(phone) if phone else None,
            "phone_hash": keyring.keyed_hash(PHONE_HASH_KIND, phone) if phone else None,
            "home_region": r["home_district"] or r["region_code"],
            "birth_year": born.year if born else None,
        }

    return make


def _account(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_no": r["account_no"],
        "institution_code": r["bank"],
        "party_id": r["party_id"],
        "account_class": r["account_class"],
        "status": r["status"],
        "risk_tier": r["risk_tier"],
        "opened_at": r["opened_at"],
        "opening_channel": r["opening_channel"] or "counter",
        "bound_account": r["bound_account"],
        "balance_fen": r["balance_fen"],
    }


def _device_row(r: dict[str, Any]) -> dict[str, Any]:
    return {"device_id": r["device_id"], "kind": r["kind"], "first_seen": r["first_seen_at"]}


def _login(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": r["login_id"],
        "account_no": r["account_no"],
        "ts": r["ts"],
        "device_id": r["device_id"],
        "ip": r["ip"],
        "city": r["city"],
        "face_check": r["face_check"],
    }


def _transaction(r: dict[str, Any]) -> dict[str, Any]:
    return {c: r[c] for c in TRANSACTION_COLUMNS}
