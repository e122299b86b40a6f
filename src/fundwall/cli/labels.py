"""`fundwall labels export`: the outcomes of closed cases as a Parquet table of labelled
accounts and transactions, for backtests and model training (schema:
`fundwall.cases.labels`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="labels",
    help="Labels from closed cases: accounts and transactions with their case's outcome.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="The Parquet file to write (replaced whole).")],
) -> None:
    """Write every closed case's accounts and transactions with its outcome to --out."""
    from fundwall import bootstrap
    from fundwall.cases import export_labels

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        rows = export_labels(uow, platform.operator, out)
    console.print(f"{rows} label rows written to {out}")
