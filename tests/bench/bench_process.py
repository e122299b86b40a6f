"""`fundwall bench` in a child process of its own session, and nothing of it left behind.

The benchmark starts servers and load generators of its own and makes temporary PostgreSQL
databases (fundwall_bench_<its pid>_<random>), which it stops and drops on the way out, on
SIGTERM too. A run that outlives its time is sent SIGTERM, so it cleans up as it would; what
is still running after `STOP_SECONDS` is killed, its whole session with it, and the
databases it named after its pid are dropped. Each run also checks that a benchmark that
ended left neither a process nor a database behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, Engine, create_engine, text

from fundwall.bench.durable import postgres_server_url
from fundwall.store.database import parse_url

TIMEOUT_SECONDS: Final = 300.0
STOP_SECONDS: Final = 30.0
"""How long a benchmark sent SIGTERM may take to stop its servers and drop its databases."""
EXIT_SECONDS: Final = 5.0
"""How long a process the benchmark stopped may take to end after the benchmark did."""
_FUNDWALL: Final = "from fundwall.cli import main; main()"


def run_bench(
    data_dir: Path, *args: str, timeout: float = TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    """`fundwall bench ARGS` over `data_dir`; what it printed and its exit code. Fails when
    it outlives `timeout`, or when it left a process or a database behind."""
    command = [sys.executable, "-c", _FUNDWALL, "bench", *args]
    environment = {**os.environ, "FUNDWALL_DATA_DIR": str(data_dir)}
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,  # its servers and load generators share its process group
    )
    try:
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            try:
                child.communicate(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
            raise
        left = _processes_left(child.pid)
        deadline = time.monotonic() + EXIT_SECONDS
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _processes_left(child.pid)
        databases = _databases_left(child.pid)
        assert not left, f"fundwall bench left processes running: {left}"
        assert not databases, f"fundwall bench left PostgreSQL databases: {databases}"
        return subprocess.CompletedProcess(command, child.returncode, stdout, stderr)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        _kill_session(child.pid)
        _drop_databases(child.pid)


def _processes_left(session: int) -> list[str]:
    """The command lines of the processes still in the benchmark's session."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (ProcessLookupError, PermissionError, FileNotFoundError):
            continue  # ended meanwhile
        if state != "Z":  # a zombie has ended; only its exit status waits to be read
            left.append(f"{entry.name}: {command}")
    return left


def _kill_session(session: int) -> None:
    try:
        os.killpg(session, signal.SIGKILL)
    except ProcessLookupError:
        return  # nothing left in it


def _admin() -> Engine:
    server = parse_url(postgres_server_url())
    return create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def _named_after(connection: Connection, session: int) -> list[str]:
    """The databases named as the benchmark of pid `session` names its temporary ones."""
    query = text("SELECT datname FROM pg_database WHERE datname LIKE :pattern")
    pattern = f"fundwall\\_bench\\_{session}\\_%"
    return list(connection.scalars(query, {"pattern": pattern}))


def _databases_left(session: int) -> list[str]:
    admin = _admin()
    try:
        with admin.connect() as connection:
            return _named_after(connection, session)
    finally:
        admin.dispose()


def _drop_databases(session: int) -> None:
    admin = _admin()
    try:
        with admin.connect() as connection:
            for name in _named_after(connection, session):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
