"""Test stores opened as a platform, and stores filled once per session and copied into each
test's own (`KeptStores`): shared by tests/conftest.py and the conftests that fill stores."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, literal, select
from sqlalchemy.engine import make_url

from fast_settings import TEST_PORTAL
from fundwall import bootstrap
from fundwall.auth.passwords import Passwords
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.config import load_settings
from fundwall.store.tables import Base

TEST_OPERATOR = "test"
"""The test platforms' operator: `system:test` in the audit log."""


def run_postgres(database_url: str, statements: str) -> None:
    """Send `statements` (one string, one round trip) to the database at `database_url`."""
    database = create_engine(database_url)
    try:
        with database.begin() as connection:
            connection.exec_driver_sql(statements)
    finally:
        database.dispose()


@contextmanager
def opened_platform(database_url: str, clock: FixedClock, data_dir: Path) -> Iterator[Platform]:
    """The platform (`fundwall.bootstrap`) over a migrated `database_url`, on `clock`, acting
    as `system:test`, with cheap password hashing and `data_dir` as its data directory (its
    keyring is the key files under `data_dir/keys`); disposed at the end."""
    settings = load_settings(
        config_file=None,
        data_dir=data_dir,
        database_url=database_url,
        portal=TEST_PORTAL,
    )
    with bootstrap.opened(
        settings,
        clock=clock,
        operator=TEST_OPERATOR,
        passwords=Passwords.fast_for_tests(),
        check_schema=False,  # migrated just now
    ) as opened:
        yield opened


Fill = Callable[[Platform], object]


@dataclass(frozen=True)
class _KeptStore:
    """A filled store's copy: its key files, and its SQLite file or the PostgreSQL
    statements that put its rows back into an emptied store."""

    keys: Path
    sqlite_file: Path | None = None
    postgres_restore: str = ""


class KeptStores:
    """Stores that many tests fill alike, filled once per session and backend: the first test
    to ask fills its own store and keeps a copy of it and of the key files its personal data
    is encrypted under; every later test gets a copy of those, in milliseconds instead of the
    seconds a fill (a region's load) takes. Each test still has a store of its own."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._kept: dict[tuple[str, str], _KeptStore] = {}

    @contextmanager
    def opened(
        self, name: str, fill: Fill, database_url: str, clock: FixedClock, data_dir: Path
    ) -> Iterator[Platform]:
        """`opened_platform` over `database_url` (a `migrated_database_url`, empty) holding
        what `fill` puts in a platform's store (`name` names it: the same fill, at the same
        clock time, wherever it is used), with its key files under `data_dir/keys`, which
        must not exist yet (so no `keyring` or `platform` fixture in the same test)."""
        backend = make_url(database_url).get_backend_name()
        kept = self._kept.get((name, backend))
        if kept is None:
            with opened_platform(database_url, clock, data_dir) as platform:
                fill(platform)
            self._kept[(name, backend)] = self._keep(database_url, data_dir)
        else:
            shutil.copytree(kept.keys, data_dir / "keys")
            if kept.sqlite_file is not None:
                shutil.copyfile(kept.sqlite_file, _sqlite_path(database_url))
            else:
                run_postgres(database_url, kept.postgres_restore)
        with opened_platform(database_url, clock, data_dir) as platform:
            yield platform

    def _keep(self, database_url: str, data_dir: Path) -> _KeptStore:
        copy = self._folder / f"store{len(self._kept) + 1}"
        keys = shutil.copytree(data_dir / "keys", copy / "keys")
        if make_url(database_url).get_backend_name() == "sqlite":
            return _KeptStore(keys, shutil.copyfile(_sqlite_path(database_url), copy / "store.db"))
        return _KeptStore(keys, postgres_restore=_keep_postgres_rows(database_url, copy.name))


def _sqlite_path(database_url: str) -> Path:
    return Path(str(make_url(database_url).database))


def _keep_postgres_rows(database_url: str, name: str) -> str:
    """Copy the non-empty tables of the store at `database_url` into a schema of the session
    database; the statements that put their rows back into the store emptied, each table's
    id sequence set past them."""
    schema = f"kept_{name}_{secrets.token_hex(3)}"
    database = create_engine(database_url)
    try:
        with database.begin() as connection:
            filled = [
                table
                for table in Base.metadata.sorted_tables
                if connection.execute(select(literal(1)).select_from(table).limit(1)).first()
            ]
            connection.exec_driver_sql(
                ";".join(
                    [
                        f'CREATE SCHEMA "{schema}"',
                        *(
                            f'CREATE TABLE "{schema}"."{t.name}" AS SELECT * FROM "{t.name}"'
                            for t in filled
                        ),
                    ]
                )
            )
    finally:
        database.dispose()
    return ";".join(
        [
            "SET LOCAL lock_timeout = '10s'",
            *(f'DELETE FROM "{t.name}"' for t in reversed(filled)),
            *(f'INSERT INTO "{t.name}" SELECT * FROM "{schema}"."{t.name}"' for t in filled),
            *(
                f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', '{column.name}'), "
                f'max("{column.name}")) FROM "{t.name}"'
                for t in filled
                if (column := t.autoincrement_column) is not None
            ),
        ]
    )
