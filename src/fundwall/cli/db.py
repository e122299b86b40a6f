"""`fundwall db`: create and upgrade the database schema, show its revision."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="db",
    help="The database schema: create or upgrade it, show its revision.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)


@app.command()
def upgrade(
    revision: Annotated[
        str, typer.Option(help="Revision to reach; the newest by default.")
    ] = "head",
) -> None:
    """Create the database if missing and bring its schema to the newest revision."""
    from alembic.util import CommandError

    from fundwall.config import get_settings
    from fundwall.domain.errors import InvalidInput
    from fundwall.store import migrate

    url = get_settings().database_url
    try:
        result = migrate.upgrade(url, revision)
    except CommandError as error:
        raise InvalidInput(str(error), "revision") from None
    console.print(result.summary())


@app.command()
def current() -> None:
    """Show the schema revision of the configured database."""
    from fundwall.config import get_settings
    from fundwall.store import migrate
    from fundwall.store.database import display_url

    url = get_settings().database_url
    found = migrate.database_revision(url)
    head = migrate.head_revision()
    where = display_url(url)
    if found is None:
        console.print(
            f"{where}: no Fundwall schema yet (newest is {head}); run `fundwall db upgrade`"
        )
    elif found == head:
        console.print(f"{where}: revision {found} (head)")
    else:
        console.print(f"{where}: revision {found}, newest is {head}; run `fundwall db upgrade`")
