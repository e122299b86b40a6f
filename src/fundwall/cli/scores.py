"""`fundwall scores`: the accounts' mule scores (涉诈账户风险评分) from the command line.

`refresh` scores every account with the accounts champion now, as the operator who holds the
database (`system:cli` in the audit log), whatever changed since the last refresh; `fundwall
serve` refreshes by itself when the data changed (docs/models.md, "Account scores").
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="scores",
    help="The accounts' mule scores: refresh them with the accounts champion.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)


@app.command("refresh")
def refresh_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON value.")] = False,
) -> None:
    """Score every account now, replace the stored scores and raise cases for the accounts
    flagged (alert or more) that are in no open case."""
    # The account features and the graph load only when a command scores.
    from fundwall import bootstrap
    from fundwall.models.scores import refresh_account_scores

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        run = refresh_account_scores(uow, platform.operator, platform.settings.policy)
    if as_json:
        typer.echo(json.dumps(run.to_dict(), ensure_ascii=False, indent=2))
        return
    actions = ", ".join(f"{count:,} {action}" for action, count in run.actions.items())
    until = run.data_until.isoformat() if run.data_until else "no data"
    console.print(
        f"scored {run.accounts:,} accounts with {run.model_version} ({actions}) over the "
        f"data up to {until} in {run.seconds:.1f} s; {run.explained:,} explained, "
        f"{run.seeds:,} known fraud accounts, {run.tiers_changed:,} risk tiers changed, "
        f"{len(run.cases):,} cases opened; {run.networks:,} networks detected, holding "
        f"{run.tied:,} accounts their own scores did not flag"
    )
