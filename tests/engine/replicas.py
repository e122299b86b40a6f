"""Helpers of the replica tests: a Redis namespace of the test's own, and the shared state read
back as plain values."""

from __future__ import annotations

import marshal
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
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
