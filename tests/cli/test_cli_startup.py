"""The command line starts light: `fundwall --help` lists every command without importing
any, a command's `--help` imports its module but none of the data stack, a command that only
reads the database imports the store but not the engine's kernels or Arrow, and every command
and subcommand still shows its help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.cli.commands import COMMANDS, Entry
from fundwall.cli.lazy import load

runner = CliRunner()

DATA_STACK = (
    "numpy", "pyarrow", "pandas", "polars", "numba", "lightgbm", "duckdb", "scipy", "pyspark",
    "py4j", "fundwall.spark",
)  # fmt: skip
"""What computing needs and nothing else should load (PySpark only with `--engine spark`)."""
HELP_FORBIDDEN = (
    *DATA_STACK,
    "sqlalchemy",
    "alembic",
    "fastapi",
    "reportlab",
    "openpyxl",
    "fundwall.engine.features.kernels",
    "fundwall.engine.rules.pack",
    "fundwall.store",
    "fundwall.bootstrap",
)
"""What showing help must not load: the data stack, the store, the server, the engine."""
STORE_FORBIDDEN = ("numba", "pyarrow", "pandas", "polars", "lightgbm", "pyspark")
"""What a command that only reads the database must not load (the store is allowed)."""

# Runs `fundwall ARGS` and prints, as the last line of stderr, the modules it imported.
_RUN = """
import atexit, json, sys
sys.argv[0] = "fundwall"
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
from fundwall.cli import main
main()
"""


def _fundwall(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """Run `fundwall ARGS` in a new interpreter: its output and the modules it imported."""
    environment = {**os.environ, "COLUMNS": "250", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def _loaded(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in modules for bad in forbidden if name == bad or name.startswith(bad + ".")
    )


def _words(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def test_help_lists_every_command_without_importing_one() -> None:
    shown, modules = _fundwall("--help")
    assert _loaded(modules, HELP_FORBIDDEN) == []
    command_modules = {name for name in modules if name.startswith("fundwall.cli.")}
    assert command_modules == {"fundwall.cli.commands", "fundwall.cli.lazy"}
    listed = _words(shown)
    for entry in COMMANDS:
        assert f"{entry.name} {entry.help}" in listed


def test_no_command_loads_the_data_stack_or_the_store_to_show_its_help() -> None:
    """Every command built, as its own `--help` builds it, in one interpreter: whatever one of
    them imports stays, so the union is what the lightest and the heaviest import."""
    code = (
        "import json, sys\n"
        "from fundwall.cli.commands import COMMANDS\n"
        "from fundwall.cli.lazy import load\n"
        "for entry in COMMANDS:\n"
        "    load(entry)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert _loaded(set(json.loads(done.stdout)), HELP_FORBIDDEN) == []


def test_a_command_shows_its_help_with_its_module_alone() -> None:
    shown, modules = _fundwall("user", "list", "--help")
    assert "Usage: fundwall user list" in _words(shown)
    command_modules = {name for name in modules if name.startswith("fundwall.cli.")}
    assert command_modules == {"fundwall.cli.commands", "fundwall.cli.lazy", "fundwall.cli.users"}
    assert _loaded(modules, HELP_FORBIDDEN) == []


@pytest.mark.parametrize("args", [("user", "list"), ("orders", "list"), ("share", "counts")])
def test_a_command_that_reads_the_store_loads_no_kernels_nor_arrow(
    args: tuple[str, ...], configured_store: str
) -> None:
    environment = {name: value for name, value in os.environ.items() if name.startswith("FUNDWALL")}
    _, modules = _fundwall(*args, env=environment)
    assert "sqlalchemy" in modules
    assert _loaded(modules, STORE_FORBIDDEN) == []


def _paths() -> list[tuple[str, ...]]:
    """Every command and subcommand, as the words that name it."""
    paths: list[tuple[str, ...]] = []
    for entry in COMMANDS:
        paths.append((entry.name,))
        subcommands: dict[str, Any] = getattr(load(entry), "commands", {})
        paths.extend((entry.name, name) for name in subcommands)
        for name, sub in subcommands.items():
            paths.extend((entry.name, name, deeper) for deeper in getattr(sub, "commands", {}))
    return paths


@pytest.mark.parametrize("path", _paths(), ids=" ".join)
def test_every_command_and_subcommand_shows_its_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"Usage: fundwall {' '.join(path)}" in _words(result.output)


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda entry: entry.name)
def test_the_listed_help_line_is_the_first_paragraph_of_the_commands_own(entry: Entry) -> None:
    own = load(entry).help or ""
    assert " ".join(own.split("\n\n")[0].split()) == entry.help


def test_an_unknown_command_is_refused_with_a_suggestion() -> None:
    result = runner.invoke(app, ["userz"])
    assert result.exit_code == 2
    assert "Did you mean 'user'" in _words(result.output)
