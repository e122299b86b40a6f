"""The replicas' shared state against Redis itself: its scripts lost half way through a
pipeline (Redis restarted, or its scripts flushed by someone) are loaded again and only the
commands Redis refused are sent again."""

from __future__ import annotations

from replicas import namespace, redis_url

from fundwall.engine.features.entity_state import EntityKind
from fundwall.engine.shared import _ACQUIRE, _RELEASE, _SHA, SharedState, _Commands

ENTITY = (EntityKind.ACCOUNT, "6222000000000001")


def test_a_command_that_ran_before_the_scripts_were_lost_is_not_run_again() -> None:
    url = redis_url()
    with namespace(url) as name:
        shared = SharedState(url, namespace=name)
        key = shared._key(ENTITY)
        shared.redis.script_load(_ACQUIRE)
        assert shared.redis.evalsha(_SHA[_ACQUIRE], 1, key, "first", 10_000, b"", "T1")[0] == 1
        # Only the release is known: it runs, the lease after it is refused and sent again.
        shared.redis.script_flush()
        shared.redis.script_load(_RELEASE)

        commands = _Commands()
        shared._script(commands, _RELEASE, key, "first", "v1", b"state", "")
        shared._script(commands, _ACQUIRE, key, "second", 10_000, b"v1", "T2")
        released, leased = shared._send(commands)
        assert released == 1  # run once: a second run would find "second" holding it
        assert leased[0] == 1 and leased[1] == b"v1"
        assert shared.redis.hget(key, "o") == b"second"
        shared.close()
