"""Single decisions and batches over HTTP, against `fundwall serve` and against the same app
over a trivial decision service (the same run's baseline: what the HTTP shell alone costs).

Each server gets a warm-up of single decisions, then single decisions for `seconds` over
`connections` connections, then batches of `batch_size` over `batch_connections`. The load
generator runs in a process of its own; the server's CPU time per transaction is read from
/proc and is steadier than throughput on a shared machine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from fundwall.bench.loadgen import Step, free_port, load_generator, run_phase
from fundwall.bench.servers import (
    engine_command,
    prepare_store,
    running,
    shell_command,
    store_environment,
)

TRANSACTION_PATH: Final = "/v1/transactions"
BATCH_PATH: Final = "/v1/transactions/batch"


@dataclass(frozen=True, slots=True)
class HttpLoad:
    """How hard and how long to load each server."""

    seconds: float = 8.0
    warm_up_seconds: float = 2.0
    warm_up_requests: int = 20_000
    connections: int = 16
    max_requests: int = 100_000
    batch_size: int = 1_000
    batch_connections: int = 2
    max_batches: int = 2_000


def _steps(region: Path, keys: dict[str, str], load: HttpLoad) -> tuple[Step, Step, Step]:
    warm_up = Step(
        TRANSACTION_PATH,
        1,
        load.connections,
        load.warm_up_seconds,
        load.warm_up_requests,
        "w",
        region,
        keys,
    )
    single = replace(
        warm_up,
        seconds=load.seconds,
        max_requests=load.max_requests,
        run="s",
        first=load.warm_up_requests,
    )
    batch = Step(
        BATCH_PATH,
        load.batch_size,
        load.batch_connections,
        load.seconds,
        load.max_batches,
        "b",
        region,
        keys,
        first=load.warm_up_requests + load.max_requests,
    )
    return warm_up, single, batch


def load_server(
    command: list[str],
    port: int,
    environment: dict[str, str],
    region: Path,
    keys: dict[str, str],
    load: HttpLoad,
) -> dict[str, float]:
    """Start the server `command` in `environment`, load it (a warm-up, single decisions,
    batches), stop it; its figures."""
    return load_servers([command], [port], environment, region, keys, load)


def load_servers(
    commands: Sequence[list[str]],
    ports: Sequence[int],
    environment: dict[str, str],
    region: Path,
    keys: dict[str, str],
    load: HttpLoad,
    after: Callable[[], None] | None = None,
    probe: Callable[[], Mapping[str, float]] | None = None,
) -> dict[str, float]:
    """`load_server` of several servers at once (replicas, on `ports`): the connections are
    spread over them, the CPU is theirs together; `after` runs while they still run. `probe`
    reads counters (of a service the servers use) before and after the single decisions:
    each one's growth per decision is returned as `<name>_per_decision`."""
    warm_up, single, batch = _steps(region, keys, load)
    with ExitStack() as stack:
        generator = stack.enter_context(load_generator(ports))
        logs = [
            stack.enter_context(tempfile.TemporaryFile(prefix="fundwall-bench-server-"))
            for _ in ports
        ]
        servers = stack.enter_context(running(commands, ports, environment, logs))
        pids = [server.pid for server in servers]
        run_phase(generator, pids, warm_up)
        counted = {} if probe is None else dict(probe())
        singles, single_cpu = run_phase(generator, pids, single)
        grown = {} if probe is None else probe()
        batches, batch_cpu = run_phase(generator, pids, batch)
        if after is not None:
            after()
    per_decision = {
        f"{name}_per_decision": round((grown[name] - before) / singles.requests, 2)
        for name, before in counted.items()
    }
    return {
        **per_decision,
        "decisions": singles.requests,
        "decisions_per_s": round(singles.requests_per_s),
        "p50_ms": round(singles.percentile_ms(0.50), 2),
        "p99_ms": round(singles.percentile_ms(0.99), 2),
        "server_cpu_us_per_decision": round(single_cpu / singles.requests * 1e6, 1),
        "client_cpu_us_per_decision": round(singles.client_cpu_seconds / singles.requests * 1e6, 1),
        "batch_tx": batches.transactions,
        "batch_tx_per_s": round(batches.transactions_per_s),
        "batch_p99_ms": round(batches.percentile_ms(0.99), 1),
        "server_cpu_us_per_batch_tx": round(batch_cpu / batches.transactions * 1e6, 2),
    }


def measure_http(region: Path, load: HttpLoad, *, shell_baseline: bool = True) -> dict[str, object]:
    """Load `fundwall serve --region REGION`, then (with `shell_baseline`) the same app over
    `AmountRule`; the figures of both, the engine's under the names the goals use."""
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-store-") as scratch:
        data_dir = Path(scratch)
        keys = prepare_store(data_dir, region)
        environment = store_environment(data_dir)
        port = free_port()
        served = load_server(engine_command(port, region), port, environment, region, keys, load)
        shell = None
        if shell_baseline:
            port = free_port()
            shell = load_server(shell_command(port), port, environment, region, keys, load)
    result: dict[str, object] = {
        "http_connections": load.connections,
        "http_decisions": served["decisions"],
        "http_decisions_per_s": served["decisions_per_s"],
        "http_p50_ms": served["p50_ms"],
        "http_p99_ms": served["p99_ms"],
        "http_server_cpu_us_per_decision": served["server_cpu_us_per_decision"],
        "http_client_cpu_us_per_decision": served["client_cpu_us_per_decision"],
        "batch_size": load.batch_size,
        "batch_http_tx": served["batch_tx"],
        "batch_http_tx_per_s": served["batch_tx_per_s"],
        "batch_http_p99_ms": served["batch_p99_ms"],
        "batch_http_server_cpu_us_per_tx": served["server_cpu_us_per_batch_tx"],
    }
    if shell is not None:
        result["http_shell"] = shell
        result["http_vs_shell"] = round(served["decisions_per_s"] / shell["decisions_per_s"], 3)
        result["batch_http_vs_shell"] = round(served["batch_tx_per_s"] / shell["batch_tx_per_s"], 3)
    return result
