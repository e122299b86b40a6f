"""Single decisions and batches over HTTP, against `fundwall serve` and against the same app
over a trivial decision service (the same run's baseline: what the HTTP shell alone costs).

Each server gets a warm-up of single decisions, then single decisions for `seconds` over
`connections` connections, then batches of `batch_size` over `batch_connections`. The load
generator runs in a process of its own; the server's CPU time per transaction is read from
/proc and is steadier than throughput on a shared machine.

Servers whose figures are compared (the in-memory server and the durable ones,
`fundwall.bench.durable`) run together and take turns (`load_alternating`): each one's
single decisions, then its batches, in `ROUNDS` slices, the servers' slices alternating. A
shared machine that changes speed during the run then changes it for all of them alike, and
a ratio of two servers' rates compares the same minutes.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from fundwall.bench.loadgen import Phase, Step, free_port, load_generator, run_phase
from fundwall.bench.servers import (
    engine_command,
    prepare_store,
    running,
    shell_command,
    store_environment,
)

TRANSACTION_PATH: Final = "/v1/transactions"
BATCH_PATH: Final = "/v1/transactions/batch"
ROUNDS: Final = 4
"""Slices of each phase when servers take turns (`load_alternating`): 2 s each at the
default 8 s, long enough for a few dozen batches of 1,000 a slice."""


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


@dataclass(frozen=True, slots=True)
class Served:
    """A server to load: its command line, port and environment, and the API keys of the
    members its store holds."""

    command: list[str]
    port: int
    environment: dict[str, str]
    keys: dict[str, str]


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
    return load_alternating([Served(command, port, environment, keys)], region, load)[0]


def load_alternating(
    servers: Sequence[Served], region: Path, load: HttpLoad
) -> list[dict[str, float]]:
    """Start `servers` together, warm each up, then load them in turns: the single decisions
    of each in `ROUNDS` slices of `load.seconds / ROUNDS`, the servers' slices alternating
    (each round begins with the next server), then the batches so; stop them. Each slice
    carries on with the region's transactions where the server's last one stopped. The
    figures of each server, its slices summed (one slice each when there is one server)."""
    rounds = ROUNDS if len(servers) > 1 else 1
    with ExitStack() as stack:
        generators = [stack.enter_context(load_generator([each.port])) for each in servers]
        logs = [
            stack.enter_context(tempfile.TemporaryFile(prefix="fundwall-bench-server-"))
            for _ in servers
        ]
        started = stack.enter_context(
            running(
                [each.command for each in servers],
                [each.port for each in servers],
                [each.environment for each in servers],
                logs,
            )
        )
        pids = [server.pid for server in started]
        steps = [_steps(region, each.keys, load) for each in servers]
        for generator, pid, (warm_up, _, _) in zip(generators, pids, steps, strict=True):
            run_phase(generator, [pid], warm_up)
        measured = [(_Total(), _Total()) for _ in servers]
        for kind in range(2):  # the single decisions, then the batches
            for turn in range(rounds):
                for k in [(turn + shift) % len(servers) for shift in range(len(servers))]:
                    total = measured[k][kind]
                    step = _slice(steps[k][1 + kind], turn, rounds, total.phase.transactions)
                    total.add(*run_phase(generators[k], [pids[k]], step))
    return [_figures(singles, batches) for singles, batches in measured]


def _slice(step: Step, turn: int, rounds: int, sent: int) -> Step:
    """Slice `turn` of `rounds` of `step`, after the `sent` transactions of those before."""
    if rounds == 1:
        return step
    return replace(
        step,
        seconds=step.seconds / rounds,
        max_requests=math.ceil(step.max_requests / rounds),
        run=f"{step.run}{turn}",
        first=step.first + sent,
    )


@dataclass
class _Total:
    """A phase's slices summed, with the server's CPU seconds in them."""

    phase: Phase = field(default_factory=Phase)
    cpu_seconds: float = 0.0

    def add(self, phase: Phase, cpu_seconds: float) -> None:
        total = self.phase
        total.requests += phase.requests
        total.transactions += phase.transactions
        total.seconds += phase.seconds
        total.client_cpu_seconds += phase.client_cpu_seconds
        total.latencies_ns += phase.latencies_ns
        self.cpu_seconds += cpu_seconds


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
        servers = stack.enter_context(running(commands, ports, [environment] * len(commands), logs))
        pids = [server.pid for server in servers]
        run_phase(generator, pids, warm_up)
        counted = {} if probe is None else dict(probe())
        singles = _Total()
        singles.add(*run_phase(generator, pids, single))
        grown = {} if probe is None else probe()
        batches = _Total()
        batches.add(*run_phase(generator, pids, batch))
        if after is not None:
            after()
    requests = singles.phase.requests
    return {
        **{
            f"{name}_per_decision": round((grown[name] - before) / requests, 2)
            for name, before in counted.items()
        },
        **_figures(singles, batches),
    }


def _figures(singles: _Total, batches: _Total) -> dict[str, float]:
    one, many = singles.phase, batches.phase
    return {
        "decisions": one.requests,
        "decisions_per_s": round(one.requests_per_s),
        "p50_ms": round(one.percentile_ms(0.50), 2),
        "p99_ms": round(one.percentile_ms(0.99), 2),
        "server_cpu_us_per_decision": round(singles.cpu_seconds / one.requests * 1e6, 1),
        "client_cpu_us_per_decision": round(one.client_cpu_seconds / one.requests * 1e6, 1),
        "batch_tx": many.transactions,
        "batch_tx_per_s": round(many.transactions_per_s),
        "batch_p99_ms": round(many.percentile_ms(0.99), 1),
        "server_cpu_us_per_batch_tx": round(batches.cpu_seconds / many.transactions * 1e6, 2),
    }


@contextmanager
def memory_server(region: Path) -> Iterator[Served]:
    """`fundwall serve --region REGION` (in memory), its store holding the members and their
    API keys, ready to start."""
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-store-") as scratch:
        data_dir = Path(scratch)
        keys = prepare_store(data_dir, region)
        port = free_port()
        yield Served(engine_command(port, region), port, store_environment(data_dir), keys)


def shell_figures(region: Path, load: HttpLoad) -> dict[str, float]:
    """The figures of the same app over `AmountRule` (no engine): what the HTTP shell costs."""
    with memory_server(region) as served:
        port = free_port()
        return load_server(shell_command(port), port, served.environment, region, served.keys, load)


def http_figures(
    served: Mapping[str, float], load: HttpLoad, shell: Mapping[str, float] | None
) -> dict[str, object]:
    """The in-memory server's figures (`load_alternating`) under the names the goals use,
    with the ratios to the shell's when it was loaded."""
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
        result["http_shell"] = dict(shell)
        result["http_vs_shell"] = round(served["decisions_per_s"] / shell["decisions_per_s"], 3)
        result["batch_http_vs_shell"] = round(served["batch_tx_per_s"] / shell["batch_tx_per_s"], 3)
    return result
