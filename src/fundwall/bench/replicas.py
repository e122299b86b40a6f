"""Several replicas of `fundwall serve` over one PostgreSQL log and one Redis (docs/scale.md),
beside one server holding the whole state over PostgreSQL in the same run.

For each count of replicas (1, 2, 3 by default) a fresh PostgreSQL database holds the region's
reference data and an API key per member, a fresh Redis namespace the shared state; the load
generator spreads its connections over the replicas in turn (as a load balancer would), and
the servers' CPU is read together. After the load, the shared state is dropped (Redis lost it)
and the time until a replica answers again is the rebuild from the log.

On a 2-core machine more replicas do not add cores: what counts is the CPU a decision costs
with the state shared against held in process (`durable_http_postgresql`'s), and that the
decisions stay right; docs/scale.md projects a province's peak from them.

Keys, for each count n: `replicas_http_decisions_per_s_<n>`, `replicas_http_p99_ms_<n>`,
`replicas_server_cpu_us_per_decision_<n>`, `replicas_batch_http_tx_per_s_<n>`,
`replicas_rebuild_seconds_<n>` (with the transactions logged by then,
`replicas_rebuild_transactions_<n>`), `replicas_redis_reads_per_decision_<n>` and
`replicas_redis_scripts_per_decision_<n>` (Redis's read events, about one per pipeline it
receives, and the scripts it ran, per single decision: the round trips a decision costs, and
its work in Redis; exact with a Redis of the benchmark's own, else others' traffic counts
too); `replicas_cpu_vs_in_process` (1 replica's server CPU per decision ÷ the in-process
server's over PostgreSQL).
"""

from __future__ import annotations

import http.client
import os
import secrets
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from fundwall.bench.durable import postgres_server_url, temporary_postgres
from fundwall.bench.http import HttpLoad, load_servers
from fundwall.bench.loadgen import HOST, free_port, region_records
from fundwall.bench.servers import engine_command, prepare_store, store_environment

if TYPE_CHECKING:
    from fundwall.engine.shared import SharedState

COUNTS: Final = (1, 2, 3)
REDIS_URL_VARIABLE: Final = "FUNDWALL_BENCH_REDIS_URL"
DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379/0"
REBUILD_WAIT_S: Final = 600.0


def redis_server_url() -> str:
    """`$FUNDWALL_BENCH_REDIS_URL`, else the local server."""
    return os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL


def measure_replicas(
    region: Path,
    load: HttpLoad,
    in_process: Mapping[str, object],
    counts: Sequence[int] = COUNTS,
    postgres_url: str | None = None,
) -> dict[str, object]:
    """The replicas' figures for each of `counts`; `in_process`: the same run's durable
    figures (`measure_durable`), for the CPU ratio."""
    result: dict[str, object] = {}
    for count in counts:
        figures = _measure(region, load, count, postgres_url or postgres_server_url())
        result[f"replicas_http_decisions_per_s_{count}"] = figures["decisions_per_s"]
        result[f"replicas_http_p99_ms_{count}"] = figures["p99_ms"]
        result[f"replicas_server_cpu_us_per_decision_{count}"] = figures[
            "server_cpu_us_per_decision"
        ]
        result[f"replicas_batch_http_tx_per_s_{count}"] = figures["batch_tx_per_s"]
        result[f"replicas_rebuild_seconds_{count}"] = figures["rebuild_seconds"]
        result[f"replicas_rebuild_transactions_{count}"] = figures["rebuild_transactions"]
        for name in ("redis_reads", "redis_scripts"):
            result[f"replicas_{name}_per_decision_{count}"] = figures[f"{name}_per_decision"]
        result[f"replicas_http_{count}"] = figures
    durable = in_process.get("durable_http_postgresql")
    one = result.get("replicas_http_1")
    if isinstance(durable, dict) and isinstance(one, dict):
        result["replicas_cpu_vs_in_process"] = round(
            one["server_cpu_us_per_decision"] / durable["server_cpu_us_per_decision"], 2
        )
    return result


def _measure(region: Path, load: HttpLoad, count: int, postgres_url: str) -> dict[str, float]:
    from fundwall.engine.shared import SharedState

    namespace = f"fundwall-bench-{secrets.token_hex(4)}"
    shared = SharedState(redis_server_url(), namespace=namespace)
    figures: dict[str, float] = {}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="fundwall-bench-replicas-") as scratch,
            temporary_postgres(postgres_url) as url,
        ):
            data_dir = Path(scratch)
            keys = prepare_store(data_dir, region, contents="reference", database_url=url)
            environment = {
                **store_environment(data_dir, url),
                "FUNDWALL_REPLICAS__REDIS_URL": redis_server_url(),
                "FUNDWALL_REPLICAS__NAMESPACE": namespace,
            }
            ports = [free_port() for _ in range(count)]

            def rebuild() -> None:
                figures["rebuild_transactions"] = _logged(url)
                shared._drop_namespace()
                figures["rebuild_seconds"] = _answered_again(ports[0], region, keys)

            loaded = load_servers(
                [engine_command(port, None) for port in ports],
                ports,
                environment,
                region,
                keys,
                load,
                after=rebuild,
                probe=lambda: _redis_counts(shared),
            )
    finally:
        shared._drop_namespace()
        shared.close()
    return {**loaded, **figures, "replicas": count}


def _redis_counts(shared: SharedState) -> dict[str, float]:
    """Redis's read events (a pipeline is one, unless it is large) and scripts run so far."""
    stats = shared.redis.info("stats")
    scripts = shared.redis.info("commandstats").get("cmdstat_evalsha", {})
    return {"redis_reads": stats["total_reads_processed"], "redis_scripts": scripts.get("calls", 0)}


def _logged(url: str) -> float:
    from sqlalchemy import func, select

    from fundwall.store import open_database
    from fundwall.store.tables import TransactionRow

    database = open_database(url)
    try:
        with database.connect() as connection:
            return float(connection.scalar(select(func.count()).select_from(TransactionRow)) or 0)
    finally:
        database.dispose()


def _answered_again(port: int, region: Path, keys: Mapping[str, str]) -> float:
    """Seconds until a replica decides again after the shared state was lost: it answers
    503 (Retry-After) while the state is rebuilt from the log, then 200."""
    from fundwall.region import read_table

    records = region_records(read_table(region, "transactions"), 0)
    member, record = next((m, r) for m, r in records if m is not None and m in keys)
    body = record.replace("{tx_id}", f"rebuild-{secrets.token_hex(4)}").encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {keys[member]}"}
    started = time.perf_counter()
    while time.perf_counter() - started < REBUILD_WAIT_S:
        connection = http.client.HTTPConnection(HOST, port, timeout=REBUILD_WAIT_S)
        try:
            connection.request("POST", "/v1/transactions", body, headers)
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status == 200:
            return round(time.perf_counter() - started, 2)
        if response.status != 503:
            raise RuntimeError(f"a replica answered {response.status}: {answer[:300]!r}")
        time.sleep(0.05)
    raise RuntimeError(f"no replica decided again within {REBUILD_WAIT_S:.0f} s")
