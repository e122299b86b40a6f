"""The `fundwall` command line: thin commands over the same services the API and console use.

Each room's commands live in a module of this package and are listed, with their help lines,
in `fundwall.cli.commands`; the root group imports a command's module only when the command is
used (`fundwall.cli.lazy`), so `fundwall --help` and light commands start without the engine.
A FundwallError becomes one clear line and exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from fundwall.cli.lazy import LazyGroup
from fundwall.domain.errors import FundwallError

app = typer.Typer(
    cls=LazyGroup,
    name="fundwall",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def fundwall() -> None:
    """Fundwall: cut the funds chain of telecom and online fraud."""
    # The root's own step: no options of its own. Its commands are the group's
    # (`fundwall.cli.lazy.LazyGroup`), which typer knows nothing of, so this callback is what
    # makes typer build a group at all.


err_console = Console(stderr=True)


def main() -> None:
    """Entry point of the `fundwall` script."""
    try:
        app()
    except FundwallError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)
