"""A load generator for the HTTP API, run in a process of its own.

A small asyncio client speaking HTTP/1.1 over raw keep-alive sockets (far lighter than an
HTTP library, so the machine's cores go to the server), with a fixed number of connections,
each sending its next request when the last is answered. The load is a region's own
transactions in time order, each under a new id, so no answer comes from the idempotency
cache. It only ever connects to 127.0.0.1, and each phase is bounded in time and in count.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
import uvloop

from fundwall.domain.ownership import OWNING_SIDE
from fundwall.region import read_table

HOST: Final = "127.0.0.1"
TICKS_PER_SECOND: Final = os.sysconf("SC_CLK_TCK")
BUILT_RATE: Final = 20_000
"""Single requests are built ahead for this rate (8× the goal) over the phase, no more."""
GRACE_SECONDS: Final = 120.0
"""Beyond its own length, how long a phase may take to build its requests and finish."""


@dataclass(frozen=True, slots=True)
class Step:
    """One phase of load: `per_request` transactions a request over `connections`, for at
    most `seconds` and at most `max_requests` requests."""

    path: str
    per_request: int
    connections: int
    seconds: float
    max_requests: int
    run: str
    """Prefix of the transaction ids, so that every phase sends new ones."""
    region: Path
    """Send this region's own transactions, in time order, from the `first` on (wrapping)."""
    api_keys: Mapping[str, str]
    """Each member's API key: a member submits only its own transactions."""
    first: int = 0

    def requests(self) -> Iterator[bytes]:
        """Up to `max_requests` requests, each transaction with a new id and sent with its
        member's key. The region is read now; the requests are made as they are taken."""
        table = read_table(self.region, "transactions")
        owners = set(pc.unique(_owners(table)).drop_null().to_pylist())
        if not owners & set(self.api_keys):
            raise RuntimeError("no transaction of the region belongs to a member with a key")
        return self._requests(region_records(table, self.first))

    def _requests(self, records: Iterator[tuple[str | None, str]]) -> Iterator[bytes]:
        waiting: dict[str, list[str]] = {}
        serial = 0
        for _ in range(self.max_requests):
            member, batch = self._take(records, waiting)
            with_ids = []
            for record in batch:
                with_ids.append(record.replace("{tx_id}", f"{self.run}-{serial}"))
                serial += 1
            body = with_ids[0] if self.per_request == 1 else "[" + ",".join(with_ids) + "]"
            yield http_request(self.path, body.encode(), self.api_keys[member])

    def _take(
        self, records: Iterator[tuple[str | None, str]], waiting: dict[str, list[str]]
    ) -> tuple[str, list[str]]:
        """The next `per_request` transactions of one member, as a bank's system would send
        them: each waits, in the region's order, until its member has a request's worth."""
        for member, record in records:
            if member is None or member not in self.api_keys:
                continue
            queue = waiting.setdefault(member, [])
            queue.append(record)
            if len(queue) == self.per_request:
                del waiting[member]
                return member, queue
        raise RuntimeError("the region's transactions ran out")


def _owners(table: pa.Table) -> pa.ChunkedArray:
    """The member each transaction belongs to, the one that submits it and decides
    (`fundwall.domain.ownership`, column by column)."""
    owners: pa.Array | pa.ChunkedArray = pa.nulls(table.num_rows, pa.string())
    for kind, side in OWNING_SIDE.items():
        owners = pc.if_else(pc.equal(table["kind"], kind.value), table[f"{side}_bank"], owners)
    return owners


def pass_length(table: pa.Table) -> timedelta:
    """How far each pass over the region moves its timestamps: whole days, at least the time
    its transactions cover, so hours of the day stay as they were."""
    span = pc.max(table["ts"]).as_py() - pc.min(table["ts"]).as_py()
    return timedelta(days=span // timedelta(days=1) + 1)


def region_records(
    table: pa.Table, first: int, chunk: int = 1_000
) -> Iterator[tuple[str | None, str]]:
    """The region's transactions from the `first` on, in time order, starting over at the
    end, each pass later by `pass_length` so that time only moves forward: each its member
    and its JSON with `{tx_id}` standing for the id. `chunk` rows are converted at a time."""
    if table.num_rows == 0:
        raise RuntimeError("the region has no transactions to send")
    owners = _owners(table)
    passes, position = divmod(first, table.num_rows)
    length = pass_length(table)
    shift = length * passes
    while True:
        rows = table.slice(position, chunk).to_pylist()
        members = owners.slice(position, chunk).to_pylist()
        for member, row in zip(members, rows, strict=True):
            row["ts"] = (row["ts"] + shift).isoformat()
            row["tx_id"] = "{tx_id}"
            record = json.dumps({key: value for key, value in row.items() if value is not None})
            yield member, record
        position += chunk
        if position >= table.num_rows:
            position = 0
            shift += length


def http_request(path: str, body: bytes, api_key: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {api_key}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def percentile_ms(latencies_ns: Sequence[int], share: float) -> float:
    """The latency below which `share` of `latencies_ns` lie, in ms."""
    ordered = sorted(latencies_ns)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] / 1e6


@dataclass
class Phase:
    """What one phase of load measured."""

    requests: int = 0
    transactions: int = 0
    seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)

    def percentile_ms(self, share: float) -> float:
        """The latency below which `share` of the requests were answered, in ms."""
        return percentile_ms(self.latencies_ns, share)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def transactions_per_s(self) -> float:
        return self.transactions / self.seconds


async def keep_sending(
    port: int, step: Step, requests: Iterator[bytes], deadline: float, phase: Phase
) -> None:
    """Send requests over one connection, each once the last is answered, until they run out
    or `deadline` (perf_counter seconds) passes; counts and latencies go into `phase`."""
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


async def _load(ports: Sequence[int], step: Step, requests: Iterator[bytes]) -> Phase:
    """The phase's connections spread over `ports` in turn (several replicas: a client-side
    spread, as a load balancer's round robin)."""
    phase = Phase()
    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + step.seconds
    await asyncio.gather(
        *(
            keep_sending(ports[k % len(ports)], step, requests, deadline, phase)
            for k in range(step.connections)
        )
    )
    phase.seconds = time.perf_counter() - started
    phase.client_cpu_seconds = time.process_time() - cpu
    return phase


def _generator(ports: Sequence[int], pipe: Connection) -> None:
    """The load generator's process: for each step the parent sends, build its requests, say
    "ready", send them, report what it measured; until the parent closes the pipe. One
    process serves a server's phases one after another: it starts once, while the servers do.

    Single requests are built before the clock starts, so that the client stays light (as
    many as the phase could send at `BUILT_RATE`); a batch is built when it is sent (a few ms
    against the server's hundreds), to bound memory. The connections take their next
    request from one shared iterator.
    """
    while True:
        try:
            step = pipe.recv()
        except EOFError:
            return  # the parent is done with it
        requests = step.requests()
        if step.per_request == 1:
            ahead = math.ceil(step.seconds * BUILT_RATE) + step.connections
            requests = iter(list(itertools.islice(requests, ahead)))
        pipe.send("ready")
        pipe.send(uvloop.run(_load(ports, step, requests)))
        del requests  # freed while idle: the next step builds its own


def free_port() -> int:
    """A TCP port free on the loopback interface just now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def receive(receiver: Connection, timeout: float) -> object:
    if not receiver.poll(timeout):
        raise RuntimeError(f"the load generator gave no answer in {timeout:.0f} s")
    try:
        return receiver.recv()
    except EOFError:
        raise RuntimeError("the load generator failed (its error is printed above)") from None


@contextmanager
def generator_process(target: Callable[..., None], *args: object) -> Iterator[Connection]:
    """Run `target(*args, pipe)` in a fresh process; yield this process's end of the pipe. On
    the way out that end is closed (a process reading from it ends), then the process is
    joined, or killed once `GRACE_SECONDS` pass."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    generator = context.Process(target=target, args=(*args, theirs), daemon=True)
    generator.start()
    # Only the child holds its end now: once it is gone, a read here ends instead of waiting
    # for ever.
    theirs.close()
    try:
        yield mine
    finally:
        mine.close()
        generator.join(timeout=GRACE_SECONDS)
        if generator.is_alive():
            generator.kill()
            generator.join()


def load_generator(ports: Sequence[int]) -> AbstractContextManager[Connection]:
    """A load-generator process for phases against `ports` (`run_phase`), started now: its
    start-up may overlap the servers'."""
    return generator_process(_generator, list(ports))


def run_phase(generator: Connection, server_pids: Sequence[int], step: Step) -> tuple[Phase, float]:
    """One phase from `generator` (`load_generator`), and the servers' CPU seconds in it
    (several servers: replicas, loaded in turn)."""
    generator.send(step)
    receive(generator, GRACE_SECONDS)  # requests built: the phase starts now
    before = sum(map(cpu_seconds, server_pids))
    phase = receive(generator, step.seconds + GRACE_SECONDS)
    spent = sum(map(cpu_seconds, server_pids)) - before
    if not isinstance(phase, Phase):
        raise RuntimeError(f"the load generator answered {phase!r}")
    return phase, spent
