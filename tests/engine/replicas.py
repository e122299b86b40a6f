"""Helpers of the replica tests: a Redis namespace of the test's own, and the shared state read
back as plain values."""

from __future__ import annotations

import marshal
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from fundwall.engine.core import DecisionCore
from fundwall.engine.features import entity_state
from fundwall.engine.shared import SharedState

REDIS_URL_ENV = "FUNDWALL_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """The Redis the replica tests use; they skip (a failure under CI=true) without one."""
    import redis

    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis unreachable at {url} (set {REDIS_URL_ENV}): {error}")
    finally:
        client.close()
    return url


@contextmanager
def namespace(url: str) -> Iterator[str]:
    """A key prefix of the test's own, its keys deleted on the way out."""
    import redis

    name = f"fwtest-{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{name}:*", count=1_000))
        if keys:
            client.delete(*keys)
        client.close()


CLUSTER_NODES = 3


def _cluster_port() -> int:
    """A free port whose cluster bus port (10,000 above) is free too, both below Linux's
    ephemeral range (32,768 and up): a port there may be taken, between the check and the
    node's start, by any outgoing connection of the suite's, and the node then exits."""
    while True:
        port = secrets.randbelow(12_768) + 10_000
        if not (_answers(port) or _answers(port + 10_000)):
            return port


@contextmanager
def redis_cluster(folder: Path) -> Iterator[str]:
    """A Redis Cluster of three primaries on 127.0.0.1, each a `redis-server` of the test's own
    (nothing kept on disk), its slots spread by `redis-cli --cluster create`; yields the URL of
    one node. Skips (a failure under CI=true) without `redis-server`."""
    import redis

    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.skip("redis-server and redis-cli are needed for a Redis Cluster")
    ports = [_cluster_port() for _ in range(CLUSTER_NODES)]
    with ExitStack() as stack:
        for port in ports:
            home = folder / str(port)
            home.mkdir()
            node = subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no"],
                cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(node.wait, 10)
            stack.callback(node.terminate)
        for port in ports:
            _wait_until(lambda port=port: _answers(port))
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        for port in ports:
            client = redis.Redis(port=port)
            stack.callback(client.close)
            _wait_until(lambda client=client: b"cluster_state:ok" in _cluster_info(client))
        yield f"redis://127.0.0.1:{ports[0]}/0"


def _cluster_info(client: Any) -> bytes:
    info: bytes = client.execute_command("CLUSTER", "INFO")
    return info


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_until(ready: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, "the Redis Cluster did not come up"
        time.sleep(0.05)


def shared_values(shared: SharedState) -> dict[str, Any]:
    """Every entity's state in Redis, by key, as plain values."""
    found = {}
    for key in shared.redis.scan_iter(match=f"{shared.namespace}:{{*}}", count=1_000):
        data = shared.redis.hget(key, "s")
        if data is not None:
            found[key.decode().split(":", 1)[1]] = _values(data)
    return found


def core_values(core: DecisionCore) -> dict[str, Any]:
    """Every entity's state in a core holding the whole state, keyed as in Redis."""
    features, controls = core.features, core.controls
    return {
        f"{{{kind}:{name}}}": _values(entity_state.dump(features, controls, (kind, name)))
        for kind, name in entity_state.every_entity(features, controls)
    }


def _values(data: bytes) -> Any:
    return marshal.loads(data)
