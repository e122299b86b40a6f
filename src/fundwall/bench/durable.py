"""The durable decision path over HTTP: `fundwall serve` over a store, as deployed, beside the
in-memory figures of the same run.

The in-memory HTTP figures (`fundwall.bench.http`) load `fundwall serve --region`, which
logs nothing. Here the same load goes to `fundwall serve` over a store of each kind: SQLite
in a temporary data directory, and PostgreSQL in a temporary database that the benchmark
creates on the server at `postgres_url` and drops at the end. `measure_http` loads the
in-memory server and the durable ones together, in turns (`http.load_alternating`), so each
ratio compares the same minutes of a shared machine. The store holds the region's
reference data (`fundwall load --no-transactions`: accounts, parties, devices, logins) and an
API key per member, so every decision pays what production pays: the audit head read, the
owner's account looked up, the idempotency check, and the decision and its transaction
committed before the answer.

Keys, for each store (`_sqlite`, `_postgresql`): `durable_http_decisions_per_s_<store>`,
`durable_http_p99_ms_<store>`, `durable_batch_http_tx_per_s_<store>`, and their ratios to
the in-memory figures of the same run, `durable_http_vs_memory_<store>` and
`durable_batch_http_vs_memory_<store>`; the server's other figures under
`durable_http_<store>`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Final

from fundwall.bench.http import (
    HttpLoad,
    Served,
    http_figures,
    load_alternating,
    memory_server,
    shell_figures,
)
from fundwall.bench.loadgen import free_port
from fundwall.bench.servers import engine_command, prepare_store, sqlite_url, store_environment

STORES: Final = ("sqlite", "postgresql")
POSTGRES_URL_VARIABLE: Final = "FUNDWALL_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
"""The PostgreSQL server the benchmark creates its temporary database on (its own database is
used only to create and drop that one)."""


def postgres_server_url() -> str:
    """`$FUNDWALL_BENCH_POSTGRES_URL`, else the local server."""
    return os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL


@contextmanager
def temporary_postgres(server_url: str) -> Iterator[str]:
    """A new empty database on the PostgreSQL server of `server_url`, named
    fundwall_bench_<pid>_<random>, dropped (its connections closed) on the way out; its URL."""
    from sqlalchemy import create_engine, text

    from fundwall.store.database import parse_url, reachable

    server = parse_url(server_url)
    name = f"fundwall_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with reachable(server_url), admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def bench_database(store: str, data_dir: Path, postgres_url: str) -> Iterator[str]:
    """The URL of an empty database of kind `store` for one server's run."""
    if store == "sqlite":
        yield sqlite_url(data_dir)
    elif store == "postgresql":
        with temporary_postgres(postgres_url) as url:
            yield url
    else:
        raise ValueError(f"unknown store {store!r}: one of {', '.join(STORES)}")


@contextmanager
def durable_server(region: Path, store: str, postgres_url: str) -> Iterator[Served]:
    """`fundwall serve` over a fresh store of kind `store` holding the region's reference
    data and a key per member, ready to start."""
    with (
        tempfile.TemporaryDirectory(prefix=f"fundwall-bench-{store}-") as scratch,
        bench_database(store, Path(scratch), postgres_url) as url,
    ):
        data_dir = Path(scratch)
        keys = prepare_store(data_dir, region, contents="reference", database_url=url)
        port = free_port()
        yield Served(engine_command(port, None), port, store_environment(data_dir, url), keys)


def _ratio(durable: float, memory: object) -> float | None:
    if not isinstance(memory, int | float) or not memory:
        return None
    return round(durable / memory, 3)


def _checked(stores: Sequence[str]) -> None:
    unknown = [store for store in stores if store not in STORES]
    if unknown:
        raise ValueError(f"unknown store {unknown[0]!r}: one of {', '.join(STORES)}")


def durable_figures(
    store: str, figures: Mapping[str, float], memory: Mapping[str, object]
) -> dict[str, object]:
    """A durable server's figures under the goals' names, each beside the in-memory figure of
    `memory` (`http.http_figures`' keys) as a ratio."""
    return {
        f"durable_http_decisions_per_s_{store}": figures["decisions_per_s"],
        f"durable_http_p99_ms_{store}": figures["p99_ms"],
        f"durable_batch_http_tx_per_s_{store}": figures["batch_tx_per_s"],
        f"durable_http_vs_memory_{store}": _ratio(
            figures["decisions_per_s"], memory.get("http_decisions_per_s")
        ),
        f"durable_batch_http_vs_memory_{store}": _ratio(
            figures["batch_tx_per_s"], memory.get("batch_http_tx_per_s")
        ),
        f"durable_http_{store}": dict(figures),
    }


def measure_http(
    region: Path,
    load: HttpLoad,
    stores: Sequence[str] = STORES,
    *,
    shell_baseline: bool = True,
    postgres_url: str | None = None,
) -> dict[str, object]:
    """`fundwall serve --region REGION` in memory and `fundwall serve` over a store of each of
    `stores`, loaded together in turns; then, with `shell_baseline`, the same app over
    `AmountRule`. The in-memory figures (`http.http_figures`) and the durable ones
    (`durable_figures`), their ratios of the same minutes."""
    _checked(stores)
    with ExitStack() as stack:
        served = [stack.enter_context(memory_server(region))]
        served += [
            stack.enter_context(
                durable_server(region, store, postgres_url or postgres_server_url())
            )
            for store in stores
        ]
        memory, *durable = load_alternating(served, region, load)
    shell = shell_figures(region, load) if shell_baseline else None
    result = http_figures(memory, load, shell)
    for store, figures in zip(stores, durable, strict=True):
        result.update(durable_figures(store, figures, result))
    return result


def measure_durable(
    region: Path,
    load: HttpLoad,
    memory: Mapping[str, object],
    stores: Sequence[str] = STORES,
    postgres_url: str | None = None,
) -> dict[str, object]:
    """The durable figures of each store in `stores`, each server loaded alone, beside the
    in-memory figures of `memory` (`http.http_figures`' keys; empty: no ratio)."""
    _checked(stores)
    result: dict[str, object] = {}
    for store in stores:
        with durable_server(region, store, postgres_url or postgres_server_url()) as served:
            (figures,) = load_alternating([served], region, load)
        result.update(durable_figures(store, figures, memory))
    return result
