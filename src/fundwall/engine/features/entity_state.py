"""One entity's part of the online state as bytes: what engine replicas share through Redis
(`fundwall.engine.shared`).

The state of a transaction's decision is the state of its entities: the payer's and the
payee's accounts (their tracks in the account streams, what the features know of the account,
its logins, its ledger entry), its device (track and payers), its IP and the payer's holder
(tracks). A transaction reads and changes only those, so a replica that holds the current
bytes of each decides it exactly as one process holding everything would.

The bytes are `marshal` of plain tuples (ints, bytes, strings, lists, dicts): a few
microseconds each way, no code. marshal is not meant for bytes an attacker made; these come
from the replicas' own Redis, which must be as private as the database (whoever can write it
can already set any balance).
"""

from __future__ import annotations

import marshal
from array import array
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls.model import BALANCE
from fundwall.engine.features.catalog import Role, Stream
from fundwall.engine.features.logins import LoginHistory
from fundwall.engine.features.tracks import DIST_AT, EXPIRY_AT, TAILS_AT, Track

if TYPE_CHECKING:
    from fundwall.engine.controls.online import OnlineControls
    from fundwall.engine.features.online import OnlineFeatureState

FORMAT: Final = 1
"""Of the bytes; a replica refuses another (the state is then rebuilt from the log)."""


class EntityKind(StrEnum):
    """What an entity is; the prefix of its key."""

    ACCOUNT = "a"
    DEVICE = "d"
    IP = "i"
    PERSON = "h"


_STREAMS: Final = {
    EntityKind.ACCOUNT: (Stream.ACCOUNT_OUT, Stream.ACCOUNT_IN),
    EntityKind.DEVICE: (Stream.DEVICE,),
    EntityKind.IP: (Stream.IP,),
    EntityKind.PERSON: (Stream.PERSON_OUT,),
}
"""The streams whose tracks an entity owns."""
_KIND_OF_ROLE: Final = (
    EntityKind.ACCOUNT,
    EntityKind.ACCOUNT,
    EntityKind.DEVICE,
    EntityKind.IP,
    EntityKind.PERSON,
)
"""The kind of entity each `Role` names, in `Role` order."""
assert len(_KIND_OF_ROLE) == len(Role)

Entity = tuple[EntityKind, str]
"""An entity as replicas name it: a person by its party id (the code is per process)."""


def entities_of(state: OnlineFeatureState, keys: tuple[str | int | None, ...]) -> list[Entity]:
    """The entities of a transaction, given its stream keys (`online._stream_keys`)."""
    found: list[Entity] = []
    for role, key in enumerate(keys):
        if key is None:
            continue
        kind = _KIND_OF_ROLE[role]
        name = state.directory.party_id(int(key)) if kind is EntityKind.PERSON else key
        entity = (kind, str(name))
        if entity not in found:
            found.append(entity)
    return found


def _local(state: OnlineFeatureState, entity: Entity) -> str | int:
    kind, name = entity
    return state.directory.party_code(name) if kind is EntityKind.PERSON else name


def dump(state: OnlineFeatureState, controls: OnlineControls, entity: Entity) -> bytes:
    """The entity's part of `state` and of the controls' ledger."""
    kind, _ = entity
    key = _local(state, entity)
    tracks = [_track_value(state._tracks[stream].get(key)) for stream in _STREAMS[kind]]
    extra: Any = None
    if kind is EntityKind.ACCOUNT:
        assert isinstance(key, str)
        account = state._accounts.get(key)
        extra = (
            None
            if account is None
            else (
                account.balance,
                account.last_ts,
                account.seen,
                account.device_since,
                _logins_value(account.logins),
            ),
            controls.ledger_entry(key),
            state.directory.facts(key) is not None,
        )
    elif kind is EntityKind.DEVICE:
        assert isinstance(key, str)
        payers = state._device_payers.get(key)
        extra = None if payers is None else list(payers)
    return marshal.dumps((FORMAT, tracks, extra))


def load(
    state: OnlineFeatureState, controls: OnlineControls, entity: Entity, data: bytes | None
) -> None:
    """Replace the entity's part of `state` and of the ledger with `data` (None: the entity
    has no history yet). An `InvalidInput` when `data` is not of this format."""
    kind, _ = entity
    key = _local(state, entity)
    if data is None:
        tracks: list[Any] = [None] * len(_STREAMS[kind])
        extra: Any = None
    else:
        try:
            version, tracks, extra = marshal.loads(data)
        except (EOFError, ValueError, TypeError) as error:
            raise InvalidInput(f"entity state does not read: {error}", "state") from None
        if version != FORMAT:
            raise InvalidInput(f"entity state of format {version}, not {FORMAT}", "state")
    for stream, value in zip(_STREAMS[kind], tracks, strict=True):
        if value is None:
            state._tracks[stream].pop(key, None)
        else:
            state._tracks[stream][key] = _track_of(value)
    if kind is EntityKind.ACCOUNT:
        assert isinstance(key, str)
        _load_account(state, controls, key, extra)
    elif kind is EntityKind.DEVICE:
        assert isinstance(key, str)
        if extra is None:
            state._device_payers.pop(key, None)
        else:
            state._device_payers[key] = dict.fromkeys(extra)


def forget(state: OnlineFeatureState, controls: OnlineControls, entity: Entity) -> None:
    """Drop the entity from `state` and the ledger (its bytes are read again when needed)."""
    load(state, controls, entity, None)


def _load_account(
    state: OnlineFeatureState, controls: OnlineControls, key: str, extra: Any
) -> None:
    fields, ledger, known = extra if extra is not None else (None, None, True)
    facts = state.directory.facts(key)
    # Reported since the bytes were written: its opening balance joins what it settled, as
    # `OnlineFeatureState.refresh_account` and `OnlineControls.refresh_account` add it.
    opening = facts.opening_balance if facts is not None and not known else 0
    if fields is None:
        state._accounts.pop(key, None)
    else:
        account = state._account(key)
        assert account is not None
        balance, last_ts, seen, device_since, logins = fields
        account.balance, account.last_ts, account.seen = balance + opening, last_ts, seen
        account.device_since, account.logins = device_since, _logins_of(logins)
    if ledger is not None:
        ledger[BALANCE] += opening
    controls.set_ledger_entry(key, ledger)


def every_entity(state: OnlineFeatureState, controls: OnlineControls) -> list[Entity]:
    """Every entity `state` and the ledger hold something of."""
    found: dict[Entity, None] = {}
    for kind, streams in _STREAMS.items():
        for stream in streams:
            for key in state._tracks[stream]:
                name = state.directory.party_id(int(key)) if kind is EntityKind.PERSON else key
                found[kind, str(name)] = None
    found.update(((EntityKind.ACCOUNT, key), None) for key in state._accounts)
    found.update(((EntityKind.ACCOUNT, key), None) for key in controls.ledger_accounts())
    found.update(((EntityKind.DEVICE, key), None) for key in state._device_payers)
    return list(found)


def _track_value(track: Track | None) -> tuple[Any, ...] | None:
    if track is None:
        return None
    return (
        track.ts.tobytes(),
        track.cum.tobytes(),
        track.base,
        track.head[TAILS_AT:DIST_AT].tobytes(),
        track.head[EXPIRY_AT],
        None if track.flags is None else bytes(track.flags),
        track.latest,
        track.head[DIST_AT:].tobytes(),
        None if track.stack is None else track.stack.tobytes(),
    )


def _track_of(value: tuple[Any, ...]) -> Track:
    ts, cum, base, tails, expiry, flags, latest, dist, stack = value
    track = Track(flags is not None, stack is not None)
    track.ts = array("q", ts)
    track.cum = array("q", cum)
    track.base, track.latest = base, latest
    track.head = array("q", [expiry])
    track.head.frombytes(tails)
    track.head.frombytes(dist)
    if flags is not None:
        track.flags = bytearray(flags)
    if stack is not None:
        track.stack = array("q", stack)
    return track


def _logins_value(history: LoginHistory | None) -> tuple[Any, ...] | None:
    if history is None:
        return None
    return (
        history.ts,
        history.ids,
        history.devices,
        bytes(history.bad),
        history.first,
        history.since,
        history.older,
    )


def _logins_of(value: tuple[Any, ...] | None) -> LoginHistory | None:
    if value is None:
        return None
    history = LoginHistory()
    history.ts, history.ids, history.devices, bad, history.first, history.since, history.older = (
        value
    )
    history.bad = bytearray(bad)
    return history
