"""`fundwall sim`, `fundwall load` and `fundwall import`: make, load and import region folders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from fundwall.domain.money import Money
from fundwall.sim.params import SIZES

if TYPE_CHECKING:
    from fundwall.sim.importers import ImportResult
    from fundwall.sim.run import Summary


console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

import_app = typer.Typer(
    name="import",
    help="Convert public research data sets (AMLSim, PaySim) into a region folder.",
    no_args_is_help=True,
)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def sim(
    out: Annotated[Path, typer.Option(help="Folder to write the region into.")],
    size: Annotated[str, typer.Option(help=f"One of {', '.join(SIZES)}.")] = "tiny",
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
) -> None:
    """Simulate one region's banking life with fraud woven in, and write it as Parquet."""
    from fundwall.sim.run import STAGES, simulate

    with _progress() as bar:
        task = bar.add_task(f"simulating {size}", total=len(STAGES), stage="")

        def step(stage: str) -> None:
            bar.update(task, advance=1, stage=stage)

        summary = simulate(size, seed, out, step)
    _print_summary(out, summary)


def _print_summary(out: Path, s: Summary) -> None:
    table = Table(title=f"Region {s.size}, seed {s.seed} → {out}", show_header=False)
    for name, count in s.counts.items():
        table.add_row(name, f"{count:,}")
    table.add_row("ordinary transactions dropped (unaffordable)", f"{s.dropped:,}")
    table.add_row("fraud transactions", f"{s.fraud_transactions:,} ({s.fraud_share:.2%})")
    table.add_row("scams", f"{s.scams:,}")
    table.add_row("victim losses", str(Money(int(s.losses_fen))))
    table.add_row("cashed out by gangs", str(Money(int(s.cashed_out_fen))))
    table.add_row("mule accounts (sold or handed over)", f"{s.mules:,} ({s.sold:,})")
    table.add_row("scam money still in mule accounts", str(Money(int(s.still_in_mules_fen))))
    console.print(table)


def _finish(result: ImportResult, out: Path, skip_bad: bool) -> None:
    for bad in result.bad:
        err_console.print(f"bad row: {bad}")
    if result.bad and not skip_bad:
        err_console.print(
            f"[bold red]error:[/] {len(result.bad)} bad row(s); nothing written "
            "(fix them, or pass --skip-bad to import the rest)"
        )
        sys.exit(2)
    if not result.written:
        skipped = f" ({len(result.bad)} bad row(s) skipped)" if result.bad else ""
        err_console.print(
            f"[bold red]error:[/] no transaction could be imported{skipped}; nothing written"
        )
        sys.exit(2)
    if result.bad:
        err_console.print(f"skipped {len(result.bad)} bad row(s)")
    if result.refused:
        err_console.print(
            f"left out {result.refused:,} row(s) the source marks as refused (no money moved)"
        )
    table = Table(title=f"Imported {result.rows:,} rows → {out}", show_header=False)
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


SkipBad = Annotated[bool, typer.Option("--skip-bad", help="Report bad rows and import the others.")]
Out = Annotated[Path, typer.Option(help="Folder to write (must not exist or be empty).")]


@import_app.command("amlsim")
def amlsim(
    src_dir: Annotated[
        Path,
        typer.Argument(help="Folder with nodes.csv or accounts.csv, and transactions.csv."),
    ],
    out: Out,
    skip_bad: SkipBad = False,
) -> None:
    """Import IBM AMLSim output: a graph sample (nodes.csv, transactions.csv) or a converted
    run (accounts.csv, transactions.csv)."""
    from fundwall.sim.importers import import_amlsim

    _finish(import_amlsim(src_dir, out, skip_bad=skip_bad), out, skip_bad)


@import_app.command("paysim")
def paysim(
    src_file: Annotated[Path, typer.Argument(help="The PaySim CSV file.")],
    out: Out,
    skip_bad: SkipBad = False,
) -> None:
    """Import a PaySim mobile-money CSV."""
    from fundwall.sim.importers import import_paysim

    _finish(import_paysim(src_file, out, skip_bad=skip_bad), out, skip_bad)


def load(
    folder: Annotated[Path, typer.Argument(help="A region folder (from sim or import).")],
    transactions: Annotated[
        bool,
        typer.Option(
            help="Load the transactions as decided-nothing history; --no-transactions loads "
            "the reference data only, accounts at their opening balances, so that the "
            "region's transfers can be sent through the engine."
        ),
    ] = True,
) -> None:
    """Load a region folder into the configured database (upgrading its schema first).

    Loading twice changes nothing: rows already present are left alone."""
    from fundwall import bootstrap
    from fundwall.config import get_settings
    from fundwall.sim.load import load_region
    from fundwall.store import display_url, migrate

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    with bootstrap.opened(settings) as platform, _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def tick(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(f"loading {table}", total=total, stage="")
            bar.update(tasks[table], completed=done)

        result = load_region(
            folder, platform.database, platform.keyring, tick, transactions=transactions
        )
    table = Table(title=f"Loaded {folder} into {display_url(settings.database_url)}")
    table.add_column("table")
    table.add_column("inserted", justify="right")
    table.add_column("already present", justify="right")
    for name, count in result.inserted.items():
        table.add_row(name, f"{count:,}", f"{result.present[name]:,}")
    console.print(table)
