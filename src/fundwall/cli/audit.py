"""`fundwall audit`: verify the keyed hash chain of the audit log against its signed
checkpoints, sign a checkpoint of its head, show its latest records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

if TYPE_CHECKING:
    from fundwall.bootstrap import Platform
    from fundwall.store import ChainReport, UnitOfWork

SHOWN_IN = ZoneInfo("Asia/Shanghai")

app = typer.Typer(
    name="audit",
    help="The tamper-evident audit log: verify its chain, sign its head, show its latest records.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def _checking() -> Iterator[tuple[Platform, UnitOfWork]]:
    """The platform and a unit of work that checks the chain with the audit key (and never
    creates it: a missing key file must read as missing)."""
    from fundwall import bootstrap
    from fundwall.store import AuditSeal

    with bootstrap.opened() as platform:
        seal = AuditSeal.from_settings(platform.settings, create_key=False)
        with platform.unit_of_work(audit_seal=seal) as uow:
            yield platform, uow


@app.command()
def verify() -> None:
    """Walk the whole chain with the audit key and hold it against every signed checkpoint;
    exit 1 naming the first altered, deleted, moved or inserted record or forged checkpoint."""
    with (
        _checking() as (_, uow),
        Progress(
            SpinnerColumn(),
            TextColumn("checked {task.completed} records"),
            console=err_console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("verify", total=None)
        report = uow.audit.verify(on_progress=lambda n: progress.update(task, completed=n))
    _exit_unless_intact(report)
    console.print(
        f"audit log intact: {report.records} records, head hash {report.head_hash}; "
        f"{_checkpoint_summary(report)}"
    )


@app.command()
def checkpoint() -> None:
    """Verify the chain, then sign its head into the checkpoint file (run it from cron to
    bound how long the newest records go without a checkpoint when few are written)."""
    with _checking() as (platform, uow):
        report, signed = uow.audit.checkpoint()
        checkpoints = platform.settings.audit_checkpoints
    _exit_unless_intact(report)
    if signed is None:
        console.print("the audit log is empty: nothing to checkpoint")
        return
    console.print(f"checkpoint written to {checkpoints}: seq {signed.seq}, hash {signed.hash}")


def _checkpoint_summary(report: ChainReport) -> str:
    if report.checkpoints == 0:
        return "no signed checkpoint yet"
    lag = report.records - report.checkpointed_seq
    behind = f", {lag} records since" if lag > 0 else ""
    return (
        f"held against {report.checkpoints} signed checkpoints "
        f"(the highest at seq {report.checkpointed_seq}{behind})"
    )


def _exit_unless_intact(report: ChainReport) -> None:
    if report.problem is None:
        return
    if report.problem.line is None:
        sound = f"the {report.records} records before it are intact"
    else:
        sound = f"the chain's {report.records} records pass the key check"
    err_console.print(f"[bold red]audit log broken:[/] {report.problem} ({sound})")
    raise typer.Exit(1)


@app.command()
def tail(
    lines: Annotated[
        int, typer.Option("-n", "--lines", min=1, help="How many of the latest records.")
    ] = 20,
) -> None:
    """Show the latest records, oldest first, times in Asia/Shanghai."""
    from fundwall import bootstrap

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        records = uow.audit.tail(lines)
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
