"""The engine's state shared by several replicas through Redis (docs/scale.md).

Each replica decides in its own `DecisionCore`; what a decision reads and changes is the
state of the transaction's entities (`features.entity_state`): its accounts, device, IP and
holder. Before deciding, a replica leases those entities in Redis and reads the bytes of each
whose version it does not hold already; after the decision is committed to the decision log,
it writes their new bytes under new versions and gives the leases back. So a transaction's
features are the same whichever replica decides it, and a decision never reads an entity that
another replica is changing (it waits for it, at most `wait_s`, then answers 503).

Round trips: a call needs Redis twice (lease and read; write and release), but it does not
send them itself: the replica's pump (`fundwall.engine.pump`) sends the work of its concurrent
calls as one pipeline per round, the writes and releases of the calls just logged with the
leases of the calls just arrived, so under load a decision costs one round trip, shared. In
it, a call's lease is one script and its release another (the engine's clock moved with it):
each entity's keys have a hash tag of their own (`<ns>:{<kind>:<name>}`), so the state shards
over a Redis Cluster by entity, and there, where a script's keys must share one slot, a call
sends one script per entity instead (`SharedState._groups`). A single atomic script per
decision, lease to release, cannot be: the decision is logged in between. A call kept waiting
by another replica's has the busy entity kept for it once let go (`_ACQUIRE`, `_WAIT`), so a
replica passing a hot entity from call to call in its rounds does not starve the others.

The log in the database stays the truth:
- A lease records, in each entity, the ids of the call's transactions that touch it (its
  intent). A replica that stops between its commit and its release leaves an intent behind;
  the next replica to lease the entity after the lease's time is up folds what of it the log
  holds, then goes on.
- A replica whose lease ran out before it could release (it stalled past `lease_ms`) cannot
  know what the next holder saw: it drops the shared state's epoch, and the replicas rebuild it
  from the log (`SharedStateUnavailable` meanwhile, a 503 with Retry-After).
- When Redis loses its data (restarted, flushed) the epoch is gone too: one replica folds the
  log and writes every entity (`publish`), the others answer 503 until it is done.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from fundwall.domain.errors import FundwallError
from fundwall.engine.features.entity_state import Entity, EntityKind
from fundwall.engine.pump import Command, Pump, Work

if TYPE_CHECKING:
    import redis

    from fundwall.engine.core import DecisionCore

BUILD_MS: Final = 600_000
"""How long one replica may take to rebuild the shared state before another may try."""
TIMERS_MS: Final = 180_000
"""How long the replica running the server's timers keeps them without renewing: every tick
of any of its timers renews them (the SMS outbox's ticks every second by default), so a
replica that stopped hands them over within three minutes."""
WAIT_MS: Final = 250
"""How long a busy entity, once let go, is kept for the call that waits for it (renewed at
each of its tries, a few milliseconds apart: `service._pause`), so the mark of a call that
stopped lapses soon."""
PUBLISH_CHUNK: Final = 2_000
"""Entities written per round trip when the state is published."""

TAKEN: Final = 1
"""A lease's answer for an entity it took (with its version, bytes and orphaned intent)."""
REFUSED: Final = 0
"""Another call holds the entity (not kept for this one: the lease could not keep it)."""
KEPT_FOR_THIS: Final = 2
"""Another call holds the entity; once let go, it is kept for this call (`_WAIT`)."""
KEPT_FOR_OTHER: Final = 3
"""The entity is kept for another call waiting for it (`_WAIT`)."""
GRANTED: Final = b"g"
"""The first byte of what a replica is told of a lease completed for one of its waiting calls
(`_RELEASE`): then netstrings (`<length>:<bytes>`) of the call's owner, the epoch, the clock,
and for each entity taken or refused its key, status (`b`: `TAKEN` alone), version, bytes and
orphaned intent."""
GRANTED_MOST: Final = 32
"""A call of more entities (a batch) keeps no more than the busy entity: a release completing
its lease would run for as long as the lease of all of them, and keep Redis from others."""
UNCLAIMED_S: Final = 0.5
"""How long a lease completed for a call not waiting for it is kept for the call (told before
its round's answer was read) before it is given back (the call gave up)."""
WANTED: Final = b"?"
"""Told on a replica's channel: another replica's call found an entity this one holds
(`_ACQUIRE` and `_WAIT` publish it as '?')."""

_TAKE: Final = """
local function tell(holder, until_ms, owner, channels, ms)
  if not holder or tonumber(until_ms) <= ms then return end
  local replica = string.match(holder, '^[^:]+')
  if replica ~= string.match(owner, '^[^:]+') then
    redis.call('PUBLISH', channels .. replica, '?')
  end
end
local function first_waiting(key, waiter, until_ms, queued, ms)
  if waiter and tonumber(until_ms) > ms then return waiter end
  local queue = queued and cmsgpack.unpack(queued) or {}
  while #queue > 0 do
    local first = table.remove(queue, 1)
    if tonumber(first[2]) > ms then
      redis.call('HSET', key, 'w', first[1], 'we', first[2], 'wr', first[3])
      if #queue > 0 then
        redis.call('HSET', key, 'wq', cmsgpack.pack(queue))
      else
        redis.call('HDEL', key, 'wq')
      end
      return first[1]
    end
  end
  if queued then redis.call('HDEL', key, 'wq') end
  if waiter then redis.call('HDEL', key, 'w', 'we', 'wr') end
  return nil
end
local function queue_behind(key, owner, until_ms, rest)
  local queued = redis.call('HGET', key, 'wq')
  local queue = queued and cmsgpack.unpack(queued) or {}
  local found = false
  for _, entry in ipairs(queue) do
    if entry[1] == owner then
      entry[2], entry[3], found = until_ms, rest, true
    end
  end
  if not found then table.insert(queue, {owner, until_ms, rest}) end
  redis.call('HSET', key, 'wq', cmsgpack.pack(queue))
end
local function leave_queue(key, owner)
  local queued = redis.call('HGET', key, 'wq')
  if not queued then return end
  local queue, kept = cmsgpack.unpack(queued), {}
  for _, entry in ipairs(queue) do
    if entry[1] ~= owner then table.insert(kept, entry) end
  end
  if #kept > 0 then
    redis.call('HSET', key, 'wq', cmsgpack.pack(kept))
  else
    redis.call('HDEL', key, 'wq')
  end
end
local function rest_of(owner, lease_ms, keep, channels, reads, keys, versions, intents, k)
  local rest = {owner, lease_ms, keep, channels, reads[1], reads[2], {}, {}, {}}
  for j = k, #keys do
    table.insert(rest[7], keys[j])
    table.insert(rest[8], versions[j])
    table.insert(rest[9], intents[j])
  end
  return cmsgpack.pack(rest)
end
local function take(owner, lease_ms, keep, channels, ms, keys, versions, intents, reads)
  local expiry = ms + lease_ms
  local answers = {}
  for k, key in ipairs(keys) do
    local held = redis.call('HMGET', key, 'o', 'e', 'v', 'x', 'w', 'we', 'wq')
    if held[1] == owner then
      redis.call('HSET', key, 'e', expiry)
      answers[k] = 1
      if (held[3] or '') ~= versions[k] then
        local state = redis.call('HMGET', key, 's', 'xo')
        answers[k] = {1, held[3] or '', state[1] or '', state[2] or ''}
      end
    else
      local busy = held[1] and tonumber(held[2]) > ms
      local first = nil
      if held[5] or held[7] then first = first_waiting(key, held[5], held[6], held[7], ms) end
      if first and first ~= owner then
        if busy then tell(held[1], held[2], owner, channels, ms) end
        if keep > 0 and reads then
          local rest = rest_of(owner, lease_ms, keep, channels, reads, keys, versions, intents, k)
          queue_behind(key, owner, ms + keep, rest)
          answers[k] = 2
        else
          answers[k] = {3}
        end
        return answers
      elseif busy then
        tell(held[1], held[2], owner, channels, ms)
        if keep == 0 then
          answers[k] = 0
        else
          redis.call('HSET', key, 'w', owner, 'we', ms + keep)
          if reads then
            local rest = rest_of(owner, lease_ms, keep, channels, reads, keys, versions, intents, k)
            redis.call('HSET', key, 'wr', rest)
          else
            redis.call('HDEL', key, 'wr')
          end
          answers[k] = 2
        end
        return answers
      else
        local orphan = held[4] or ''
        local intent = intents[k]
        if orphan ~= '' then intent = orphan .. ',' .. intent end
        redis.call('HSET', key, 'o', owner, 'e', expiry, 'x', intent, 'xo', orphan)
        if first then  -- this call was first in line: the next one is
          redis.call('HDEL', key, 'w', 'we', 'wr')
          first_waiting(key, nil, 0, redis.call('HGET', key, 'wq'), ms)
        end
        local version = held[3] or ''
        if version ~= versions[k] then
          answers[k] = {1, version, redis.call('HGET', key, 's') or '', orphan}
        elseif orphan ~= '' then
          answers[k] = {1, version, '', orphan}
        else
          answers[k] = 1
        end
      end
    end
  end
  return answers
end
"""
"""The lease's steps, shared by `_ACQUIRE` and by `_RELEASE` completing a waiting call's lease:
`take` leases `keys` for `owner` in order (see `_ACQUIRE`). A busy entity is kept for the
first call waiting for it (`w`, until `we`), once let go. With `reads` (the keys of the
state's epoch and clock) it also keeps the rest of that call's lease (`wr`: the owner, its
lease ms and keep, the channels' prefix, `reads`, and its keys, versions and intents from the
busy one on), which the release that lets it go completes; and a call finding it kept for
another such call queues behind it (`wq`: owner, until when, the rest of its lease; each
comes first in turn, those whose time ran out skipped), where without `reads` it is refused
(`KEPT_FOR_OTHER`) and asks again later."""

_ACQUIRE: Final = (
    _TAKE
    + """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local versions, intents = {}, {}
for k = 1, #KEYS do
  versions[k] = ARGV[5 + 2 * k]
  intents[k] = ARGV[6 + 2 * k]
end
local reads = nil
if ARGV[5] ~= '' then reads = {ARGV[5], ARGV[6]} end
return take(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ms, KEYS, versions, intents,
  reads)
"""
)
"""Lease entities in order, up to the first another call holds: KEYS the entities' hashes;
ARGV owner, lease ms, how long to keep the first busy entity for the owner once let go (ms,
`_WAIT`; 0: not), the prefix of the replicas' channels (another replica holding the busy
entity is told there that it is wanted: `Pump.hurry`), the keys of the state's epoch and
clock ('' and '': the busy entity kept for the owner does not keep the rest of its lease, as
on a Redis Cluster, whose scripts keep to one slot), then for each key the version the
replica holds and the transaction ids of the call that touch the entity (its intent). One
answer per key up to the first busy one, nothing after it (nothing is taken after a busy
entity, not even for a moment): {`TAKEN`, version, bytes (empty when the replica's version
is current), orphaned intent}, or `TAKEN` alone when the replica's version is current and no
intent was orphaned (most leases: the fewer values, the less for the client to read);
`REFUSED`, `KEPT_FOR_THIS` or `KEPT_FOR_OTHER`. The owner's own lease is renewed, with the
entity's bytes and the intent orphaned when it was taken (`xo`) if the replica's version is
not current: a lease completed for the owner whose word the replica has not read."""

_WAIT: Final = (
    _TAKE
    + """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local waiting = redis.call('HMGET', KEYS[1], 'w', 'we')
if ARGV[2] == '0' then leave_queue(KEYS[1], ARGV[1]) end
if waiting[1] and waiting[1] ~= ARGV[1] and tonumber(waiting[2]) > ms then return 0 end
redis.call('HSET', KEYS[1], 'w', ARGV[1], 'we', ms + tonumber(ARGV[2]))
redis.call('HDEL', KEYS[1], 'wr')
local lease = redis.call('HMGET', KEYS[1], 'o', 'e')
if not lease[1] or tonumber(lease[2]) <= ms then return 2 end
local holder = string.match(lease[1], '^[^:]+')
if ARGV[2] ~= '0' and holder ~= string.match(ARGV[1], '^[^:]+') then
  redis.call('PUBLISH', ARGV[3] .. holder, '?')
end
return 1
"""
)
"""Keep an entity, once let go, for the owner ARGV[1] waiting for it, for ARGV[2] ms (0: it
waits no more), unless another owner waits for it already (0); 2 when it is free already
(let go since the owner was refused it), else 1, and its holder's replica is told it is
wanted on its channel (prefix ARGV[3]). What `_ACQUIRE` does for the first busy
entity of its keys, for a lease that could not (its busy entity in another slot of a Redis
Cluster than its first key's, or renewing what it holds). Without it, the calls of the
replica holding a hot entity would pass it from one to the next in the round that gives it
back (`fundwall.engine.pump`), and another replica's call, which asks again every few
milliseconds, would never find it free."""

_RELEASE: Final = (
    _TAKE
    + """
local owner, channels, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local answers = {}
local grants = {}
local ms
for k = 1, count do
  local key = KEYS[k]
  if redis.call('HGET', key, 'o') ~= owner then
    answers[k] = 0
  else
    local version, intent = ARGV[1 + 3 * k], ARGV[3 + 3 * k]
    if version ~= '' then redis.call('HSET', key, 'v', version, 's', ARGV[2 + 3 * k]) end
    if intent ~= '' then
      redis.call('HSET', key, 'x', intent)
      redis.call('HDEL', key, 'o', 'e', 'xo')
    else
      redis.call('HDEL', key, 'o', 'e', 'x', 'xo')
    end
    local waiting = redis.call('HMGET', key, 'w', 'we', 'wq')
    if waiting[1] or waiting[3] then
      if not ms then
        local now = redis.call('TIME')
        ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
      end
      local first = first_waiting(key, waiting[1], waiting[2], waiting[3], ms)
      if first then
        local kept = redis.call('HGET', key, 'wr')
        local rest = kept and cmsgpack.unpack(kept)
        if rest and rest[1] == first then
          table.insert(grants, rest)
        else
          redis.call('PUBLISH', channels .. string.match(first, '^[^:]+'), key)
        end
      end
    end
    answers[k] = 1
  end
end
if #KEYS > count then
  local at, clock = 4 + 3 * count, KEYS[count + 1]
  local now = redis.call('GET', clock)
  if not now or tonumber(string.match(now, '^[^|]+')) < tonumber(ARGV[at]) then
    redis.call('SET', clock, ARGV[at] .. '|' .. ARGV[at + 1])
  end
end
local function field(value)
  value = value or ''
  return #value .. ':' .. value
end
for _, rest in ipairs(grants) do
  local waiter, keys = rest[1], rest[7]
  local taken = take(waiter, tonumber(rest[2]), tonumber(rest[3]), rest[4], ms, keys, rest[8],
    rest[9], {rest[5], rest[6]})
  local told = {'g', field(waiter), field(redis.call('GET', rest[5]) or ''),
    field(redis.call('GET', rest[6]) or '')}
  for k, answer in ipairs(taken) do
    local status, version, state, orphan = answer, '', '', ''
    if type(answer) == 'table' then
      status, version, state, orphan = answer[1], answer[2], answer[3], answer[4]
    elseif answer == 1 then
      status = 'b'
    end
    table.insert(told, field(keys[k]) .. field(tostring(status)) .. field(version)
      .. field(state) .. field(orphan))
  end
  redis.call('PUBLISH', rest[4] .. string.match(waiter, '^[^:]+'), table.concat(told))
end
return answers
"""
)
"""Give leases back: KEYS the entities' hashes (ARGV[3] of them), then the engine's clock
when it moves; ARGV owner, the prefix of the replicas' channels, the count of entities, then
for each its new version ('' keeps the state), bytes and the intent left behind ('' none),
then the clock (µs, ISO time: moved forward, never back). One answer per entity: 0 when its
lease is no longer the owner's, else 1. A call waiting for an entity let go: when it kept
the rest of its lease (`_TAKE`), the lease is completed for it, from that entity on (up to
the next busy one, which it then waits for), and its replica told the answers (`GRANTED`)
with the epoch and the clock as read after the clock moved; else its replica is told the
entity's key, to ask again."""

_LEAD: Final = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
"""Take or renew a lease that one replica at a time holds (ARGV: replica, ms)."""
_SCRIPTS: Final = (_ACQUIRE, _WAIT, _RELEASE, _LEAD)
_SHA: Final = {script: hashlib.sha1(script.encode()).hexdigest() for script in _SCRIPTS}
"""Each script's hash, by which Redis runs it (EVALSHA)."""


@dataclass(eq=False)
class SharedStateUnavailable(FundwallError):
    """The replicas' shared state cannot be used now; nothing was decided, try again."""

    reason: str

    kind = "service-unavailable"

    def message(self) -> str:
        return f"the engine's shared state is not available: {self.reason}"


class Busy(Exception):
    """Another decision holds one of the call's entities: try again in a moment. `local`:
    a call of this very replica holds it (its end can be awaited, not polled); `held`: the
    entities the call keeps meanwhile (to continue from, or to give back)."""

    def __init__(
        self, *, local: bool = False, held: Lease | None = None, entity: Entity | None = None
    ) -> None:
        super().__init__()
        self.local = local
        self.held = held
        self.entity = entity
        """The busy entity, when `local`."""


@dataclass(slots=True, weakref_slot=True)
class Lease:
    """The entities a call holds: their versions as leased, the intents found orphaned (the
    transaction ids of each), and the engine's clock as read."""

    owner: str
    entities: list[Entity]
    orphans: dict[Entity, list[str]] = field(default_factory=dict)
    clock: tuple[int, datetime] | None = None
    core: DecisionCore | None = None
    """The core that decides with the entities (the replica may start a new one meanwhile)."""
    settled: bool = False
    """Given back (with or without new state): nothing more to do."""
    changed: bool = False
    """Another replica had changed one of the entities since this replica last held it."""
    awaited: Entity | None = None
    """The busy entity kept for this lease once let go (`_WAIT`), while it waits for it."""
    blocked: Entity | None = None
    """The first entity another call held at the last ask: the next ask asks for it alone."""
    renewed_at: float = field(default_factory=time.monotonic)
    """When the held entities' leases were last renewed (monotonic seconds)."""
    completing: bool = False
    """The busy entity kept for this lease keeps the rest of it: the release that lets it
    go completes the lease (`_RELEASE`), and this replica is told the answers."""
    granted: Granted | None = None
    """The lease completed for it, as told, for its next ask to take without Redis."""
    ended: bool = False
    """Given back (`SharedState.release`): a completion told from now on is given back."""


@dataclass(frozen=True, slots=True)
class Granted:
    """A lease completed for a waiting call by the release that let its entity go
    (`GRANTED`): the entities answered, in order, and the answers as a lease's round gives
    them (the script's answers, the epoch, the clock)."""

    entities: list[Entity]
    answers: list[Any]
    epoch: bytes | None
    clock: bytes | None


@dataclass(eq=False, slots=True)
class Asking:
    """A lease on its way (`SharedState.ask`): the lease it goes on from, the entities it asks
    for besides, and the pump's work that carries it."""

    lease: Lease
    todo: list[Entity]
    """The entities asked for, in order."""
    rest: int
    """How many of the call's entities were neither held nor asked for."""
    renewed: int
    """How many held entities' leases the ask renews (all or none), before `todo`'s."""
    ids: list[str]
    """The call's ids."""
    work: Work
    groups: list[list[int]]
    """The entities (renewed, then `todo`) each script of the ask leases, by position."""
    core: DecisionCore | None = None
    """The core the replica's copies of the entities were in when it asked."""
    completing: bool = False
    """The busy entity, kept for the call, keeps the rest of its lease (`Lease.completing`)."""

    def answers(self) -> list[Any]:
        """The lease's answer for each entity, renewed then `todo` (None: not asked, being
        after a busy one in its script), once its round is answered."""
        *scripts, _, _ = self.work.wait()  # the epoch, the clock
        return _by_entity(self.groups, scripts, self.renewed + len(self.todo))


class SharedState:
    """The replicas' state in Redis at `url`, under the key prefix `namespace`; `gather_s`:
    how long a lease waits for the leases of the replica's other calls under way
    (`Pump.submit`, `[replicas] gather_ms`)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "fundwall",
        lease_ms: int = 10_000,
        wait_s: float = 5.0,
        cluster: bool = False,
        gather_s: float = 0.0,
    ) -> None:
        import redis  # only a replica pays for importing the client (0.2 s)

        self.url = url
        self._failure = (redis.RedisError, redis.exceptions.RedisClusterException)
        """What Redis not answering raises (a cluster's client has errors of its own)."""
        self.redis: redis.Redis | redis.RedisCluster = self._client(url, cluster)
        self.namespace = namespace
        self.lease_ms = lease_ms
        self.wait_s = wait_s
        self._no_script = redis.exceptions.NoScriptError
        self._cluster = cluster
        """Whether a script's keys must share a slot: one script per entity then, as each
        entity has a hash tag of its own (`_groups`)."""
        self.replica = secrets.token_hex(6)
        self._calls = itertools.count()
        self._writes = itertools.count()
        self._freed_to = f"{namespace}:freed:"
        """The prefix of the replicas' channels: a replica hears on `<prefix><replica>` of the
        entities let go that its calls wait for (`_RELEASE`), and that another replica wants
        one it holds (`WANTED`)."""
        self._freed: Callable[[Entity], None] | None = None
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self.epoch: bytes | None = None
        """The epoch of the state this replica's entities were read under."""
        self.versions: dict[Entity, bytes] = {}
        self._leases: weakref.WeakValueDictionary[str, Lease] = weakref.WeakValueDictionary()
        """The calls' leases, by owner, while their calls keep them."""
        self._completing: dict[str, Lease] = {}
        """The waiting calls whose leases a release may complete, by owner."""
        self._unclaimed: dict[str, tuple[float, Granted]] = {}
        """Leases completed for an owner not waiting for them (yet: told before its round's
        answer was read; or no more: it asked again, or gave up), with when they were told."""
        self._completions = threading.Lock()
        """The version of each entity the replica's core holds as in Redis."""
        reads = [("get", (self._global("epoch"),)), ("get", (self._global("clock"),))]
        self.pump = Pump(self._send, reads, gather_s)
        """Sends the calls' leases and releases, one pipeline per round."""

    def _client(self, url: str, cluster: bool) -> redis.Redis | redis.RedisCluster:
        """A client of the Redis at `url`, or of the Redis Cluster `url` is a node of: it
        reads the cluster's slots from that node at once, and sends each pipeline's commands
        to the nodes holding their keys (one round trip per node, in parallel, each node's
        commands in the order sent: an entity's hand-over within a round holds, its keys being
        on one node)."""
        import redis

        timeouts: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 2}
        if not cluster:
            return redis.Redis.from_url(url, **timeouts)
        try:
            return redis.RedisCluster.from_url(url, **timeouts)
        except self._failure as error:
            raise SharedStateUnavailable(
                f"Redis Cluster at {self._shown()}: {error or type(error).__name__}"
            ) from None

    def _version(self) -> bytes:
        """A version no other write of any replica has: this replica's id and a count."""
        return f"{self.replica}.{next(self._writes)}".encode()

    def _key(self, entity: Entity) -> str:
        kind, name = entity
        return f"{self.namespace}:{{{kind}:{name}}}"

    def _global(self, name: str) -> str:
        return f"{self.namespace}:{{engine}}:{name}"

    def _send(self, commands: Sequence[Command]) -> list[Any]:
        """The answers of `commands`, sent as one pipeline. The scripts are called by their
        hash; those Redis did not know (it restarted, or its scripts were flushed, perhaps half
        way through the pipeline) are loaded and only the commands refused for it are sent
        again: a command that ran is never run twice."""
        answers: list[Any] = [None] * len(commands)
        pending = list(range(len(commands)))
        for attempt in range(2):
            pipe = self.redis.pipeline(transaction=False)
            for k in pending:
                name, args = commands[k]
                getattr(pipe, name)(*args)
            try:
                results = pipe.execute(raise_on_error=False)
                missing = []
                for k, result in zip(pending, results, strict=True):
                    if isinstance(result, self._no_script):
                        missing.append(k)
                    elif isinstance(result, Exception):
                        raise result
                    else:
                        answers[k] = result
                if not missing:
                    return answers
                if attempt == 0:
                    for script in _SCRIPTS:
                        self.redis.script_load(script)
            except self._failure as error:
                raise SharedStateUnavailable(f"Redis at {self._shown()}: {error}") from None
            pending = missing
        raise SharedStateUnavailable(f"Redis at {self._shown()} does not keep its scripts")

    def _shown(self) -> str:
        return self.url.rsplit("@", 1)[-1]

    def _groups(self, keys: Sequence[str]) -> list[list[int]]:
        """The positions of `keys` that one script may take together, in order: all of them
        on a single Redis; on a Redis Cluster those of one slot (a script's keys must share
        one), which in practice is one entity a script."""
        if not self._cluster:
            return [list(range(len(keys)))] if keys else []
        from redis.crc import key_slot

        slots: dict[int, list[int]] = {}
        for k, key in enumerate(keys):
            slots.setdefault(key_slot(key.encode()), []).append(k)
        return list(slots.values())

    def ask(
        self,
        intents: Mapping[Entity, Sequence[str]],
        ids: Iterable[str],
        held: Lease | None = None,
        *,
        awaited: bool = False,
    ) -> Asking:
        """Queue the lease of the entities of `intents` (each with the ids of the call's
        transactions that touch it) for the call of `ids`, in `sorted` order (every replica
        takes entities in the same order, so two calls never wait for each other), going on
        from `held` (what an earlier try of the same call kept), with the pump's next round;
        `taken` reads the answers. `awaited`: as `Pump.submit`.

        One script leases the entities in order up to the first busy one and takes nothing
        after it, keeping that one for the call once let go; so a call that found an entity
        busy asks again for all it lacks and holds, each time, the entities before the first
        one still busy; on a single Redis the call then waits to be told the rest of its
        lease, which the release that lets the busy entity go completes for it (`_RELEASE`),
        and its next ask takes it without Redis. On a Redis Cluster, where each entity has a
        script of its own and every script runs, a call that found an entity busy asks for
        that one alone until it holds it, then for the rest: asking for all of them each
        time would take, for a moment, the entities after the busy one (given back in the
        next round), and two large
        batches doing so would keep finding each other's moments (it once kept two replicas'
        batches of a thousand waiting for seconds). The leases held are renewed when a third
        of their time has gone, not at every try: a batch waiting for one account does not
        send a thousand renewals every few milliseconds."""
        if held is None:
            lease = Lease(f"{self.replica}:{next(self._calls)}", [])
            self._leases[lease.owner] = lease
        else:
            lease = held
        holding = set(lease.entities)
        wanted = [entity for entity in sorted(intents) if entity not in holding]
        with self._completions:
            granted, lease.granted = lease.granted, None
            if granted is None and lease.completing:
                # Not told in time: asked again, the lease script tells what is held for it.
                self._completing.pop(lease.owner, None)
            lease.completing = False
        if granted is not None and granted.entities == wanted[: len(granted.entities)]:
            answers = [granted.answers, granted.epoch, granted.clock]
            work = self.pump.answered(answers, awaited=awaited)
            groups = [list(range(len(wanted)))]
            return Asking(lease, wanted, 0, 0, list(ids), work, groups, completing=True)
        blocked = lease.blocked
        todo = [blocked] if self._cluster and blocked is not None and blocked in wanted else wanted
        now = time.monotonic()
        renew = lease.entities if now - lease.renewed_at > self.lease_ms / 3_000 else []
        if renew:
            lease.renewed_at = now
        asked = [*renew, *todo]
        keys = [self._key(entity) for entity in asked]
        groups = self._groups(keys)
        # On a single Redis, the busy entity kept for the call keeps the rest of its lease too.
        completing = not self._cluster and not renew and len(asked) <= GRANTED_MOST
        reads = (self._global("epoch"), self._global("clock")) if completing else ("", "")
        commands = _Commands()
        for number, group in enumerate(groups):
            # The first busy entity is kept for the call by the script that finds it when it
            # is the first busy one of the call (the first script's), else by `_WAIT`; a
            # renewal that failed starts the call anew, under another owner.
            keep = WAIT_MS if number == 0 and not renew else 0
            args: list[Any] = [lease.owner, self.lease_ms, keep, self._freed_to, *reads]
            for k in group:
                entity = asked[k]
                args += (self.versions.get(entity, b""), ",".join(intents.get(entity, ())))
            commands.evalsha(_SHA[_ACQUIRE], len(group), *(keys[k] for k in group), *args)
        # Other calls under way (their leases alive): this one waits a moment for company.
        work = self.pump.submit(commands, reads=True, awaited=awaited, gather=len(self._leases) > 1)
        rest = len(wanted) - len(todo)
        return Asking(lease, todo, rest, len(renew), list(ids), work, groups, completing=completing)

    def taken(self, asking: Asking) -> tuple[Lease, list[Any], bool]:
        """What the lease `asking` queued took (its round answered): the lease; the bytes of
        each entity newly held whose version changed (None: no history; absent: the replica's
        own copy is current); whether every entity is held. When another call holds one, the
        entities before it are kept and none after it, so a large batch is not starved by
        small calls. `StateMissing` or `EpochChanged` (nothing is held then, what the lease
        held before included); `SharedStateUnavailable` when Redis did not answer."""
        lease, todo = asking.lease, asking.todo
        answers = asking.answers()
        epoch, clock = asking.work.wait()[-2:]
        renewed, answers = answers[: asking.renewed], answers[asking.renewed :]
        if not all(_status(answer) == TAKEN for answer in renewed):
            # A lease ran out while the call waited (nothing decided yet): start again.
            self._give_back(lease.owner, todo, answers)
            self.release(lease, None, None)
            raise Busy
        if epoch is None or epoch != self.epoch:
            self._give_back(lease.owner, todo, answers)
            if lease.entities:
                self.release(lease, None, None)
            self.versions.clear()
            if epoch is None:
                raise StateMissing
            self.epoch = epoch
            raise EpochChanged
        busy = next(
            (k for k, answer in enumerate(answers) if _status(answer) != TAKEN),
            len(todo),
        )
        complete = busy == len(todo) and not asking.rest
        lease.blocked = todo[busy] if busy < len(todo) else None
        refusal = None if lease.blocked is None else _status(answers[busy])
        # Kept for this call once let go, by the lease itself or by `_WAIT` now; unless kept
        # for another call already.
        lease.awaited = lease.blocked if refusal in (REFUSED, KEPT_FOR_THIS) else None
        lease.completing = asking.completing and refusal == KEPT_FOR_THIS
        if lease.completing:
            self._await_completion(lease)
        awaited = [todo[busy]] if refusal == REFUSED else []
        self._give_back(lease.owner, todo[busy + 1 :], answers[busy + 1 :], awaited)
        loaded: list[Any] = []
        for entity, answer in zip(todo[:busy], answers[:busy], strict=True):
            lease.entities.append(entity)
            if answer == TAKEN:  # the replica's copy is current, no intent orphaned
                continue
            _, version, data, orphan = answer
            if orphan:
                lease.orphans[entity] = orphan.decode().split(",")
            if data or self.versions.get(entity, b"") != version:
                loaded.append((entity, data or None))
            self.versions[entity] = version
        if complete and clock is not None:
            us, iso = clock.decode().split("|", 1)
            lease.clock = int(us), datetime.fromisoformat(iso)
        return lease, loaded, complete

    def _await_completion(self, lease: Lease) -> None:
        """Wait for the lease's completion (`_RELEASE`): taken now if told already (before
        the round's answer was read) of the very entity the lease waits for."""
        with self._completions:
            told = self._unclaimed.pop(lease.owner, None)
            if told is not None and told[1].entities[0] == lease.blocked:
                lease.granted = told[1]
            else:
                self._completing[lease.owner] = lease

    def _completed(self, told: bytes, freed: Callable[[Entity], None]) -> None:
        """A lease completed for a waiting call of this replica (`GRANTED`, from the
        listener's thread): the call is woken to take it; kept apart when no call waits
        for it."""
        granted = self._parse_granted(told)
        owner = granted[0]
        with self._completions:
            lease = self._completing.pop(owner, None)
            if lease is None:
                self._unclaimed[owner] = (time.monotonic(), granted[1])
                return
        lease.granted = granted[1]
        if lease.awaited is not None:
            freed(lease.awaited)

    def _entity_of(self, key: bytes) -> Entity:
        """The entity of an entity's key (`_key`: `<ns>:{<kind>:<name>}`)."""
        kind, name = key.decode()[len(self.namespace) + 2 : -1].split(":", 1)
        return EntityKind(kind), name

    def _parse_granted(self, told: bytes) -> tuple[str, Granted]:
        values: list[bytes] = []
        at = len(GRANTED)
        while at < len(told):
            colon = told.index(b":", at)
            length = int(told[at:colon])
            values.append(told[colon + 1 : colon + 1 + length])
            at = colon + 1 + length
        owner, epoch, clock, rest = values[0].decode(), values[1], values[2], values[3:]
        entities: list[Entity] = []
        answers: list[Any] = []
        for k in range(0, len(rest), 5):
            key, status, version, data, orphan = rest[k : k + 5]
            entities.append(self._entity_of(key))
            if status == b"b":
                answers.append(TAKEN)
            elif status == b"1":
                answers.append([TAKEN, version, data, orphan])
            elif status == b"3":
                answers.append([KEPT_FOR_OTHER])
            else:
                answers.append(int(status))
        return owner, Granted(entities, answers, epoch or None, clock or None)

    def _give_back_unclaimed(self) -> None:
        """Settle the completions unclaimed for longer than `UNCLAIMED_S`: given back when
        their call's lease is gone; else forgotten (its call asked again meanwhile, and the
        lease script told it what it holds)."""
        now = time.monotonic()
        with self._completions:
            stale = [
                (owner, granted)
                for owner, (told_at, granted) in self._unclaimed.items()
                if now - told_at > UNCLAIMED_S
            ]
            for owner, _ in stale:
                del self._unclaimed[owner]
        for owner, granted in stale:
            lease = self._leases.get(owner)
            if lease is None or lease.ended:
                self._give_back(owner, granted.entities, granted.answers)

    def give_back(self, asking: Asking) -> None:
        """Give back what `asking` took (answered), its call gone before deciding; what the
        lease held before is the caller's to release."""
        self._give_back(asking.lease.owner, asking.todo, asking.answers()[asking.renewed :])

    def _give_back(
        self,
        owner: str,
        entities: Sequence[Entity],
        answers: Sequence[Any],
        awaited: Sequence[Entity] = (),
    ) -> None:
        """Release, with the pump's next round, the entities a failed lease took (`answers`:
        the lease's, one per entity, None where not asked), leaving the intents they had, and
        no longer keep for the call one it had kept for itself (the call starts anew under
        another owner, or is gone); and keep the entity the call waits for (`awaited`: the
        first busy one, none or one) for it once let go. Only that one: a call kept waiting
        for an entity holds those before it, never after it, so no two calls wait for each
        other. Nobody waits for this work: were it lost, the leases and marks would run out."""
        commands = _Commands()
        for entity in awaited:
            commands.evalsha(_SHA[_WAIT], 1, self._key(entity), owner, WAIT_MS, self._freed_to)
        for entity, answer in zip(entities, answers, strict=True):
            if _status(answer) == KEPT_FOR_THIS:
                commands.evalsha(_SHA[_WAIT], 1, self._key(entity), owner, 0, self._freed_to)
        freed = self._freed

        def marked(answers: list[Any]) -> None:
            if answers[0] == 2 and freed is not None:  # let go meanwhile
                freed(awaited[0])

        taken = [
            (entity, (b"", b"", b"" if answer == TAKEN else answer[3]))
            for entity, answer in zip(entities, answers, strict=True)
            if _status(answer) == TAKEN
        ]
        self._releases(commands, owner, taken, None)
        if commands:
            self.pump.submit(commands, finish=marked if awaited else None)

    def _releases(
        self,
        commands: _Commands,
        owner: str,
        entities: Sequence[tuple[Entity, tuple[bytes | str, bytes, bytes | str]]],
        clock: tuple[int, datetime] | None,
    ) -> list[list[int]]:
        """Add to `commands` the `_RELEASE` scripts giving back `entities` (each with its new
        version, '' to keep its state, its bytes and the intent left behind) and moving the
        engine's clock; which entities each script gives back, by position."""
        keys = [self._key(entity) for entity, _ in entities]
        if clock is not None:
            keys.append(self._global("clock"))
        groups = self._groups(keys)
        for group in groups:
            ours = [k for k in group if k < len(entities)]
            args: list[Any] = [owner, self._freed_to, len(ours)]
            for k in ours:
                args += entities[k][1]
            if len(ours) < len(group):
                assert clock is not None
                args += (clock[0], clock[1].isoformat())
            commands.evalsha(_SHA[_RELEASE], len(group), *(keys[k] for k in group), *args)
        return [[k for k in group if k < len(entities)] for group in groups]

    def listen(self, freed: Callable[[Entity], None]) -> None:
        """Call `freed`, from a thread of its own, with each entity let go that a call of this
        replica waits for (kept for it: `_ACQUIRE`, `_WAIT`): told, the call asks again at once
        instead of at its next try. Told that another replica wants an entity this one holds,
        the releases lingering in the pump go at once (`Pump.hurry`). Once; a Redis that does
        not answer is asked again every second (the calls' own tries go on meanwhile)."""
        if self._listener is not None:
            return
        self._freed = freed
        self._listener = threading.Thread(
            target=self._listen, name=f"fundwall-freed-{self.replica}", daemon=True
        )
        self._listener.start()

    def _listen(self) -> None:
        freed = self._freed
        assert freed is not None
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.redis.pubsub()
                pubsub.subscribe(f"{self._freed_to}{self.replica}")
                while not self._stop.is_set():
                    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    if self._unclaimed:
                        self._give_back_unclaimed()
                    if message is None:
                        continue
                    if message["data"] == WANTED:
                        self.pump.hurry()
                    elif message["data"].startswith(GRANTED):
                        self._completed(message["data"], freed)
                    else:
                        freed(self._entity_of(message["data"]))
            except self._failure:
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    pubsub.close()

    def release(
        self,
        lease: Lease,
        states: dict[Entity, bytes] | None,
        clock: tuple[int, datetime] | None,
        *,
        awaited: bool = False,
        linger: bool = False,
    ) -> Work:
        """Queue, for the pump's next round, each entity's new bytes under a new version and
        the lease's end, and the clock moved forward (one script on a single Redis). `states`
        None: nothing was decided (the state stays; orphaned intents stay for the next
        holder). The replica's versions are the new ones at once: a call of this replica
        leasing one of these entities in the same round or after it holds them as written.
        The work fails, once answered, with `SharedStateUnavailable` when the lease was lost
        meanwhile (the epoch is dropped: the replicas rebuild). A completion told for the
        lease and not taken (the call ends while it waits) is given back too. `awaited`,
        `linger`: as `Pump.submit`."""
        with self._completions:
            lease.ended = True
            self._completing.pop(lease.owner, None)
            granted, lease.granted = lease.granted, None
            told = self._unclaimed.pop(lease.owner, None)
        holding = set(lease.entities)  # given back below, with or without new state
        for completed in (granted, None if told is None else told[1]):
            if completed is not None:  # completed, but the call ends before taking it
                rest = [
                    (entity, answer)
                    for entity, answer in zip(completed.entities, completed.answers, strict=True)
                    if entity not in holding
                ]
                self._give_back(lease.owner, [e for e, _ in rest], [a for _, a in rest])
        commands = _Commands()
        if states is None:
            if lease.awaited is not None:  # the call gives up: nobody to keep it for
                commands.evalsha(
                    _SHA[_WAIT], 1, self._key(lease.awaited), lease.owner, 0, self._freed_to
                )
            left = [
                (entity, ("", b"", ",".join(lease.orphans.get(entity, ()))))
                for entity in lease.entities
            ]
            for entity in lease.entities:
                self.versions.pop(entity, None)
            self._releases(commands, lease.owner, left, None)
            return self.pump.submit(commands, awaited=awaited, linger=linger)
        written: list[tuple[Entity, tuple[bytes | str, bytes, bytes | str]]] = []
        for entity in lease.entities:
            version = self.versions[entity] = self._version()
            written.append((entity, (version, states[entity], "")))
        groups = self._releases(commands, lease.owner, written, clock)

        def kept(answers: list[Any]) -> None:
            if not all(_by_entity(groups, answers, len(written))):
                # Written after the lease ran out: the next holder may have read the old state.
                try:
                    self.redis.delete(self._global("epoch"))
                except self._failure as error:
                    raise SharedStateUnavailable(f"Redis at {self._shown()}: {error}") from None
                raise SharedStateUnavailable("a lease ran out before its decision was written")

        return self.pump.submit(commands, awaited=awaited, finish=kept, linger=linger)

    def leads_timers(self) -> bool:
        """Whether this replica holds the timers' lease (taken when free, renewed by its
        holder, `TIMERS_MS`); False when Redis does not answer (no timer runs then)."""
        try:
            held = self.redis.evalsha(
                _SHA[_LEAD], 1, self._global("timers"), self.replica, TIMERS_MS
            )
        except self._no_script:
            self.redis.script_load(_LEAD)
            return self.leads_timers()
        except self._failure:
            return False
        return bool(held)

    def has_epoch(self) -> bool:
        """Whether the shared state is complete (rebuilt and published)."""
        try:
            return bool(self.redis.exists(self._global("epoch")))
        except self._failure as error:
            raise SharedStateUnavailable(f"Redis at {self._shown()}: {error}") from None

    def claim_rebuild(self) -> bool:
        """Whether this replica is the one to rebuild the state (for `BUILD_MS` at most)."""
        try:
            return bool(self.redis.set(self._global("build"), self.replica, nx=True, px=BUILD_MS))
        except self._failure as error:
            raise SharedStateUnavailable(f"Redis at {self._shown()}: {error}") from None

    def publish(self, core: DecisionCore, entities: Iterable[Entity]) -> None:
        """Write the whole state of `core` (rebuilt from the log) as the shared state: every
        entity, the clock, then a new epoch, which lets the replicas decide again."""
        from fundwall.engine.features import entity_state

        try:
            self._drop_namespace()
            pipe = self.redis.pipeline(transaction=False)
            versions: dict[Entity, bytes] = {}
            for count, entity in enumerate(entities, start=1):
                data = entity_state.dump(core.features, core.controls, entity)
                version = versions[entity] = self._version()
                pipe.hset(self._key(entity), mapping={"v": version, "s": data})
                if count % PUBLISH_CHUNK == 0:
                    pipe.execute()
            if core.clock_us is not None and core.clock_ts is not None:
                pipe.set(self._global("clock"), f"{core.clock_us}|{core.clock_ts.isoformat()}")
            epoch = secrets.token_hex(8).encode()
            pipe.set(self._global("epoch"), epoch)
            pipe.delete(self._global("build"))
            pipe.execute()
        except self._failure as error:
            raise SharedStateUnavailable(f"Redis at {self._shown()}: {error}") from None
        self.epoch = epoch
        self.versions = versions

    def _drop_namespace(self) -> None:
        """Delete every key of the namespace but the rebuild's claim."""
        claim = self._global("build").encode()
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=f"{self.namespace}:*", count=1_000):
            if key != claim:
                batch.append(key)
            if len(batch) >= 1_000:
                self.redis.unlink(*batch)
                batch.clear()
        if batch:
            self.redis.unlink(*batch)

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=2)
        self.redis.close()


class _Commands(list[tuple[str, tuple[Any, ...]]]):
    """The commands of one pipeline as `SharedState._call` sends them: (method, arguments)."""

    def evalsha(self, *args: Any) -> None:
        self.append(("evalsha", args))

    def get(self, *args: Any) -> None:
        self.append(("get", args))


def _status(answer: Any) -> int | None:
    """What `_ACQUIRE` answered for an entity (`TAKEN`, `REFUSED`, …); None: not asked."""
    return answer if answer is None or isinstance(answer, int) else int(answer[0])


def _by_entity(groups: list[list[int]], answers: Sequence[Any], count: int) -> list[Any]:
    """Each of `count` entities' answer, from the answers of the scripts of `groups` (the
    positions of the entities each script was given; a script answers the first of them,
    up to a busy one): None for an entity its script did not reach."""
    found: list[Any] = [None] * count
    for group, answer in zip(groups, answers, strict=True):
        for k, value in zip(group, answer, strict=False):
            found[k] = value
    return found


class EpochChanged(Exception):
    """The shared state was rebuilt since this replica last read it: what the replica holds
    is stale (nothing is held: forget it all and lease again)."""


class StateMissing(Exception):
    """The shared state has no epoch: it is lost or being rebuilt (nothing is held)."""
