"""`fundwall train`: a LightGBM model of a labelled region, trained before a moment and judged
on the time after it (docs/models.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fundwall.cli.backtest import TIME_FORMATS, aware
from fundwall.cli.bulk import BulkEngine, EngineOption, MasterOption, bulk_features
from fundwall.domain.errors import InvalidInput
from fundwall.engine.models.kinds import Target

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _figure(value: object) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def train(
    folder: Annotated[Path, typer.Argument(help="A labelled region folder (sim or import).")],
    out: Annotated[Path, typer.Option(help="Folder to write the model into.")],
    target: Annotated[
        Target, typer.Option(help="What the model scores: transactions or accounts.")
    ] = Target.TRANSACTIONS,
    until: Annotated[
        datetime | None,
        typer.Option(
            help="Train on the history before this time (ISO 8601, UTC if no zone); "
            "default: the 80% point of the region's time.",
            formats=TIME_FORMATS,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
    engine: EngineOption = BulkEngine.LOCAL,
    master: MasterOption = None,
) -> None:
    """Train a model on a region's labels and the engine's own features."""
    from fundwall.engine.models.artifact import write_model
    from fundwall.models.training import train_region

    if engine is BulkEngine.SPARK and target is not Target.TRANSACTIONS:
        raise InvalidInput(
            "--engine spark computes the transactions' features; an accounts model's features "
            "are computed on this machine",
            "engine",
        )
    err_console.print(f"training a {target.value} model on {folder.name} …")
    with bulk_features(engine, master) as features:
        model = train_region(
            folder, target, until=None if until is None else aware(until), features=features
        )
    write_model(out, model)
    if as_json:
        typer.echo(json.dumps(model.card.to_dict(), ensure_ascii=False, indent=2))
        return
    card = model.card
    console.print(
        f"[bold]{model.version}[/] written to {out}: {card.rows:,} rows before {card.until} "
        f"({card.positives:,} positive), {len(card.features)} features, "
        f"{card.params.get('rounds')} trees"
    )
    for period, figures in card.metrics.items():
        shown = ", ".join(f"{name} {_figure(value)}" for name, value in figures.items())
        console.print(f"  {period}: {shown}")
    thresholds = ", ".join(f"{a} ≥ {p:.6g}" for a, p in card.policy.to_dict().items())
    console.print(f"  policy: {thresholds}")
