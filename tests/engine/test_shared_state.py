"""The replicas' shared state against Redis itself: its scripts lost half way through a
pipeline (Redis restarted, or its scripts flushed by someone) are loaded again and only the
commands Redis refused are sent again."""

from __future__ import annotations

from replicas import namespace, redis_url

from fundwall.engine.features.entity_state import Entity, EntityKind
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
        shared._script(commands, _RELEASE, key, "first", "v1", b"state", "", shared._freed_to)
        shared._script(commands, _ACQUIRE, key, "second", 10_000, b"v1", "T2")
        released, leased = shared._send(commands)
        assert released == 1  # run once: a second run would find "second" holding it
        assert leased[0] == 1 and leased[1] == b"v1"
        assert shared.redis.hget(key, "o") == b"second"
        shared.close()


def _entities(count: int) -> list[Entity]:
    return [(EntityKind.ACCOUNT, f"62220000000000{k:02d}") for k in range(count)]


def _replicas(url: str, name: str, count: int) -> list[SharedState]:
    replicas = [SharedState(url, namespace=name) for _ in range(count)]
    replicas[0].redis.set(replicas[0]._global("epoch"), b"e1")
    for shared in replicas:
        shared.epoch = b"e1"
    return replicas


def test_a_call_waiting_for_a_busy_entity_asks_for_it_alone_and_then_for_the_rest() -> None:
    url = redis_url()
    entities = _entities(5)
    with namespace(url) as name:
        first, other = _replicas(url, name, 2)
        holder, _, complete = other.taken(other.ask(entities[2:3], ["B1"]))
        assert complete
        lease, _, complete = first.taken(first.ask(entities, ["A1"]))
        assert not complete and lease.entities == entities[:2] and lease.blocked == entities[2]
        # Waiting, the call takes nothing after the busy entity, even for a moment: a third
        # call leasing the last ones meanwhile finds them free.
        asking = first.ask(entities, ["A1"], lease)
        assert asking.todo == [entities[2]] and asking.renewed == 0
        assert not first.taken(asking)[2]
        third, _, complete = other.taken(other.ask(entities[3:], ["C1"]))
        assert complete
        other.release(third, None, None).wait()
        other.release(holder, None, None).wait()
        # Let go: the busy entity alone, then the rest at once.
        lease, _, complete = first.taken(first.ask(entities, ["A1"], lease))
        assert not complete and lease.entities == entities[:3] and lease.blocked is None
        asking = first.ask(entities, ["A1"], lease)
        assert asking.todo == entities[3:]
        lease, _, complete = first.taken(asking)
        assert complete and lease.entities == entities
        first.release(lease, None, None).wait()
        first.close()
        other.close()


def test_held_leases_are_renewed_once_a_third_of_their_time_has_gone() -> None:
    url = redis_url()
    entities = _entities(3)
    with namespace(url) as name:
        first, other = _replicas(url, name, 2)
        first.lease_ms = 1_000
        holder, _, _ = other.taken(other.ask(entities[2:], ["B1"]))
        lease, _, complete = first.taken(first.ask(entities, ["A1"]))
        assert not complete
        assert first.ask(entities, ["A1"], lease).renewed == 0
        lease.renewed_at -= 0.4  # a third of the lease and more
        asking = first.ask(entities, ["A1"], lease)
        assert asking.renewed == 2 and asking.todo == [entities[2]]
        first.taken(asking)
        other.release(holder, None, None).wait()
        first.close()
        other.close()
