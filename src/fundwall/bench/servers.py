"""The servers the HTTP benchmark loads: `fundwall serve`, and the same API over a trivial
decision service as the same run's baseline.

Both run in child processes on a free loopback port, over a store of their own in a
temporary data directory (SQLite) that holds the region's members (banks and payment
institutions) with an API key each, so every request is authenticated, and every
transaction submitted by its own member, exactly as in a deployment. For the durable figures
the store also holds the region's reference data (its accounts, parties, devices and logins,
no transactions) and `fundwall serve` decides over it, logging every decision; for the soak
it holds the whole region, the transactions as history.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final, Literal

from fundwall.bench.child import python_code
from fundwall.bench.loadgen import HOST
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.transactions import Transaction
from fundwall.engine.admission import Refusal

STARTUP_SECONDS: Final = 180.0
"""A large region's directory takes a while to build before the server answers."""
STOP_SECONDS: Final = 30.0
POLL_SECONDS: Final = 0.05
"""How often a starting server is asked whether it answers: each wait is time the run idles."""
BENCH_ACTOR: Final = "bench"

_FUNDWALL: Final = "from fundwall.cli import main; main()"
_SHELL: Final = (
    "import sys; from fundwall.bench.servers import serve_shell; serve_shell(int(sys.argv[1]))"
)


Contents = Literal["members", "reference", "whole"]
"""What a benchmark's store holds besides the members' API keys: the members alone, the
region's reference data (`fundwall load --no-transactions`), or the whole region."""


def sqlite_url(data_dir: Path) -> str:
    """The URL of the SQLite store in `data_dir`."""
    return f"sqlite:///{data_dir / 'fundwall.db'}"


def store_environment(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """This process's environment with the data directory moved to `data_dir` and the
    database to `database_url` (default: SQLite in `data_dir`).

    The API's check of a transaction's time against the server's clock is off: the benchmark
    replays a past region (2024) at full speed, far outside any window around today."""
    return {
        **os.environ,
        "FUNDWALL_DATA_DIR": str(data_dir),
        "FUNDWALL_DATABASE_URL": database_url or sqlite_url(data_dir),
        "FUNDWALL_API__CHECK_TIME": "false",
    }


def prepare_store(
    data_dir: Path,
    region: Path,
    *,
    contents: Contents = "members",
    database_url: str | None = None,
) -> dict[str, str]:
    """Create the store (in `data_dir`, or at `database_url`, an empty database) with the
    region's members and an API key for each; return the keys by member code. With
    `contents` "reference" it also holds the region's reference data as `fundwall load
    --no-transactions` puts it, with "whole" the transactions too, as history: for
    `fundwall serve` to decide over."""
    from fundwall import bootstrap
    from fundwall.config import load_settings
    from fundwall.domain.institutions import InstitutionKind
    from fundwall.members import create_api_key
    from fundwall.region import read_table
    from fundwall.sim.load import load_region
    from fundwall.store import migrate
    from fundwall.store.tables import InstitutionRow

    url = database_url or sqlite_url(data_dir)
    migrate.upgrade(url)
    members = [
        row
        for row in read_table(region, "institutions").to_pylist()
        if InstitutionKind(row["kind"]).holds_accounts
    ]
    if not members:
        raise RuntimeError(f"{region} has no bank or payment institution to submit for")
    settings = load_settings(config_file=None, data_dir=data_dir, database_url=url)
    keys: dict[str, str] = {}
    with bootstrap.opened(settings, operator=BENCH_ACTOR) as platform:
        if contents != "members":
            load_region(
                region, platform.database, platform.keyring, transactions=contents == "whole"
            )
        else:
            with platform.unit_of_work() as uow:
                uow.session.add_all(
                    InstitutionRow(
                        code=row["code"],
                        name_zh=row["name_zh"],
                        name_en=row["name_en"],
                        kind=row["kind"],
                        region=row["region_code"],
                    )
                    for row in members
                )
                uow.commit()
        for row in members:
            with platform.unit_of_work() as uow:
                _, keys[row["code"]] = create_api_key(
                    uow, platform.operator, row["code"], "benchmark"
                )
    return keys


def engine_command(port: int, region: Path | None) -> list[str]:
    """`fundwall serve` over the region in memory, or over the store (None)."""
    where = () if region is None else ("--region", str(region))
    return python_code(_FUNDWALL, "serve", "--host", HOST, "--port", str(port), *where)


def shell_command(port: int) -> list[str]:
    """The same app over `AmountRule`: what the HTTP shell costs without the engine."""
    return python_code(_SHELL, str(port))


@contextmanager
def running(
    commands: Sequence[Sequence[str]],
    ports: Sequence[int],
    envs: Sequence[Mapping[str, str]],
    logs: Sequence[IO[bytes]],
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start servers (each on its port, in its environment, writing to its log) all at once,
    so that their start-ups overlap; wait until each answers `/healthz`; stop them all on the
    way out."""
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for command, env, log in zip(commands, envs, logs, strict=True):
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=dict(env))
            servers.append(server)
        for server, port, log in zip(servers, ports, logs, strict=True):
            _wait_until_up(server, port, log)
        yield servers
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2_000:]
            raise RuntimeError(f"the server exited with {server.returncode}:\n{tail}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                probe.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if probe.recv(12).endswith(b"200"):
                    return
        except OSError:
            time.sleep(POLL_SECONDS)
    raise RuntimeError(f"the server did not answer on port {port} in {STARTUP_SECONDS:.0f} s")


class AmountRule:
    """A decision service that decides by the amount alone: the baseline's engine. It admits
    whatever a member sends (the baseline measures the server around the engine)."""

    def screen(self, member: str, txs: Sequence[Transaction]) -> list[Refusal | None]:
        return [None] * len(txs)

    def decide(self, tx: Transaction, *, member: str | None = None) -> Decision:
        amount = tx.amount.fen
        if amount < 5_000_000:
            return Decision(tx.tx_id, Action.PASS, amount // 100_000, (), "amount-rule")
        reason = Reason("A1", "大额转账", "a large transfer", {"amount": amount})
        return Decision(tx.tx_id, Action.ALERT, 50, (reason,), "amount-rule")

    def decide_batch(
        self, txs: Sequence[Transaction], *, member: str | None = None
    ) -> list[Decision]:
        return [self.decide(tx) for tx in txs]


def serve_shell(port: int) -> None:
    """The baseline server: the app `fundwall serve` builds (API, console, API keys), under
    the same uvicorn settings, deciding with `AmountRule`."""
    from fundwall import bootstrap
    from fundwall.cli.serve import run_server

    with bootstrap.opened() as platform:
        run_server(platform.app(AmountRule(), accounts=False), HOST, port)
