"""`load_region` on SQLite and PostgreSQL: everything goes in once, personal data encrypted."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from fundwall.auth.actor import Actor
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.region import read_table, write_table
from fundwall.rulepacks.registry import promote, register_pack
from fundwall.sim.load import load_region
from fundwall.sim.params import START
from fundwall.store.tables import (
    AccountRow,
    AuditRow,
    DeviceRow,
    InstitutionRow,
    LoginEventRow,
    PartyRow,
    TransactionRow,
)

TABLES = {
    "institutions": InstitutionRow,
    "parties": PartyRow,
    "accounts": AccountRow,
    "devices": DeviceRow,
    "logins": LoginEventRow,
    "transactions": TransactionRow,
}


def _count(database: Engine, row_type: type) -> int:
    with database.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(row_type)).scalar_one())


def test_loading_twice_inserts_everything_once(
    tiny: Path, database: Engine, keyring: Keyring
) -> None:
    first = load_region(tiny, database, keyring)
    for name, row_type in TABLES.items():
        rows = read_table(tiny, name).num_rows
        assert _count(database, row_type) == rows, name
        assert first.inserted[row_type.__tablename__] == rows
    audit = _count(database, AuditRow)
    assert audit == len(TABLES) + 2  # and the phone registry and the declared phones' bindings
    second = load_region(tiny, database, keyring)
    assert set(second.inserted.values()) == {0}
    assert second.present == first.inserted
    assert _count(database, AuditRow) == audit
    for name, row_type in TABLES.items():
        assert _count(database, row_type) == read_table(tiny, name).num_rows


def test_a_load_leaves_postgresql_planning_with_the_loaded_values(
    tiny: Path, database: Engine, keyring: Keyring
) -> None:
    """Right after a load, the accounts reported since the newest revision are found through
    the index, not by reading every account."""
    load_region(tiny, database, keyring)
    query = "SELECT account_no FROM accounts WHERE revision > 1000000"
    with database.connect() as connection:
        if database.dialect.name == "postgresql":
            plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {query}").scalars())
        else:  # SQLite's planner takes the index without statistics
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}").all()
            plan = "\n".join(str(row[-1]) for row in rows)
    assert "INDEX" in plan.upper() and "Seq Scan" not in plan, plan


def test_personal_data_is_encrypted_and_hashed(
    tiny: Path, database: Engine, keyring: Keyring
) -> None:
    load_region(tiny, database, keyring)
    party = read_table(tiny, "parties").slice(0, 1).to_pylist()[0]
    with database.connect() as connection:
        row = connection.execute(
            select(PartyRow).where(PartyRow.party_id == party["party_id"])
        ).one()
    assert party["id_number"].encode() not in row.id_number_enc
    assert keyring.decrypt(row.id_number_enc) == party["id_number"]
    assert keyring.decrypt(row.phone_enc) == party["phone"]
    assert keyring.decrypt(row.name_enc) == party["name"]
    assert row.id_number_hash == keyring.keyed_hash(ID_HASH_KIND, party["id_number"])
    assert row.phone_hash == keyring.keyed_hash(PHONE_HASH_KIND, party["phone"])
    assert row.home_region == party["home_district"]
    assert row.birth_year == party["birth_date"].year


def test_account_balances_are_the_closing_balances(
    tiny: Path, database: Engine, keyring: Keyring
) -> None:
    load_region(tiny, database, keyring)
    tx = pl.from_arrow(read_table(tiny, "transactions"))
    accounts = pl.from_arrow(read_table(tiny, "accounts"))
    assert isinstance(tx, pl.DataFrame) and isinstance(accounts, pl.DataFrame)
    busiest = tx["payer_account"].drop_nulls().mode()[0]
    opening = accounts.filter(pl.col("account_no") == busiest)["opening_balance_fen"][0]
    paid = tx.filter(pl.col("payer_account") == busiest)["amount_fen"].sum()
    got = tx.filter(pl.col("payee_account") == busiest)["amount_fen"].sum()
    with database.connect() as connection:
        stored = connection.execute(
            select(AccountRow.balance_fen).where(AccountRow.account_no == busiest)
        ).scalar_one()
    assert stored == opening - paid + got >= 0


def test_a_folder_that_is_not_a_region_is_refused(
    tmp_path: Path, database: Engine, keyring: Keyring
) -> None:
    with pytest.raises(InvalidInput, match="not a region folder"):
        load_region(tmp_path, database, keyring)
    assert _count(database, PartyRow) == 0


AMLSIM_ACCOUNTS = (
    "acct_id,dsply_nm,type,acct_stat,acct_rptng_crncy,prior_sar_count,branch_id,open_dt,"
    "close_dt,initial_deposit,tx_behavior_id,bank_id\n"
    "10,C_10,SAV,A,USD,False,1,2017-01-01T00:00:00Z,2019-09-28T00:00:00Z,500.0,1,default\n"
    "11,C_11,SAV,A,USD,True,1,2017-01-11T00:00:00Z,2019-09-28T00:00:00Z,600.0,1,default\n"
)
"""AMLSim's converter layout: account 10 opens on the first day (AMLSim's default, which says
nothing of its age: unknown), account 11 ten days into the period (a real opening)."""
AMLSIM_TRANSACTIONS = (
    "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id,is_frgn_trxn\n"
    "1,10,11,TRANSFER,100.5,2017-01-01T00:00:00Z,False,-1,false\n"
    "2,11,10,TRANSFER,99.0,2017-01-12T00:00:00Z,True,3,false\n"
)
AGE_PACK = """
pack:
  id: ages
  version: "1"
  description: {zh: "报告账龄", en: "report account ages"}
policy:
  thresholds: {alert: 30, warn: 50, delay: 70, block: 100}
rules:
  - id: AGE1
    name: {zh: "报告账龄", en: "report the age"}
    typology: mule
    when: amount > 0
    score: 30
    reason: {zh: "开户{payer_age_days}", en: "opened {payer_age_days}"}
""".encode()
"""Alerts on every transaction and quotes the payer's age."""


def test_an_imported_folder_loads_too(
    tmp_path: Path, platform: Platform, database: Engine, keyring: Keyring, clock: FixedClock
) -> None:
    """An import's unknown openings are stored as null, never as a stand-in time, and a
    decision over the store reads such an account's age as unknown (-1)."""
    from fundwall.sim.importers import import_amlsim

    src = tmp_path / "aml"
    src.mkdir()
    (src / "accounts.csv").write_text(AMLSIM_ACCOUNTS)
    (src / "transactions.csv").write_text(AMLSIM_TRANSACTIONS)
    assert import_amlsim(src, tmp_path / "region").bad == []
    result = load_region(tmp_path / "region", database, keyring)
    assert (result.inserted["accounts"], result.inserted["transactions"]) == (2, 2)
    with database.connect() as connection:
        rows = connection.execute(
            select(AccountRow.account_no, AccountRow.opened_at, AccountRow.balance_fen)
        )
        stored = {number: (opened, balance) for number, opened, balance in rows}
    opened = START + timedelta(days=10)
    assert stored == {"AML00000010": (None, 49_850), "AML00000011": (opened, 60_150)}

    with platform.unit_of_work() as uow:
        version = register_pack(uow, Actor.operator("test"), AGE_PACK, name="ages").version
    with platform.unit_of_work() as uow:
        promote(uow, Actor.operator("test"), version)
    service = platform.decision_service()
    try:
        ages = {
            payer: dict(service.decide(_transfer(payer, payee, clock.now())).reasons[0].values)
            for payer, payee in (("AML00000010", "AML00000011"), ("AML00000011", "AML00000010"))
        }
    finally:
        service.close()
    assert ages["AML00000010"]["payer_age_days"] == -1
    assert ages["AML00000011"]["payer_age_days"] == (clock.now() - opened).days


def _transfer(payer: str, payee: str, when: datetime) -> Transaction:
    return Transaction(
        tx_id=f"T-{payer}",
        ts=when,
        kind=TransactionKind.TRANSFER,
        payer_account=payer,
        payee_account=payee,
        payer_bank="AML",
        payee_bank="AML",
        amount=Money.of_fen(100),
        channel=Channel.MOBILE,
    )


def test_a_row_the_domain_refuses_stops_the_load_and_is_named(
    tiny: Path, tmp_path: Path, database: Engine, keyring: Keyring
) -> None:
    folder = tmp_path / "region"
    shutil.copytree(tiny, folder)
    logins = read_table(tiny, "logins")
    bad = logins.column("ip").to_pylist()
    bad[3] = "300.1.1.1"
    write_table(folder, "logins", {**logins.to_pydict(), "ip": bad})
    with pytest.raises(InvalidInput) as error:
        load_region(folder, database, keyring)
    assert (error.value.record, error.value.field) == (
        f"login_events {logins.column('login_id')[3].as_py()}",
        "ip",
    )
    assert _count(database, DeviceRow) == read_table(tiny, "devices").num_rows
    assert _count(database, LoginEventRow) == 0


def test_rows_already_in_a_table_are_skipped_and_the_rest_loaded(
    tiny: Path, database: Engine, keyring: Keyring
) -> None:
    first = read_table(tiny, "institutions").slice(0, 1).to_pylist()[0]
    with database.begin() as connection:
        connection.execute(
            InstitutionRow.__table__.insert(),
            {**{k: first[k] for k in ("code", "name_zh", "name_en", "kind")}, "region": "350200"},
        )
    result = load_region(tiny, database, keyring)
    total = read_table(tiny, "institutions").num_rows
    assert (result.inserted["institutions"], result.present["institutions"]) == (total - 1, 1)
    assert _count(database, InstitutionRow) == total
