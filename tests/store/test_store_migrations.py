"""Migrations build the schema from nothing, on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import insert, inspect, text

from fundwall.crypto import Keyring
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.devices import FaceCheck, LoginEvent
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.identity import ResidentId
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.parties import Party, PartyKind
from fundwall.store import DatabaseUnavailableError, open_database
from fundwall.store.database import display_url, parse_url, reachable
from fundwall.store.mapping import (
    account_values,
    institution_values,
    login_event_values,
    party_values,
)
from fundwall.store.migrate import alembic_config, database_revision, head_revision, upgrade
from fundwall.store.schema import SCHEMA_HEAD, require_current
from fundwall.store.tables import Base

TABLES = {
    "institutions",
    "parties",
    "accounts",
    "devices",
    "login_events",
    "transactions",
    "decisions",
    "audit_log",
    "audit_head",
}


def test_upgrade_from_empty_creates_every_table_and_the_chain_head(database_url: str) -> None:
    assert database_revision(database_url) is None
    result = upgrade(database_url)
    assert (result.before, result.after) == (None, head_revision())
    database = open_database(database_url)
    try:
        assert set(inspect(database).get_table_names()) >= TABLES
        with database.connect() as connection:
            head = connection.execute(text("SELECT id, seq, hash FROM audit_head")).all()
        assert [tuple(row) for row in head] == [(1, 0, "0" * 64)]
    finally:
        database.dispose()
    assert database_revision(database_url) == head_revision()


def test_upgrade_twice_changes_nothing_and_says_so(database_url: str) -> None:
    upgrade(database_url)
    again = upgrade(database_url)
    assert again.before == again.after == head_revision()
    assert again.summary().endswith(f"already at revision {head_revision()} (head)")


def test_models_and_migrations_describe_the_same_schema(migrated_database_url: str) -> None:
    database = open_database(migrated_database_url)
    try:
        with database.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        database.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds(database_url: str) -> None:
    upgrade(database_url)
    database = open_database(database_url)
    try:
        with database.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(database).get_table_names()) <= {"alembic_version"}
    finally:
        database.dispose()
    assert upgrade(database_url).after == head_revision()


OPENED = datetime(2023, 3, 1, tzinfo=UTC)
ACCOUNT_NO = "6222020000000001"


def _an_account_and_its_login(url: str, keyring: Keyring, opened_at: datetime | None) -> None:
    """One account, as the code writes it (in the columns the database's revision has), and a
    login referencing it."""
    bank = Institution("B001", "厦门银行", "Xiamen Bank", InstitutionKind.BANK, "350200")
    holder = Party("P1", PartyKind.PERSON, "张三", ResidentId("11010519491231002X"), None, "350203")
    account = Account(
        ACCOUNT_NO,
        "B001",
        "P1",
        AccountClass.CLASS_I,
        AccountStatus.NORMAL,
        RiskTier.LOW,
        opened_at=opened_at,
        opening_channel=OpeningChannel.COUNTER,
    )
    login = LoginEvent("L1", ACCOUNT_NO, OPENED, None, None, None, FaceCheck.PASSED)
    tables = Base.metadata.tables
    database = open_database(url)
    try:
        columns = {column["name"] for column in inspect(database).get_columns("accounts")}
        values = {name: v for name, v in account_values(account).items() if name in columns}
        with database.begin() as connection:
            connection.execute(insert(tables["institutions"]), institution_values(bank))
            connection.execute(insert(tables["parties"]), party_values(holder, keyring))
            connection.execute(insert(tables["accounts"]), values)
            connection.execute(insert(tables["login_events"]), login_event_values(login))
    finally:
        database.dispose()


def _opened_at_nullable(url: str) -> bool:
    database = open_database(url)
    try:
        columns = inspect(database).get_columns("accounts")
    finally:
        database.dispose()
    return bool(next(c for c in columns if c["name"] == "opened_at")["nullable"])


def test_upgrade_to_unknown_openings_keeps_accounts_other_rows_reference(
    database_url: str, keyring: Keyring
) -> None:
    """SQLite rebuilds the accounts table for 0010: the logins referencing it stay valid."""
    upgrade(database_url, "0009")
    _an_account_and_its_login(database_url, keyring, OPENED)
    assert upgrade(database_url).after == head_revision()
    assert _opened_at_nullable(database_url)
    database = open_database(database_url)
    try:
        with database.connect() as connection:
            joined = connection.execute(
                text(
                    "SELECT a.opened_at FROM login_events l "
                    "JOIN accounts a ON a.account_no = l.account_no"
                )
            ).all()
    finally:
        database.dispose()
    assert len(joined) == 1 and joined[0][0] is not None


def test_downgrade_below_unknown_openings_is_refused_while_one_is_unknown(
    database_url: str, keyring: Keyring
) -> None:
    upgrade(database_url)
    _an_account_and_its_login(database_url, keyring, None)
    accounts = Base.metadata.tables["accounts"]
    database = open_database(database_url)
    try:
        with (
            database.begin() as connection,
            pytest.raises(Conflict, match="1 accounts have an unknown opening"),
        ):
            command.downgrade(alembic_config(connection), "0009")
        with database.begin() as connection:
            connection.execute(Base.metadata.tables["login_events"].delete())
            connection.execute(accounts.delete())
        with database.begin() as connection:
            command.downgrade(alembic_config(connection), "0009")
    finally:
        database.dispose()
    assert database_revision(database_url) == "0009"
    assert not _opened_at_nullable(database_url)


def test_sqlite_file_and_directory_are_created_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "new" / "nested" / "fundwall.db"
    url = f"sqlite:///{path}"
    result = upgrade(url)
    assert path.is_file()
    assert result.created_database
    assert result.summary() == f"upgraded {url} from a new database to revision {head_revision()}"
    database = open_database(url)
    try:
        with database.connect() as connection:
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
    finally:
        database.dispose()


def test_revision_of_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    assert database_revision(f"sqlite:///{tmp_path / 'absent.db'}") is None
    assert not (tmp_path / "absent.db").exists()


def test_code_refuses_a_database_without_its_schema(database_url: str) -> None:
    database = open_database(database_url)
    try:
        with pytest.raises(Conflict, match=r"has no Fundwall schema.*run `fundwall db upgrade`"):
            require_current(database)
        upgrade(database_url, "0019")
        with pytest.raises(Conflict, match=r"is at revision 0019, this code needs"):
            require_current(database)
        upgrade(database_url)
        require_current(database)
    finally:
        database.dispose()


def test_the_schema_head_the_code_checks_is_the_newest_migration() -> None:
    """A new migration moves `SCHEMA_HEAD` too, or every start would refuse the database."""
    assert head_revision() == SCHEMA_HEAD


def test_unknown_revision_is_reported_by_alembic(database_url: str) -> None:
    with pytest.raises(CommandError, match="nosuch"):
        upgrade(database_url, "nosuch")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("not a url", "not a database URL"),
        ("mysql://root@localhost/fw", "unsupported database driver 'mysql'"),
        ("postgresql+asyncpg://u@h/d", "unsupported database driver"),
    ],
)
def test_bad_urls_are_invalid_input(url: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        parse_url(url)
    assert caught.value.field == "database_url"


def test_bare_postgresql_means_psycopg_and_passwords_are_hidden() -> None:
    assert parse_url("postgresql://u:pw@h/d").drivername == "postgresql+psycopg"
    assert display_url("postgresql+psycopg://u:pw@h/d") == "postgresql+psycopg://u:***@h/d"


def test_unreachable_server_is_one_clear_error() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
    with pytest.raises(DatabaseUnavailableError) as caught:
        upgrade(url)
    message = str(caught.value)
    assert message.startswith(
        "cannot use the database at postgresql+psycopg://postgres@127.0.0.1:1"
    )
    assert "\n" not in message


def test_reachable_lets_other_errors_through() -> None:
    with pytest.raises(KeyError), reachable("sqlite://"):
        raise KeyError("not a database problem")
