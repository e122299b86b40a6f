"""Schema migrations, run from the package itself: no alembic.ini in the working directory."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from fundwall.domain.errors import Conflict
from fundwall.store.database import display_url, open_database, reachable, sqlite_path
from fundwall.store.schema import stored_revision

SCRIPT_LOCATION = "fundwall.store:migrations"

# Any constant works; it only has to be the same for every Fundwall process.
_PG_UPGRADE_LOCK = 0x46570001


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations, bound to `connection`."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the versions folder were missing from the package
        raise RuntimeError("the packaged migrations have no head revision")
    return head


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What `upgrade` did, for the command line to say."""

    url: str
    before: str | None
    after: str | None
    created_database: bool

    def summary(self) -> str:
        where = display_url(self.url)
        if self.before == self.after:
            return f"database {where} already at revision {self.after} (head)"
        start = "a new database" if self.created_database else f"revision {self.before}"
        if self.before is None and not self.created_database:
            start = "an empty database"
        return f"upgraded {where} from {start} to revision {self.after}"


def upgrade(url: str, revision: str = "head") -> UpgradeResult:
    """Bring the database at `url` to `revision`, creating the SQLite file if missing."""
    path = sqlite_path(url)
    created = path is not None and not path.exists()
    database = open_database(url)
    try:
        with reachable(url), database.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode rebuilds a table and drops the original, whose implicit DELETE
                # fails on every row another table references while foreign keys are on.
                # SQLite ignores this pragma inside a transaction, so it comes first; the
                # engine is disposed below, so no connection keeps it; the check after the
                # migrations stands in for the enforcement.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            else:
                # Two processes upgrading at once would both try to create the same tables.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK}
                )
            before = stored_revision(connection)
            command.upgrade(alembic_config(connection), revision)
            if sqlite:
                _require_foreign_keys(connection)
            after = stored_revision(connection)
    finally:
        database.dispose()
    return UpgradeResult(url=url, before=before, after=after, created_database=created)


def _require_foreign_keys(connection: Connection) -> None:
    """Conflict when a SQLite row references a row that is not there."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        table, rowid, parent, _ = broken
        raise Conflict(
            f"after the upgrade, row {rowid} of {table} references a missing row of {parent}"
        )


def database_revision(url: str) -> str | None:
    """The revision of the database at `url`, without creating anything."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    database = open_database(url)
    try:
        with reachable(url), database.connect() as connection:
            return stored_revision(connection)
    finally:
        database.dispose()
