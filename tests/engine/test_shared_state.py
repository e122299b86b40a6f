"""The replicas' shared state against Redis itself: its scripts lost half way through a
pipeline (Redis restarted, or its scripts flushed by someone) are loaded again and only the
commands Redis refused are sent again; a lease is one script that takes a call's entities in
order up to the first busy one, and nothing after it."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from replicas import namespace, redis_url

from fundwall.engine.features.entity_state import Entity, EntityKind
from fundwall.engine.shared import (
    _ACQUIRE,
    _RELEASE,
    _SHA,
    WANTED,
    Lease,
    SharedState,
    _Commands,
)

ENTITY = (EntityKind.ACCOUNT, "6222000000000001")


def test_a_command_that_ran_before_the_scripts_were_lost_is_not_run_again() -> None:
    url = redis_url()
    with namespace(url) as name:
        shared = SharedState(url, namespace=name)
        key = shared._key(ENTITY)
        shared.redis.script_load(_ACQUIRE)
        leased = shared.redis.evalsha(
            _SHA[_ACQUIRE], 1, key, "first", 10_000, 0, shared._freed_to, "", "", b"", "T1"
        )
        assert leased == [1]  # taken, and the (empty) state known already
        # Only the release is known: it runs, the lease after it is refused and sent again.
        shared.redis.script_flush()
        shared.redis.script_load(_RELEASE)

        commands = _Commands()
        commands.evalsha(_SHA[_RELEASE], 1, key, "first", shared._freed_to, 1, "v1", b"s", "")
        commands.evalsha(
            _SHA[_ACQUIRE], 1, key, "second", 10_000, 0, shared._freed_to, "", "", b"", "T2"
        )
        released, leased = shared._send(commands)
        assert released == [1]  # run once: a second run would find "second" holding it
        assert leased == [[1, b"v1", b"s", b""]]  # taken, with the state written
        assert shared.redis.hget(key, "o") == b"second"
        shared.close()


def entities_of(count: int) -> list[Entity]:
    return [(EntityKind.ACCOUNT, f"62220000000000{k:02d}") for k in range(count)]


def intents(entities: Sequence[Entity], tx_id: str) -> dict[Entity, list[str]]:
    return {entity: [tx_id] for entity in entities}


def started(url: str, name: str, count: int, **options: bool) -> list[SharedState]:
    """`count` replicas' shared states over a state marked complete (an epoch)."""
    replicas = [SharedState(url, namespace=name, **options) for _ in range(count)]
    replicas[0].redis.set(replicas[0]._global("epoch"), b"e1")
    for shared in replicas:
        shared.epoch = b"e1"
    return replicas


def test_a_call_waiting_for_a_busy_entity_holds_none_after_it_and_then_takes_the_rest() -> None:
    url = redis_url()
    entities = entities_of(5)
    wanted = intents(entities, "A1")
    with namespace(url) as name:
        first, other = started(url, name, 2)
        holder, _, complete = other.taken(other.ask(intents(entities[2:3], "B1"), ["B1"]))
        assert complete
        rounds = first.pump.rounds
        asking = first.ask(wanted, ["A1"])
        assert len(asking.work.commands) == 1  # one script for the call's five entities
        lease, _, complete = first.taken(asking)
        assert not complete and lease.entities == entities[:2] and lease.blocked == entities[2]
        # The same script kept the busy entity for the call once let go: no other round.
        assert lease.awaited == entities[2] and first.pump.rounds - rounds == 1
        assert first.redis.hget(first._key(entities[2]), "w") == lease.owner.encode()
        # Nothing after the busy entity was taken, even for a moment: a third call leasing
        # the last ones finds them free.
        third, _, complete = other.taken(other.ask(intents(entities[3:], "C1"), ["C1"]))
        assert complete
        # Asked again while they are busy: the call holds the same two.
        asking = first.ask(wanted, ["A1"], lease)
        assert asking.todo == entities[2:] and asking.renewed == 0
        assert not first.taken(asking)[2] and lease.entities == entities[:2]
        other.release(third, None, None).wait()
        other.release(holder, None, None).wait()
        # Let go: the busy entity and the rest in one ask.
        lease, _, complete = first.taken(first.ask(wanted, ["A1"], lease))
        assert complete and lease.entities == entities
        first.release(lease, None, None).wait()
        first.close()
        other.close()


def test_each_entity_records_the_ids_of_the_transactions_that_touch_it() -> None:
    url = redis_url()
    payer, payee, device = entities_of(3)
    with namespace(url) as name:
        (shared,) = started(url, name, 1)
        touched = {payer: ["T1", "T2"], payee: ["T1"], device: ["T2"]}
        lease, _, complete = shared.taken(shared.ask(touched, ["T1", "T2"]))
        assert complete
        recorded = {e: shared.redis.hget(shared._key(e), "x") for e in lease.entities}
        assert recorded == {payer: b"T1,T2", payee: b"T1", device: b"T2"}
        shared.release(lease, {e: b"state" for e in lease.entities}, None).wait()
        assert all(shared.redis.hget(shared._key(e), "x") is None for e in lease.entities)
        shared.close()


def test_held_leases_are_renewed_once_a_third_of_their_time_has_gone() -> None:
    url = redis_url()
    entities = entities_of(3)
    wanted = intents(entities, "A1")
    with namespace(url) as name:
        first, other = started(url, name, 2)
        first.lease_ms = 1_000
        holder, _, _ = other.taken(other.ask(intents(entities[2:], "B1"), ["B1"]))
        lease, _, complete = first.taken(first.ask(wanted, ["A1"]))
        assert not complete
        assert first.ask(wanted, ["A1"], lease).renewed == 0
        lease.renewed_at -= 0.4  # a third of the lease and more
        asking = first.ask(wanted, ["A1"], lease)
        assert asking.renewed == 2 and asking.todo == [entities[2]]
        first.taken(asking)
        other.release(holder, None, None).wait()
        first.close()
        other.close()


def test_a_replica_is_told_when_another_replica_wants_an_entity_it_holds() -> None:
    url = redis_url()
    entity = entities_of(1)
    with namespace(url) as name:
        holder, other = started(url, name, 2)
        listening = holder.redis.pubsub()
        listening.subscribe(f"{holder._freed_to}{holder.replica}")
        assert listening.get_message(timeout=1)["type"] == "subscribe"
        _, _, complete = holder.taken(holder.ask(intents(entity, "H1"), ["H1"]))
        assert complete
        # The holder's own next call finds it held too, but the holder's replica knows that.
        _, _, complete = holder.taken(holder.ask(intents(entity, "H2"), ["H2"]))
        assert not complete
        assert listening.get_message(timeout=0.2) is None
        _, _, complete = other.taken(other.ask(intents(entity, "O1"), ["O1"]))
        assert not complete
        told = listening.get_message(timeout=1)
        assert told is not None and told["data"] == WANTED  # its lingering release goes now
        listening.close()
        for shared in (holder, other):
            shared.close()


def test_a_lease_gathers_while_other_calls_of_its_replica_are_under_way() -> None:
    url = redis_url()
    entities = entities_of(2)
    with namespace(url) as name:
        shared = SharedState(url, namespace=name, gather_s=0.2)
        shared.redis.set(shared._global("epoch"), b"e1")
        shared.epoch = b"e1"

        async def calls() -> tuple[float, float]:
            loop = asyncio.get_running_loop()
            asked = loop.time()
            alone = shared.ask(intents(entities[:1], "A1"), ["A1"], awaited=True)
            await asyncio.wait_for(alone.work.awaitable, 10)  # a guard, not a measure
            lone = loop.time() - asked
            under_way, _, complete = shared.taken(alone)  # its call goes on
            assert complete
            asked = loop.time()
            second = shared.ask(intents(entities[1:], "B1"), ["B1"], awaited=True)
            await asyncio.wait_for(second.work.awaitable, 10)
            assert shared.taken(second)[2] and under_way.entities == entities[:1]
            return lone, loop.time() - asked

        lone, gathered = asyncio.run(calls())
        assert lone < 0.2  # nothing under way: it went at once
        assert gathered >= 0.19  # it waited for company (the timer's own rounding aside)
        assert shared.pump.rounds == 2
        shared.close()


def _until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 10  # a guard, not a measure
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


@contextmanager
def two_replicas() -> Iterator[tuple[SharedState, SharedState]]:
    """Two replicas' shared states over a namespace of their own: one whose call will wait,
    one whose call holds."""
    url = redis_url()
    with namespace(url) as name:
        replicas = started(url, name, 2)
        try:
            yield replicas[0], replicas[1]
        finally:
            for shared in replicas:
                shared.close()


def kept_waiting(
    waiting: SharedState, holding: SharedState, entities: list[Entity], busy: int
) -> tuple[Lease, Lease]:
    """A call of `holding` holding `entities[busy]`, and a call of `waiting` asking for all
    of `entities`, kept waiting for it with the rest of its lease: their leases."""
    held, _, complete = holding.taken(holding.ask(intents(entities[busy : busy + 1], "B1"), ["B1"]))
    assert complete
    lease, _, complete = waiting.taken(waiting.ask(intents(entities, "A1"), ["A1"]))
    assert not complete and lease.entities == entities[:busy]
    assert lease.awaited == entities[busy] and lease.completing
    return held, lease


def test_the_release_of_a_busy_entity_completes_the_lease_of_the_call_kept_waiting() -> None:
    entities = entities_of(5)
    wanted = intents(entities, "A1")
    with two_replicas() as (waiting, holding):
        told: list[Entity] = []
        waiting.listen(told.append)
        held, lease = kept_waiting(waiting, holding, entities, 2)
        holding.release(held, {entities[2]: b"after B1"}, None).wait()
        # The release took the busy entity and the rest for the waiting call, and said so.
        _until(lambda: told == [entities[2]], "the waiting replica was never told")
        for entity in entities:
            assert waiting.redis.hget(waiting._key(entity), "o") == lease.owner.encode()
        rounds = waiting.pump.rounds
        asking = waiting.ask(wanted, ["A1"], lease)
        lease, loaded, complete = waiting.taken(asking)
        assert complete and lease.entities == entities
        assert waiting.pump.rounds == rounds  # taken as told, without another round trip
        assert (entities[2], b"after B1") in loaded
        assert waiting.redis.hget(waiting._key(entities[2]), "x") == b"A1"


def test_a_lease_completed_for_a_call_gone_is_given_back() -> None:
    entities = entities_of(3)
    with two_replicas() as (waiting, holding):
        waiting.listen(lambda _: None)
        held, lease = kept_waiting(waiting, holding, entities, 1)
        owner = lease.owner.encode()
        # The call is gone without a word (its event loop stopped, say).
        waiting._completing.clear()
        del lease
        gc.collect()
        holding.release(held, {entities[1]: b"after B1"}, None).wait()
        key = waiting._key(entities[2])
        _until(lambda: waiting.redis.hget(key, "o") == owner, "never completed")
        # Nobody took it: given back within a second, the state as written.
        _until(lambda: waiting.redis.hget(key, "o") is None, "never given back")
        assert waiting.redis.hget(waiting._key(entities[1]), "o") is None
        assert waiting.redis.hget(waiting._key(entities[1]), "s") == b"after B1"


def test_a_call_not_told_of_its_completed_lease_reads_it_when_it_asks_again() -> None:
    entities = entities_of(3)
    wanted = intents(entities, "A1")
    with two_replicas() as (waiting, holding):  # the waiting replica hears nothing
        held, lease = kept_waiting(waiting, holding, entities, 1)
        holding.release(held, {entities[1]: b"after B1"}, None).wait()
        assert waiting.redis.hget(waiting._key(entities[2]), "o") == lease.owner.encode()
        # Asked again, the lease script answers what it holds already, with its bytes.
        lease, loaded, complete = waiting.taken(waiting.ask(wanted, ["A1"], lease))
        assert complete and lease.entities == entities
        assert (entities[1], b"after B1") in loaded


def test_calls_waiting_for_one_entity_are_completed_in_turn() -> None:
    url = redis_url()
    entity = entities_of(1)
    with namespace(url) as name:
        holding, first, second = started(url, name, 3)
        told: dict[str, list[Entity]] = {"first": [], "second": []}
        first.listen(told["first"].append)
        second.listen(told["second"].append)
        held, _, _ = holding.taken(holding.ask(intents(entity, "H1"), ["H1"]))
        one, _, complete = first.taken(first.ask(intents(entity, "A1"), ["A1"]))
        assert not complete and one.completing
        rounds = second.pump.rounds
        two, _, complete = second.taken(second.ask(intents(entity, "B1"), ["B1"]))
        # Kept for the first call already: the second queues behind it, not refused.
        assert not complete and two.completing and two.awaited == entity[0]
        holding.release(held, {entity[0]: b"after H1"}, None).wait()
        _until(lambda: told["first"] == entity, "the first call was never told")
        assert told["second"] == []
        one, _, complete = first.taken(first.ask(intents(entity, "A1"), ["A1"], one))
        assert complete
        first.release(one, {entity[0]: b"after A1"}, None).wait()
        _until(lambda: told["second"] == entity, "the second call was never told")
        two, loaded, complete = second.taken(second.ask(intents(entity, "B1"), ["B1"], two))
        assert complete and (entity[0], b"after A1") in loaded
        assert second.pump.rounds - rounds == 1  # its first ask only
        for shared in (holding, first, second):
            shared.close()
