"""`fundwall bench`: the risk engine's performance benchmark, judged against its goals.

Without `--region` it benchmarks the simulated region of `--size` and `--seed`, kept where
`fundwall demo` keeps it (`<data_dir>/demo/region-SIZE-seedSEED`) and simulated first when
missing. `--soak SECONDS` runs the soak instead (`fundwall.bench.soak`): single decisions
against `fundwall serve` for that long, judged on memory and p99 over time. All traffic stays
on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console

from fundwall.sim.params import SIZES

DEFAULT_SEED: Final = 7
SIMULATE_SECONDS: Final = 1_800.0
SOAK_INTERVAL_SECONDS: Final = 60.0
MAX_REPLICAS: Final = 8
"""More replicas than this on one machine measure nothing but contention."""
MAX_SOAK_SECONDS: Final = 24 * 3_600

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _region(size: str, seed: int) -> Path:
    """The demo's region of this size and seed, simulated (in a child process) if missing."""
    from fundwall.bench.child import run_python
    from fundwall.cli.demo import MANIFEST, region_folder
    from fundwall.config import get_settings

    folder = region_folder(get_settings().data_dir, size, seed)
    if not (folder / MANIFEST).is_file():
        err_console.print(f"bench: simulating {size} (seed {seed}) into {folder}")
        run_python(
            "from fundwall.cli import main; main()",
            *("sim", "--size", size, "--seed", str(seed), "--out", str(folder)),
            timeout=SIMULATE_SECONDS,
        )
    return folder


def bench(
    size: Annotated[
        str, typer.Option(help=f"Region size, one of {', '.join(SIZES)}; large checks memory.")
    ] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the simulated region.")] = DEFAULT_SEED,
    region: Annotated[
        Path | None,
        typer.Option(
            help="Benchmark this region folder instead (--size then only names the goals).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seconds: Annotated[
        float, typer.Option(help="Length of each HTTP phase.", min=0.1, max=600)
    ] = 8.0,
    baseline_rows: Annotated[
        int, typer.Option(help="Transactions the pandas baseline computes.", min=1)
    ] = 200_000,
    online_decisions: Annotated[
        int, typer.Option(help="Decisions timed one by one in process.", min=1)
    ] = 20_000,
    share_entries: Annotated[
        int, typer.Option(help="Entries of the sharing hub's list.", min=10)
    ] = 2_500_000,
    share_identifiers: Annotated[
        int, typer.Option(help="Hashed identifiers of the member's file it matches.", min=10)
    ] = 1_000_000,
    onboarding_decisions: Annotated[
        int, typer.Option(help="Simplified-opening decisions timed one by one.", min=10)
    ] = 2_000,
    model_rows: Annotated[
        int,
        typer.Option(
            help="Transactions the model is trained on before its part of a decision is timed "
            "(at most 70% of the region's; they must hold labelled fraud).",
            min=1,
        ),
    ] = 300_000,
    startup_runs: Annotated[
        int, typer.Option(help="Runs of each start-up timed (their median counts).", min=1)
    ] = 7,
    shell_baseline: Annotated[
        bool,
        typer.Option(help="Also load the same app over a trivial decision service."),
    ] = True,
    durable_stores: Annotated[
        str,
        typer.Option(
            help="Stores to load `fundwall serve` over, logging every decision, beside the "
            "in-memory figures: comma-separated, of sqlite and postgresql ('' for none).",
        ),
    ] = "sqlite,postgresql",
    replicas: Annotated[
        str,
        typer.Option(
            help="Counts of `fundwall serve` replicas over PostgreSQL and Redis to load "
            "(docs/scale.md): comma-separated whole numbers from 1 to 8 ('' for none).",
        ),
    ] = "1,2,3",
    postgres_url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server the durable figures make a temporary database on "
            "(default $FUNDWALL_BENCH_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432).",
        ),
    ] = None,
    soak: Annotated[
        float | None,
        typer.Option(
            help="Instead, soak `fundwall serve` with single decisions for this many seconds: "
            "memory flat, p99 steady.",
            min=1,
            max=MAX_SOAK_SECONDS,
        ),
    ] = None,
    soak_interval: Annotated[
        float,
        typer.Option(help="Length of each interval of the soak, in seconds.", min=0.5),
    ] = SOAK_INTERVAL_SECONDS,
) -> None:
    """Measure replay, online and HTTP throughput and latency against the goals."""
    from dataclasses import replace

    from fundwall.bench.durable import STORES
    from fundwall.bench.http import HttpLoad
    from fundwall.bench.report import render
    from fundwall.bench.run import BenchOptions, run_benchmark
    from fundwall.domain.errors import InvalidInput

    # SIGTERM (a CI job's time running out, `timeout`) ends the run as Ctrl-C does: through
    # the `finally` blocks that stop its servers and drop its temporary databases.
    signal.signal(signal.SIGTERM, _terminated)
    if size not in SIZES:
        raise InvalidInput(f"one of {', '.join(SIZES)}", "size")
    stores = tuple(dict.fromkeys(s.strip() for s in durable_stores.split(",") if s.strip()))
    for store in stores:
        if store not in STORES:
            raise InvalidInput(f"one of {', '.join(STORES)}, comma-separated", "durable_stores")
    counts = _replica_counts(replicas)
    folder = region if region is not None else _region(size, seed)
    if soak is not None:
        _soak(folder, size, None if region is not None else seed, soak, soak_interval, as_json)
        return
    options = BenchOptions(
        size=size,
        seed=None if region is not None else seed,
        baseline_rows=baseline_rows,
        online_decisions=online_decisions,
        share_entries=share_entries,
        share_identifiers=share_identifiers,
        onboarding_decisions=onboarding_decisions,
        model_rows=model_rows,
        startup_runs=startup_runs,
        http=replace(HttpLoad(), seconds=seconds, warm_up_seconds=min(2.0, seconds)),
        shell_baseline=shell_baseline,
        durable_stores=stores,
        replica_counts=counts,
        postgres_url=postgres_url,
    )

    def step(name: str) -> None:
        err_console.print(f"bench: {name}")

    result = run_benchmark(folder, options, step)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    console.print(render(result))


def _soak(
    folder: Path, size: str, seed: int | None, seconds: float, interval: float, as_json: bool
) -> None:
    from fundwall.bench.report import render_soak
    from fundwall.bench.soak import SoakLoad, run_soak

    load = SoakLoad(seconds, min(interval, seconds))
    result = run_soak(
        folder, load, size=size, seed=seed, tell=lambda name: err_console.print(f"bench: {name}")
    )
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    console.print(render_soak(result))


def _replica_counts(text: str) -> tuple[int, ...]:
    """The `--replicas` option's counts; InvalidInput naming the option when one is not."""
    from fundwall.domain.errors import InvalidInput

    counts = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= MAX_REPLICAS:
            expected = f"whole numbers from 1 to {MAX_REPLICAS}, comma-separated"
            raise InvalidInput(expected, "replicas")
        counts.append(int(part))
    return tuple(dict.fromkeys(counts))
