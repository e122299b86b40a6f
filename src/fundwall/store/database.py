"""Opening the database: SQLite by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from fundwall.domain.errors import FundwallError, InvalidInput

SQLITE_BUSY_TIMEOUT_S = 30
SUPPORTED_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})


def parse_url(url: str) -> URL:
    """The URL as SQLAlchemy reads it; InvalidInput naming `database_url` if it cannot.

    A bare `postgresql://` means the psycopg 3 driver, the only PostgreSQL driver installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(f"not a database URL: {url!r}", field="database_url") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise InvalidInput(
            f"unsupported database driver {parsed.drivername!r}: use sqlite:/// or "
            "postgresql+psycopg://",
            field="database_url",
        )
    return parsed


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return parse_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory SQLite database."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Off by default in SQLite; without it the REFERENCES clauses are decoration.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers no longer block the writer (the engine reads while services write).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


CHECKPOINT_SECONDS: Final = 1.0


class Checkpoints(threading.Thread):
    """Checkpoints a SQLite database's write-ahead log every `CHECKPOINT_SECONDS`, passively
    (never waiting for readers or writers), on a connection of its own, opened at the first
    round (a command done within a second never opens it): the copy into the database file
    and its sync run beside the process's other work (the driver releases the GIL
    meanwhile). Stop it before disposing of the database."""

    def __init__(self, database: Engine) -> None:
        super().__init__(name="sqlite-checkpoints", daemon=True)
        self._database = database
        self._stopped = threading.Event()
        self.start()

    def run(self) -> None:
        connection: Connection | None = None
        try:
            while not self._stopped.wait(CHECKPOINT_SECONDS):
                if connection is None:
                    connection = self._database.connect()
                try:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                except DBAPIError as error:  # the next round tries again
                    if error.connection_invalidated:
                        return
                finally:
                    connection.rollback()
        finally:
            if connection is not None:
                connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(CHECKPOINT_SECONDS * 10)


def checkpoint_apart(database: Engine) -> Checkpoints | None:
    """For a SQLite file: from now on no commit on `database`'s connections checkpoints the
    write-ahead log, which SQLite otherwise does within the commit that takes it past a
    thousand pages (some milliseconds, every few hundred small commits: the slowest
    percent of a workflow's calls); a thread does it once a second instead (returned, to be
    stopped before the database is disposed of). Call it before the first connection. None
    for any other database."""
    if database.dialect.name != "sqlite" or sqlite_path(str(database.url)) is None:
        return None
    event.listen(database, "connect", _no_autocheckpoint)
    return Checkpoints(database)


def open_database(url: str, *, echo: bool = False) -> Engine:
    """An Engine for `url`, with SQLite set up for foreign keys and WAL.

    A missing SQLite directory is created, so a fresh data directory just works.
    """
    parsed = parse_url(url)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
    database = create_engine(parsed, echo=echo, connect_args=connect_args)
    if parsed.get_backend_name() == "sqlite":
        event.listen(database, "connect", _on_sqlite_connect)
    return database


# Not frozen, like the domain errors: contextlib sets __traceback__ on exceptions it re-raises.
@dataclass(eq=False)
class DatabaseUnavailableError(FundwallError):
    """The database cannot be reached or used (down, wrong password, locked, disk full)."""

    url: str
    reason: str

    kind = "database-unavailable"

    def message(self) -> str:
        return f"cannot use the database at {display_url(self.url)}: {self.reason}"


@contextmanager
def reachable(url: str) -> Iterator[None]:
    """`with reachable(url):` turns a driver's operational failure into one
    DatabaseUnavailableError line naming the database."""
    try:
        yield
    except OperationalError as error:
        text = str(error.orig if error.orig is not None else error).strip()
        first_line = text.splitlines()[0] if text else "unknown error"
        raise DatabaseUnavailableError(url, first_line) from None
