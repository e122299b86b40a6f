"""Alembic environment: runs on the connection `fundwall.store.migrate` hands over.

Run outside Fundwall (plain `alembic` with a config pointing here), it opens the database of
the current settings instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from fundwall.store.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from fundwall import bootstrap

    with bootstrap.opened(check_schema=False) as platform, platform.database.connect() as fresh:
        _run(fresh)


_main()
