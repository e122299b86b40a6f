"""`fundwall audit`: verify the hash chain of the audit log, show its latest records."""

from __future__ import annotations

import json
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from fundwall.config import get_settings
from fundwall.store import UnitOfWork, open_engine
from fundwall.store.engine import reachable
from fundwall.store.migrate import require_current

SHOWN_IN = ZoneInfo("Asia/Shanghai")

app = typer.Typer(
    name="audit",
    help="The tamper-evident audit log: verify its chain, show its latest records.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command()
def verify() -> None:
    """Walk the whole chain; exit 1 naming the first altered, deleted or moved record."""
    url = get_settings().database_url
    engine = open_engine(url)
    try:
        require_current(engine)
        with (
            reachable(url),
            UnitOfWork(engine) as uow,
            Progress(
                SpinnerColumn(),
                TextColumn("checked {task.completed} records"),
                console=err_console,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task("verify", total=None)
            report = uow.audit.verify(on_progress=lambda n: progress.update(task, completed=n))
    finally:
        engine.dispose()
    if report.problem is None:
        console.print(f"audit log intact: {report.records} records, head hash {report.head_hash}")
        return
    err_console.print(
        f"[bold red]audit log broken:[/] {report.problem} "
        f"(the {report.records} records before it are intact)"
    )
    raise typer.Exit(1)


@app.command()
def tail(
    lines: Annotated[
        int, typer.Option("-n", "--lines", min=1, help="How many of the latest records.")
    ] = 20,
) -> None:
    """Show the latest records, oldest first, times in Asia/Shanghai."""
    url = get_settings().database_url
    engine = open_engine(url)
    try:
        require_current(engine)
        with reachable(url), UnitOfWork(engine) as uow:
            records = uow.audit.tail(lines)
    finally:
        engine.dispose()
    if not records:
        console.print("the audit log is empty")
        return
    # One line per record, nothing truncated, easy to grep; markup off for stored text.
    for record in records:
        shown = record.ts.astimezone(SHOWN_IN).isoformat(sep=" ", timespec="seconds")
        details = json.dumps(record.details, ensure_ascii=False, sort_keys=True)
        console.print(
            f"#{record.seq}  {shown}  {record.actor}  {record.action}  {record.subject}  {details}",
            markup=False,
        )
