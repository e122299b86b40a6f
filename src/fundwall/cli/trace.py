"""`fundwall trace`: follow victims' money through a region folder's transfers.

    fundwall trace var/regions/small --report R000001            # one report, as a table
    fundwall trace var/regions/small --report R000001 --json     # the whole trace as JSON
    fundwall trace var/regions/small --all-reports --evaluate    # every report, scored
    fundwall trace var/regions/small --evaluate --engine spark   # the same on Apache Spark

The region's own labels score the traces (`--evaluate`): how many of each scam's mule
accounts a trace reaches, how many it reaches are that scam's, how far the amounts still held
are from the truth, and how long a trace takes (docs/tracing.md).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundwall.cli.bulk import BulkEngine, MasterOption, report_map
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.tracing.model import (
    DEFAULT_RULE,
    AttributionRule,
    TraceResult,
    proposed_stops,
    result_dict,
)

console = Console(highlight=False, soft_wrap=True)


def trace(
    region: Annotated[Path, typer.Argument(help="A region folder.", exists=True, file_okay=False)],
    report: Annotated[
        list[str] | None, typer.Option("--report", help="A victim report's id (repeatable).")
    ] = None,
    all_reports: Annotated[
        bool, typer.Option("--all-reports", help="Every report of the region, one by one.")
    ] = False,
    rule: Annotated[
        AttributionRule, typer.Option(help="How money leaving an account is attributed.")
    ] = DEFAULT_RULE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON.")] = False,
    evaluate: Annotated[
        bool, typer.Option(help="Score the traces against the region's labels (JSON).")
    ] = False,
    engine: Annotated[
        BulkEngine,
        typer.Option(help="Where --evaluate traces the reports: this machine, or Apache Spark."),
    ] = BulkEngine.LOCAL,
    master: MasterOption = None,
) -> None:
    """Trace victims' money hop by hop, amount-aware, to where it rests or leaves."""
    from fundwall.tracing.region import evaluate as score
    from fundwall.tracing.region import region_index, report_starts
    from fundwall.tracing.trace import trace as follow

    if evaluate:
        with report_map(engine, master) as each:
            print(json.dumps(score(region, rule, _end_of(region), each), ensure_ascii=False))
        return
    if engine is not BulkEngine.LOCAL or master is not None:
        raise InvalidInput("--engine and --master go with --evaluate", "engine")
    starts = report_starts(region)
    wanted = sorted(starts) if all_reports else list(report or [])
    if not wanted:
        raise InvalidInput("name a report (--report ID) or trace --all-reports", "report")
    unknown = [name for name in wanted if name not in starts]
    if unknown:
        raise InvalidInput(f"no such report in {region}: {', '.join(unknown)}", "report")
    index, as_of = region_index(region), _end_of(region)
    for name in wanted:
        result = follow(index, starts[name], rule, as_of=as_of)
        if as_json:
            print(json.dumps(result_dict(result), ensure_ascii=False))
        else:
            _show(name, result)


def _end_of(region: Path) -> datetime:
    """Just after the region's last transfer: what is held "now" in a finished region."""
    from fundwall.region import read_table

    last = max(read_table(region, "transactions").column("ts").to_pylist())
    moment: datetime = last + timedelta(microseconds=1)
    return moment


def _show(name: str, result: TraceResult) -> None:
    from fundwall.engine.rules import format_money

    table = Table(title=f"{name}: {result.rule.value}, as of {result.as_of:%Y-%m-%d %H:%M}")
    for column in ("hop", "account", "bank", "reached", "received", "still held"):
        table.add_column(
            column, justify="right" if column in ("received", "still held") else "left"
        )
    for account in result.accounts:
        table.add_row(
            str(account.hop),
            mask_account(account.account_no),
            account.bank or "",
            f"{account.reached_at:%m-%d %H:%M}",
            format_money(account.attributed_fen),
            format_money(account.held_fen),
        )
    console.print(table)
    exits: dict[str, int] = {}
    for transfer in result.exits:
        kind = transfer.exit.value if transfer.exit else ""
        exits[kind] = exits.get(kind, 0) + transfer.carried_fen
    left = ", ".join(f"{kind} {format_money(fen)}" for kind, fen in sorted(exits.items()))
    stops = proposed_stops(result)
    held = sum(stop.amount_fen for stop in stops)
    console.print(f"left the chain: {left or 'nothing'}")
    console.print(f"proposed stop-payments: {len(stops)} account(s) holding {format_money(held)}")
