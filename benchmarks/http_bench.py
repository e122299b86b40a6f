"""HTTP benchmark of the risk engine: single decisions, then batches, over loopback.

    .venv/bin/python benchmarks/http_bench.py                      # the API over a fixed rule
    .venv/bin/python benchmarks/http_bench.py --region var/demo/region-small-seed7  # engine

Starts the server in a subprocess on a free loopback port, then a load generator in another
process: a small asyncio client speaking HTTP/1.1 over raw keep-alive sockets (far lighter than
an HTTP library, so the machine's cores go to the server), with a fixed number of connections,
each sending its next request when the last is answered. It first sends single transactions
(`POST /v1/transactions`) for `--seconds`, then batches (`POST /v1/transactions/batch`). Every
transaction id is new, so no answer comes from the idempotency cache.

Without --region the server is the API over `AmountRule`, a decision service that decides by
the amount alone: the numbers measure the HTTP shell (parsing, validation, routing, JSON)
without the engine's features and rules. With --region it is the API over the engine's
`DecisionService.from_region(DIR)` (in memory, as `fundwall serve --region` decides, but
without the console and its API keys), and the load is the region's own transactions in time
order under new ids. The server runs under uvicorn with uvloop and httptools, one worker, as
`fundwall serve` does.

Prints one JSON object: http_decisions_per_s, http_p50_ms, http_p99_ms, batch_http_tx_per_s,
batch_p99_ms, and the server's CPU time per decision (server_cpu_us_per_decision,
server_cpu_us_per_batch_tx), which is steadier than throughput on a shared machine. Goals: ≥
2,500 decisions/s with p99 ≤ 25 ms on 2 cores; ≥ 100,000 tx/s through the batch route.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path

import pyarrow.parquet as pq
import uvicorn
import uvloop

from fundwall.api import DecisionServiceProtocol, create_app
from fundwall.config import load_settings
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.transactions import Transaction
from fundwall.engine.decide import DecisionService

HOST = "127.0.0.1"
TRANSACTION_PATH = "/v1/transactions"
BATCH_PATH = "/v1/transactions/batch"
STARTUP_SECONDS = 60.0
WARM_UP = 20_000
"""Most requests of the 2-second warm-up."""
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")

_RECORD = (
    '{{"tx_id":"{tx_id}","ts":"2024-05-01T09:{minute:02d}:00+08:00","kind":"transfer",'
    '"payer_account":"62220202{payer:011d}","payee_account":"62284800{payee:011d}",'
    '"payer_bank":"ICBC","payee_bank":"ABC","amount_fen":{amount},"channel":"mobile",'
    '"device_id":"DEV-{payer}","ip":"203.0.113.{octet}","city":"Xiamen"}}'
)


def transaction_json(tx_id: str, serial: int) -> str:
    """One transfer as JSON; amounts cycle from a few yuan to ¥60,000, accounts over 5,000."""
    return _RECORD.format(
        tx_id=tx_id,
        minute=serial % 60,
        payer=serial * 7919 % 5_000,
        payee=serial * 104_729 % 5_000,
        amount=(serial * 977 % 6_000 + 1) * 1_000,
        octet=serial % 250 + 1,
    )


def region_transactions(folder: str, first: int, count: int) -> list[str]:
    """`count` of the region's transactions from the `first` on, as JSON in time order
    (wrapping round), `{tx_id}` standing for the id."""
    table = pq.read_table(Path(folder) / "transactions.parquet")
    first %= table.num_rows
    table = table.slice(first, count)
    records = []
    for row in table.to_pylist():
        row["ts"] = row["ts"].isoformat()
        row["tx_id"] = "{tx_id}"
        records.append(json.dumps({key: value for key, value in row.items() if value is not None}))
    return records


def http_request(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@dataclass(frozen=True)
class Step:
    """One phase of load: `per_request` transactions a request over `connections`."""

    path: str
    per_request: int
    connections: int
    seconds: float
    max_requests: int
    run: str
    """Prefix of the transaction ids, so that every phase sends new ones."""
    region: str | None = None
    """Send this region's own transactions, in time order, from the `first` on."""
    first: int = 0

    def requests(self) -> Iterator[bytes]:
        """Up to `max_requests` requests, each transaction with a new id."""
        count = self.max_requests * self.per_request
        history = region_transactions(self.region, self.first, count) if self.region else None
        return self._requests(history)

    def _requests(self, history: list[str] | None) -> Iterator[bytes]:
        for number in range(self.max_requests):
            start = number * self.per_request
            records = [
                transaction_json(f"{self.run}-{serial}", serial)
                if history is None
                else history[serial % len(history)].replace("{tx_id}", f"{self.run}-{serial}")
                for serial in range(start, start + self.per_request)
            ]
            body = records[0] if self.per_request == 1 else "[" + ",".join(records) + "]"
            yield http_request(self.path, body.encode())


@dataclass
class Phase:
    """What one phase of load measured."""

    requests: int = 0
    transactions: int = 0
    seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] / 1e6


async def _connection(
    port: int, step: Step, requests: Iterator[bytes], deadline: float, phase: Phase
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for request in requests:
            started = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] != b"200":
                raise RuntimeError(f"{step.path} answered {head[:12]!r}")
            start = head.lower().index(b"content-length:") + 15
            await reader.readexactly(int(head[start : head.index(b"\r\n", start)]))
            phase.latencies_ns.append(time.perf_counter_ns() - started)
            phase.requests += 1
            phase.transactions += step.per_request
            if time.perf_counter() >= deadline:
                break
    finally:
        writer.close()


async def _load(port: int, step: Step, requests: Iterator[bytes]) -> Phase:
    phase = Phase()
    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + step.seconds
    await asyncio.gather(
        *(_connection(port, step, requests, deadline, phase) for _ in range(step.connections))
    )
    phase.seconds = time.perf_counter() - started
    phase.client_cpu_seconds = time.process_time() - cpu
    return phase


def _generator(port: int, step: Step, out: Connection) -> None:
    """The load generator's process: send the step's requests, report what it measured.

    Single requests are built before the clock starts, so that the client stays light; a
    batch is built when it is sent (a few ms against the server's tens), to bound memory.
    The connections take their next request from one shared iterator.
    """
    requests = step.requests()
    if step.per_request == 1:
        requests = iter(list(requests))
    out.send("ready")
    out.send(uvloop.run(_load(port, step, requests)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def start_server(port: int, region: str | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--serve", str(port)]
    if region is not None:
        command += ["--region", region]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                probe.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if probe.recv(12).endswith(b"200"):
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the server did not answer on port {port} in {STARTUP_SECONDS:.0f} s")


def run_phase(port: int, server_pid: int, step: Step) -> tuple[Phase, float]:
    """One phase from a fresh load-generator process, and the server's CPU seconds in it."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    generator = context.Process(target=_generator, args=(port, step, sender))
    generator.start()
    receiver.recv()  # requests built: the phase starts now
    before = cpu_seconds(server_pid)
    phase: Phase = receiver.recv()
    spent = cpu_seconds(server_pid) - before
    generator.join()
    return phase, spent


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", help="decide with the engine over this region folder")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--connections", type=int, default=16, help="for single decisions")
    parser.add_argument("--max-requests", type=int, default=100_000, help="single decisions")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--batch-connections", type=int, default=2)
    parser.add_argument("--max-batches", type=int, default=2_000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.region)
        return

    warm_up = Step(TRANSACTION_PATH, 1, args.connections, 2.0, WARM_UP, "w", args.region)
    single = replace(warm_up, seconds=args.seconds, max_requests=args.max_requests, run="s",
                     first=WARM_UP)  # fmt: skip
    batch = Step(
        BATCH_PATH,
        args.batch_size,
        args.batch_connections,
        args.seconds,
        args.max_batches,
        "b",
        args.region,
        first=WARM_UP + args.max_requests,
    )
    port = free_port()
    server = start_server(port, args.region)
    try:
        run_phase(port, server.pid, warm_up)
        singles, single_cpu = run_phase(port, server.pid, single)
        batches, batch_cpu = run_phase(port, server.pid, batch)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "server": f"API over the engine on {args.region}"
                if args.region
                else "API over AmountRule",
                "connections": args.connections,
                "http_decisions": singles.requests,
                "http_decisions_per_s": round(singles.requests / singles.seconds),
                "http_p50_ms": round(singles.percentile_ms(0.50), 2),
                "http_p99_ms": round(singles.percentile_ms(0.99), 2),
                "server_cpu_us_per_decision": round(single_cpu / singles.requests * 1e6, 1),
                "client_cpu_us_per_decision": round(
                    singles.client_cpu_seconds / singles.requests * 1e6, 1
                ),
                "batch_size": args.batch_size,
                "batch_http_tx_per_s": round(batches.transactions / batches.seconds),
                "batch_p99_ms": round(batches.percentile_ms(0.99), 1),
                "server_cpu_us_per_batch_tx": round(batch_cpu / batches.transactions * 1e6, 2),
                "cpus": os.cpu_count(),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


def serve(port: int, region: str | None) -> None:
    """The server process: the API over the engine's service on `region` (in memory), else
    over `AmountRule`, under uvicorn as `fundwall serve` runs it (without the console)."""
    settings = load_settings()
    service: DecisionServiceProtocol = AmountRule()
    if region is not None:
        service = DecisionService.from_region(Path(region), policy=settings.policy)
    uvicorn.run(
        create_app(service, settings),
        host=HOST,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


class AmountRule:
    """A decision service that decides by the amount alone, to measure the HTTP shell."""

    def decide(self, tx: Transaction) -> Decision:
        amount = tx.amount.fen
        if amount < 5_000_000:
            return Decision(tx.tx_id, Action.PASS, amount // 100_000, (), "amount-rule")
        reason = Reason("A1", "大额转账", "a large transfer", {"amount": amount})
        return Decision(tx.tx_id, Action.ALERT, 50, (reason,), "amount-rule")

    def decide_batch(self, txs: Sequence[Transaction]) -> list[Decision]:
        return [self.decide(tx) for tx in txs]


if __name__ == "__main__":
    main()
