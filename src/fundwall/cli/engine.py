"""`fundwall replay`, `fundwall decide` and `fundwall packs`: the decision engine's commands.

`replay` decides a whole region (or file) in bulk; `decide` decides JSON lines one by one
through the durable decision service over the store; `packs` manages the rule-pack registry
through the use cases of `fundwall.rulepacks` (changes are audited as `system:cli`, the
operator who holds the database).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.table import Table

from fundwall.cli.bulk import BulkEngine, EngineOption, MasterOption, bulk_features
from fundwall.cli.progress import progress_steps
from fundwall.cli.rules import DEFAULT, named_pack
from fundwall.domain.errors import InvalidInput

BEIJING: Final = timezone(timedelta(hours=8))

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

packs_app = typer.Typer(
    name="packs",
    help="The rule-pack registry: list versions, register a file, promote, run in shadow.",
    no_args_is_help=True,
)


PackOption = Annotated[
    str, typer.Option(help="A rule pack file, 'default', or a registered version.")
]


def replay_command(
    source: Annotated[Path, typer.Argument(help="A region folder, or a CSV/Parquet file.")],
    rules: PackOption = DEFAULT,
    shadow: Annotated[
        str | None, typer.Option(help="A pack to run in shadow beside --rules.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Parquet file for the decisions.")] = Path(
        "decisions.parquet"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    engine: EngineOption = BulkEngine.LOCAL,
    master: MasterOption = None,
) -> None:
    """Decide every transaction of SOURCE in bulk, as the online path would, to Parquet."""
    from fundwall.engine.replay import replay

    live = named_pack(rules)
    trial = named_pack(shadow) if shadow is not None else None
    started = time.perf_counter()
    with (
        bulk_features(engine, master) as features,
        progress_steps(err_console, "replaying", disable=as_json) as tick,
    ):
        table = replay(source, live, trial, out=out, progress=tick, features=features)
    seconds = time.perf_counter() - started
    summary: dict[str, object] = {
        "source": str(source),
        "engine": engine.value,
        "out": str(out),
        "transactions": table.num_rows,
        "seconds": round(seconds, 3),
        "tx_per_s": round(table.num_rows / seconds) if seconds > 0 else None,
        "pack_version": live.version,
        "actions": _actions(table, "action"),
    }
    if trial is not None:
        summary["shadow_pack_version"] = trial.version
        summary["shadow_actions"] = _actions(table, "shadow_action")
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    grid = Table(title=f"Replay of {source} with {live.version} → {out}")
    grid.add_column("action")
    grid.add_column("live", justify="right")
    if trial is not None:
        grid.add_column(f"shadow {trial.version}", justify="right")
    for action in ("pass", "alert", "warn", "delay", "block"):
        row = [action, f"{summary['actions'][action]:,}"]  # type: ignore[index]
        if trial is not None:
            row.append(f"{summary['shadow_actions'][action]:,}")  # type: ignore[index]
        grid.add_row(*row)
    console.print(grid)
    console.print(
        f"{table.num_rows:,} transactions in {seconds:.2f} s ({summary['tx_per_s']:,} tx/s)"
    )


def _actions(table: object, column: str) -> dict[str, int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    assert isinstance(table, pa.Table)
    counts = {action: 0 for action in ("pass", "alert", "warn", "delay", "block")}
    for item in pc.value_counts(table[column].cast(pa.string())).to_pylist():
        counts[item["values"]] = item["counts"]
    return counts


def decide_command(
    source: Annotated[
        Path | None, typer.Argument(help="JSON lines of transactions; stdin when absent.")
    ] = None,
    snapshot_every: Annotated[
        int | None,
        typer.Option(help="Save the engine's state after this many transactions.", min=1),
    ] = None,
) -> None:
    """Decide JSON lines of transactions through the durable service over the store.

    Prints one JSON decision per line, each once it is logged."""
    from fundwall import bootstrap
    from fundwall.ingest import parse_transaction

    with bootstrap.opened() as platform:
        service = platform.decision_service(snapshot_every=snapshot_every)
        try:
            lines = source.open(encoding="utf-8") if source is not None else sys.stdin
            with lines:
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    try:
                        tx = parse_transaction(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise InvalidInput(
                            f"not JSON: {error.msg}", record=f"line {number}"
                        ) from None
                    except InvalidInput as error:
                        raise error.at(f"line {number}") from None
                    decision = service.decide(tx)
                    sys.stdout.write(json.dumps(decision.to_dict(), ensure_ascii=False) + "\n")
                    sys.stdout.flush()
        finally:
            service.close()


@packs_app.command("list")
def list_command() -> None:
    """Every registered pack version with its status."""
    from fundwall import bootstrap
    from fundwall.rulepacks.registry import list_packs

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        records = list_packs(uow, platform.operator)
    if not records:
        console.print("no rule packs registered yet (the service registers the default pack)")
    for r in records:
        promoted = ""
        if r.promoted_at is not None:
            promoted = f", promoted {_local(r.promoted_at)} by {r.promoted_by}"
        console.print(
            f"{r.version}  {r.status.value:<10}  {r.rules} rules  "
            f"registered {_local(r.registered_at)} by {r.registered_by}{promoted}  ({r.source})"
        )


def _local(moment: datetime) -> str:
    """Beijing time, as everything is shown."""
    return f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M}"


@packs_app.command("register")
def register_command(
    file: Annotated[Path, typer.Argument(help="A rule pack YAML file.")],
) -> None:
    """Validate FILE and register its version (registering it again changes nothing)."""
    from fundwall import bootstrap
    from fundwall.rulepacks.registry import register_pack

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        record = register_pack(uow, platform.operator, file)
    console.print(f"registered {record.version} ({record.rules} rules), status {record.status}")


@packs_app.command("promote")
def promote_command(version: Annotated[str, typer.Argument(help="A registered version.")]) -> None:
    """Make VERSION the live pack; the running service switches on its next transaction."""
    from fundwall import bootstrap
    from fundwall.rulepacks.registry import promote

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        record = promote(uow, platform.operator, version)
    console.print(f"{record.version} is live")


@packs_app.command("shadow")
def shadow_command(
    version: Annotated[
        str | None, typer.Argument(help="A registered version; none to stop the shadow.")
    ] = None,
) -> None:
    """Run VERSION in shadow beside the live pack (logged, never enforced)."""
    from fundwall import bootstrap
    from fundwall.rulepacks.registry import set_shadow

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        record = set_shadow(uow, platform.operator, version)
    console.print(f"{record.version} runs in shadow" if record else "no shadow pack")
