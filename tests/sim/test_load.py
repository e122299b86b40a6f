"""`load_region` on SQLite and PostgreSQL: everything goes in once, personal data encrypted."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, Keyring
from fundwall.domain.errors import InvalidInput
from fundwall.region import read_table, write_table
from fundwall.sim.load import load_region
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
    assert audit == len(TABLES)
    second = load_region(tiny, database, keyring)
    assert set(second.inserted.values()) == {0}
    assert second.present == first.inserted
    assert _count(database, AuditRow) == audit
    for name, row_type in TABLES.items():
        assert _count(database, row_type) == read_table(tiny, name).num_rows


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


def test_an_imported_folder_is_refused_before_anything_is_written(
    tmp_path: Path, database: Engine, keyring: Keyring
) -> None:
    """Imports leave the accounts' openings unknown, which the store cannot hold yet; a
    stand-in opening would make every such account look newly opened to the engine."""
    from fundwall.sim.importers import import_paysim

    src = tmp_path / "p.csv"
    src.write_text(
        "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
        "newbalanceDest,isFraud,isFlaggedFraud\n"
        "1,PAYMENT,5,C1,10,5,M2,0,0,0,0\n2,TRANSFER,5,C1,5,0,C3,0,5,1,0\n"
        "2,CASH_OUT,5,C3,5,0,C4,0,0,1,0\n"
    )
    import_paysim(src, tmp_path / "region")
    with pytest.raises(InvalidInput, match="4 accounts have no opening time") as error:
        load_region(tmp_path / "region", database, keyring)
    assert error.value.field == "opened_at"
    assert _count(database, InstitutionRow) == _count(database, PartyRow) == 0


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
