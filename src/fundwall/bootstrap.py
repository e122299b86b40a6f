"""The composition root: every entrypoint (CLI command, `serve`, `demo`, `bench`, tests'
fixtures) builds the parts it needs here, once, instead of wiring them itself.

    with bootstrap.opened() as platform:          # the settings' database, schema checked
        with platform.unit_of_work() as uow:
            record = promote(uow, platform.operator, version)

`Platform` holds the settings, the database, the clock and the keyring; it disposes of the
database when the block ends. Workflows' use cases take the unit of work and the actor from
their caller; nothing below this module opens a database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from fundwall.auth.actor import Actor
from fundwall.clock import Clock, SystemClock
from fundwall.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from fundwall.crypto import Keyring
    from fundwall.store.uow import UnitOfWork

CLI_OPERATOR = "cli"
"""How the audit log names whoever runs `fundwall` commands (`system:cli`)."""


@dataclass(eq=False)
class Platform:
    """The deployment's parts, built once per process (or per command)."""

    settings: Settings
    database: Engine
    clock: Clock = field(default_factory=SystemClock)
    operator: Actor = field(default_factory=lambda: Actor.operator(CLI_OPERATOR))
    """Who acts when the server's own operator runs a command."""

    @cached_property
    def keyring(self) -> Keyring:
        """The deployment's personal-data keys (read, or made on first use)."""
        from fundwall.crypto import Keyring

        return Keyring.from_settings(self.settings)

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work over the database, on the platform's clock."""
        from fundwall.store.uow import UnitOfWork

        return UnitOfWork(self.database, clock=self.clock)

    def close(self) -> None:
        self.database.dispose()


@contextmanager
def opened(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    operator: str = CLI_OPERATOR,
    check_schema: bool = True,
) -> Iterator[Platform]:
    """The platform over `settings` (default: the process's), disposed of at the end.
    `check_schema` refuses a database that is not at the newest migration, with the command
    that fixes it."""
    from fundwall.store.database import open_database
    from fundwall.store.migrate import require_current

    settings = settings if settings is not None else get_settings()
    platform = Platform(
        settings,
        open_database(settings.database_url),
        clock if clock is not None else SystemClock(),
        Actor.operator(operator),
    )
    try:
        if check_schema:
            require_current(platform.database)
        yield platform
    finally:
        platform.close()
