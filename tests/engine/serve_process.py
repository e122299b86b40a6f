"""`fundwall serve` in a child process, for tests that stop it the hard way: start it, wait
until it answers, stop it with a signal."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Final

import pytest

HOST: Final = "127.0.0.1"
WAIT_SECONDS: Final = 90.0
"""The longest any one step may take: a start, a stop, a request."""
_FUNDWALL: Final = "from fundwall.cli import main; main()"


class Server:
    """`fundwall serve` over the store of `env`, in a child process."""

    def __init__(self, port: int, env: Mapping[str, str], log: IO[bytes]) -> None:
        self.port, self.log = port, log
        command = [sys.executable, "-c", _FUNDWALL, "serve", "--host", HOST, "--port", str(port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=log, env=dict(env)
        )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited: {self.tail()}"
            connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
            finally:
                connection.close()
        pytest.fail(f"the server did not answer in {WAIT_SECONDS:.0f} s: {self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3_000:]

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=WAIT_SECONDS)


@contextmanager
def serving(port: int, env: Mapping[str, str], log: IO[bytes]) -> Iterator[list[Server]]:
    """A list holding the running server (the test replaces it); killed on the way out."""
    servers = [Server(port, env, log)]
    try:
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop(signal.SIGKILL)
