"""The root command group, which imports a command's module only when the command is used.

Every command of `fundwall.cli.commands.COMMANDS` starts as a placeholder that knows only its
name and help line: enough for `fundwall --help`, for listing, and for "did you mean"
suggestions. Resolving a command to run it (or to show its own `--help`) swaps the
placeholder for the real command, built from its module as `typer` builds any command.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from fundwall.cli.commands import COMMANDS, Entry

Context = Any
"""typer's (vendored click's) context; typer exports no public name for it."""


class Placeholder(TyperCommand):
    """A command not imported yet: its name and help line."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(name=entry.name, help=entry.help)
        self.entry = entry


def load(entry: Entry) -> Any:
    """The command `entry` names, imported and built (a group for a `typer.Typer`)."""
    module, attribute = entry.target.split(":")
    target = getattr(importlib.import_module(module), attribute)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(entry.name)(target)
        command = typer.main.get_command(single)
    command.name = entry.name
    return command


class LazyGroup(TyperGroup):
    """The `fundwall` group: every command a placeholder until it is resolved."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for entry in COMMANDS:
            self.commands.setdefault(entry.name, Placeholder(entry))

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, Placeholder) and name is not None:
            command = self.commands[name] = load(command.entry)
        return name, command, rest
