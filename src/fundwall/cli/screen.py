"""`fundwall screen`: account-base screening (存量账户排查) from the command line.

Over the configured store it runs the checks as the operator (`system:cli`), audited like
the API's runs: over one member's accounts (`--member`), or over the whole region as the hub
does. `--evaluate REGION_DIR` runs them instead over a simulated region folder and prints
each check's precision and recall against what the simulator planted (no store involved),
the accounts' activity read on this machine or on Apache Spark (`--engine spark`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fundwall.cli.bulk import BulkEngine, MasterOption, account_activity
from fundwall.domain.errors import InvalidInput

if TYPE_CHECKING:
    from fundwall.screening.base import Activity

console = Console(highlight=False, soft_wrap=True)


def _checks(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()] or [""]


def screen(
    member: Annotated[
        str | None,
        typer.Option("--member", help="Screen this member's accounts (default: the region)."),
    ] = None,
    checks: Annotated[
        str | None,
        typer.Option(
            "--checks",
            help="Comma-separated checks: dormant, new_idle, many_accounts, batch_opened, "
            "punished, shared_phone (default: all).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    evaluate: Annotated[
        Path | None,
        typer.Option(
            "--evaluate",
            help="Instead, score the checks on this simulated region folder against what "
            "the simulator planted.",
            file_okay=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Screen as of this earlier ISO 8601 time (default: now; with --evaluate, the "
            "period end).",
        ),
    ] = None,
    engine: Annotated[
        BulkEngine,
        typer.Option(
            help="Where --evaluate reads the accounts' activity: this machine, or Apache Spark."
        ),
    ] = BulkEngine.LOCAL,
    master: MasterOption = None,
) -> None:
    """Screen the account base: dormant, idle new, one person with many accounts, batch
    openings, punished holders, shared phones."""
    if evaluate is not None:
        if member is not None:
            raise InvalidInput("a region folder is evaluated as a whole", "member")
        with account_activity(engine, master) as activity:
            _evaluate(evaluate, _checks(checks), _moment(as_of), as_json, activity)
        return
    if engine is not BulkEngine.LOCAL or master is not None:
        raise InvalidInput("--engine and --master go with --evaluate", "engine")
    from fundwall import bootstrap
    from fundwall.screening.runs import screen_accounts, screen_region

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        policy = platform.settings.policy
        chosen, moment = _checks(checks), _moment(as_of)
        if member is None:
            run = screen_region(uow, platform.operator, policy, checks=chosen, as_of=moment)
        else:
            run = screen_accounts(
                uow, platform.operator, policy, member=member, checks=chosen, as_of=moment
            )
    if as_json:
        print(
            json.dumps(
                {
                    "run": run.id,
                    "member": run.member,
                    "as_of": run.as_of.isoformat(),
                    "started_at": run.started_at.isoformat(),
                    "duration_ms": run.duration_ms,
                    "screened": run.screened,
                    "found": {check.value: count for check, count in run.found.items()},
                    "items": run.items,
                },
                indent=2,
            )
        )
        return
    scope = f"member {run.member}" if run.member else "the whole region"
    console.print(
        f"run {run.id}: screened {run.screened:,} accounts of {scope} as of "
        f"{run.as_of.isoformat(timespec='seconds')} in {run.duration_ms:,} ms; "
        f"{run.items:,} on the work list"
    )
    table = Table("check", "accounts found")
    for check, count in run.found.items():
        table.add_row(check.value, f"{count:,}")
    console.print(table)


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("an ISO 8601 time, e.g. 2024-03-31T00:00:00+08:00", "as_of") from None
    if moment.utcoffset() is None:
        raise InvalidInput("give the time's UTC offset, e.g. +08:00", "as_of")
    return moment


def _evaluate(
    folder: Path,
    checks: list[str] | None,
    as_of: datetime | None,
    as_json: bool,
    activity: Activity,
) -> None:
    from fundwall.config import get_settings
    from fundwall.screening.evaluation import evaluate_region

    result = evaluate_region(
        folder, get_settings().policy, checks=checks, as_of=as_of, activity=activity
    )
    if as_json:
        body: dict[str, Any] = {
            "region": str(folder),
            "as_of": result.as_of.isoformat(),
            "accounts": result.accounts,
            "checks": {
                score.check.value: {
                    "found": score.found,
                    "planted": score.planted,
                    "hits": score.hits,
                    "precision": score.precision,
                    "recall": score.recall,
                    "seconds": round(score.seconds, 4),
                }
                for score in result.scores
            },
        }
        print(json.dumps(body, indent=2))
        return
    console.print(
        f"{result.accounts:,} accounts of {folder} as of "
        f"{result.as_of.isoformat(timespec='seconds')}"
    )
    table = Table("check", "found", "planted", "precision", "recall")
    for score in result.scores:
        table.add_row(
            score.check.value,
            f"{score.found:,}",
            "—" if score.planted is None else f"{score.planted:,}",
            _share(score.precision),
            _share(score.recall),
        )
    console.print(table)
    console.print("—: the simulator plants nothing for the check, or nothing to divide by")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"
