"""The schema revision this code needs, checked at every start without importing alembic
(with mako and pygments, a sixth of a second at each `fundwall serve` and command that opens
the store). `fundwall.store.migrate` runs the migrations; a test holds `SCHEMA_HEAD` equal to
their head, so a new migration that forgets to move it fails the suite."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, Engine, inspect, text

from fundwall.domain.errors import Conflict
from fundwall.store.database import reachable

SCHEMA_HEAD: Final = "0020"
"""The newest migration's revision (src/fundwall/store/migrations/versions)."""

VERSION_TABLE: Final = "alembic_version"
"""Where alembic keeps the revision a database is at."""


def stored_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for a database without our schema."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def require_current(database: Engine) -> None:
    """Conflict unless the database has this code's schema: say to run `fundwall db upgrade`."""
    with reachable(database.url.render_as_string(hide_password=False)), database.connect() as conn:
        current = stored_revision(conn)
    if current == SCHEMA_HEAD:
        return
    where = database.url.render_as_string(hide_password=True)
    found = "has no Fundwall schema" if current is None else f"is at revision {current}"
    raise Conflict(
        f"the database {where} {found}, this code needs {SCHEMA_HEAD}: run `fundwall db upgrade`"
    )
