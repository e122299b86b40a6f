"""`load_region`: put a region folder into the store, once.

Loading is idempotent: each table is loaded in its own unit of work, rows whose key is already
there are left alone, and a load that inserts nothing writes nothing (not even an audit
record). So a load that was interrupted is finished by running it again. Rows go in with
bulk core inserts (executemany) in chunks; on PostgreSQL the tables loaded are analyzed at
the end, so the queries right after a load are planned knowing their values.

Each row of the folder becomes its domain object, so the domain checks it, and goes into the
store through `fundwall.store.mapping`, as the product writes it (names, ID numbers and phones
SM4-GCM encrypted beside their SM3-HMAC keyed hashes). Transactions go in as read: their
records are already the rows (`TRANSACTION_FIELDS` declares both), and checking half a million
of them again would cost more than the whole load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
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
from fundwall.region import TRANSACTIONS, read_table
from fundwall.store import UnitOfWork
from fundwall.store.mapping import (
    account_values,
    device_values,
    institution_values,
    login_event_values,
    party_values,
    phone_binding_values,
    phone_registration_values,
)
from fundwall.store.phone_tables import PhoneBindingRow, PhoneRegistrationRow
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
LOADED = (
    "institutions",
    "parties",
    "accounts",
    "devices",
    "logins",
    "transactions",
    "phone_registry",
)
"""The files a load reads; the ground truth stays in the folder (a folder written before a
label file was added still loads)."""
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
    """Load institutions, parties, accounts, devices, logins and transactions of `folder`,
    then its telecom registry (keyed hashes) and the phone each person declared, bound at
    each member holding one of their accounts (`fundwall.phones`).

    With `transactions=False` only the reference data goes in, with each account at its
    opening balance, ready for the region's transfers to be sent through the engine."""
    missing = [name for name in LOADED if not (folder / f"{name}.parquet").is_file()]
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
    registry = _load_registry(database, read_table(folder, "phone_registry"), keyring, folder)
    result.inserted["phone_registry"], result.present["phone_registry"] = registry
    bindings = _load_bindings(
        database, read_table(folder, "parties"), read_table(folder, "accounts"), keyring, folder
    )
    result.inserted["phone_bindings"], result.present["phone_bindings"] = bindings
    if any(result.inserted.values()):
        _analyze(database, [row_type.__table__.name for row_type, *_ in steps])
    return result


def _analyze(database: Engine, tables: list[str]) -> None:
    """PostgreSQL: the planner's statistics of the loaded tables, at once. Until autovacuum
    gets to them (about a minute after), the planner knows nothing of their values: it
    scanned all of `accounts` for the decision service's read of the accounts reported
    since a revision (`DecisionLog.account_reports`), which the index answers. SQLite's
    planner uses the index without statistics."""
    if database.dialect.name != "postgresql":
        return
    with database.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"ANALYZE {', '.join(tables)}"
        )


def _load_registry(
    database: Engine, rows: pa.Table, keyring: Keyring, folder: Path
) -> tuple[int, int]:
    """The telecom registry as keyed hashes (`fundwall.phones.local`): the registrations not
    there yet (a phone, an ID and a registration time name one)."""
    table = _table_of(PhoneRegistrationRow)
    with UnitOfWork(database) as uow:
        connection = uow.session.connection()
        known = {
            (phone, holder, at.replace(tzinfo=UTC) if at.tzinfo is None else at)
            for phone, holder, at in connection.execute(
                select(table.c.phone_hash, table.c.id_number_hash, table.c.registered_at)
            )
        }
        new = []
        for number, r in enumerate(rows.to_pylist()):
            try:
                values = phone_registration_values(
                    MobilePhone(r["phone"]),
                    ResidentId(r["id_number"]),
                    r["registered_at"],
                    r["deregistered_at"],
                    keyring,
                )
            except InvalidInput as error:
                raise error.at(f"phone_registry row {number}") from None
            if (values["phone_hash"], values["id_number_hash"], r["registered_at"]) not in known:
                new.append(values)
        for start in range(0, len(new), CHUNK):
            connection.execute(insert(table), new[start : start + CHUNK])
        _audit_load(uow, folder, table.name, len(new), len(rows) - len(new))
    return len(new), len(rows) - len(new)


def _load_bindings(
    database: Engine, parties: pa.Table, accounts: pa.Table, keyring: Keyring, folder: Path
) -> tuple[int, int]:
    """The phone each person declared, bound at each member holding one of their accounts
    from the first opening there (unknown when an opening time is): for the pairs of member
    and person without a binding yet. A firm's phone is its owner's and is not bound."""
    people = pl.from_arrow(parties.select(["party_id", "kind", "phone"]))
    held = pl.from_arrow(accounts.select(["bank", "party_id", "opened_at"]))
    assert isinstance(people, pl.DataFrame) and isinstance(held, pl.DataFrame)
    pairs = (
        held.group_by("bank", "party_id")
        .agg(
            pl.when(pl.col("opened_at").null_count() == 0)
            .then(pl.col("opened_at").min())
            .alias("bound_at")
        )
        .join(people, on="party_id")
        .filter((pl.col("kind") == PartyKind.PERSON.value) & pl.col("phone").is_not_null())
        .sort("bank", "party_id")
    )
    table = _table_of(PhoneBindingRow)
    with UnitOfWork(database) as uow:
        connection = uow.session.connection()
        known = set(
            (member, party)
            for member, party in connection.execute(select(table.c.member, table.c.party_id))
        )
        new = []
        for r in pairs.iter_rows(named=True):
            if (r["bank"], r["party_id"]) in known:
                continue
            try:
                phone = MobilePhone(r["phone"])
            except InvalidInput as error:
                raise error.at(f"parties {r['party_id']}") from None
            new.append(
                phone_binding_values(r["bank"], r["party_id"], phone, r["bound_at"], ACTOR, keyring)
            )
        for start in range(0, len(new), CHUNK):
            connection.execute(insert(table), new[start : start + CHUNK])
        _audit_load(uow, folder, table.name, len(new), len(pairs) - len(new))
    return len(new), len(pairs) - len(new)


def _table_of(row_type: type[Any]) -> Table:
    table: Table = row_type.__table__
    return table


def _audit_load(uow: UnitOfWork, folder: Path, table: str, inserted: int, present: int) -> None:
    """Record and commit a table's load; a load that inserted nothing writes nothing."""
    if inserted:
        uow.audit.record(
            ACTOR,
            "load_region",
            f"region:{folder.name}",
            {"table": table, "inserted": inserted, "present": present},
        )
        uow.commit()


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
        _audit_load(uow, folder, table.name, inserted, present)
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
        opening_device=r["opening_device_id"],
        opening_agent=r["opening_agent"],
        last_active_at=r["last_active_at"],
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
