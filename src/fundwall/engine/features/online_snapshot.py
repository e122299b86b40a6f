"""The online feature state as the `features` part of a snapshot (`engine.snapshot_format`).

Each stream's tracks, the accounts (with their logins) and the devices' payers are written as
columns: per entity its fixed fields, and its variable-length lists (events, counterparts,
places an account paid from) end to end with a count per entity. Writing gathers them in
C-level passes (`map`, `chain`, `bytes.join`); reading cuts the columns back into the lists,
arrays and dicts the live state is made of, leaving one short Python loop per entity.

This module knows the insides of `OnlineFeatureState`, `Track`, `AccountState` and
`LoginHistory`; they know nothing of the format.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import numpy as np

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import STREAMS, WINDOWS, Signal
from fundwall.engine.features.logins import LoginHistory
from fundwall.engine.features.online_singles import AccountState
from fundwall.engine.features.tracks import DIST_AT, EXPIRY_AT, HEAD_SIZE, TAILS_AT, Track
from fundwall.engine.snapshot_format import (
    I64,
    PartReader,
    PartWriter,
    SnapshotReader,
    SnapshotWriter,
)

if TYPE_CHECKING:
    from fundwall.engine.features.online import OnlineFeatureState

PART: Final = "features"
VERSION: Final = 3
"""Version of the features part: 3 is the columnar layout (2 was marshal, with the logins)."""
_WINDOWS: Final = len(WINDOWS)
_SIGNALS: Final = len(Signal)
_ACCOUNT_INTS: Final = ("balance", "klass", "party", "birth", "phones")
_ACCOUNT_OPTIONAL: Final = ("last_ts", "device_since", "opened")
_TRACK_FIELDS: Final = ("ts", "cum", "base", "head", "flags", "latest", "stack")
_track_fields: Final = attrgetter(*_TRACK_FIELDS)
S = TypeVar("S", "list[Any]", "array[int]", bytearray)


def _runs(values: S, counts: Sequence[int] | I64, name: str) -> Iterator[S]:
    """`values` (a list, an array or a bytearray) cut into consecutive runs of `counts`, each
    of the type of `values`; `name` is the column's, for the error when they do not add up."""
    ends = np.cumsum(counts, dtype=np.int64)
    total = int(ends[-1]) if len(ends) else 0
    if total != len(values):
        raise ValueError(f"column {name} holds {len(values)} values, not {total}")
    starts = ends - counts
    return map(values.__getitem__, map(slice, starts.tolist(), ends.tolist()))


def _maps(
    keys: Sequence[Any], values: Sequence[Any], counts: Sequence[int], name: str
) -> Iterator[dict]:  # type: ignore[type-arg]
    """One dict per entity from its run of keys and values (`name`: of the keys' column)."""
    if len(keys) != len(values) or sum(counts) != len(keys):
        raise ValueError(f"column {name} does not hold its {sum(counts)} keys and values")
    return map(dict, map(islice, repeat(zip(keys, values, strict=True)), counts))


def _arrays(part: PartReader, name: str, counts: Sequence[int] | I64) -> Iterator[array[int]]:
    """The int column `name` cut into consecutive runs of `counts`, each an `array('q')`."""
    whole = array("q")
    whole.frombytes(part.ints(name).data.cast("B"))
    return _runs(whole, counts, name)


def _ints(part: PartReader, name: str) -> list[int]:
    return cast(list[int], part.ints(name).tolist())


def _texts(part: PartReader, name: str) -> list[str]:
    """A column of strings none of which is None."""
    return cast(list[str], part.strings(name))


# Writing


def write(state: OnlineFeatureState, writer: SnapshotWriter) -> None:
    """Add `state` to `writer` as its features part. Logins past the horizon are folded
    first (the state changes as it would at its next read), so equal states give equal
    snapshots."""
    horizon = state.login_horizon()
    if horizon is not None:
        for account in state._accounts.values():
            if account.logins is not None:
                state.logins_dropped += account.logins.prune(horizon, account)
    part = writer.part(
        PART,
        VERSION,
        clock=state.clock,
        applied=state.applied,
        logins=state.logins,
        logins_dropped=state.logins_dropped,
    )
    part.meta["streams"] = [
        _write_tracks(part, f"s{stream}.", tracks) for stream, tracks in enumerate(state._tracks)
    ]
    _write_accounts(part, state._accounts)
    devices = state._device_payers
    part.strings("devices", list(devices))
    part.ints("device_payers", map(len, devices.values()))
    part.strings("device_payer", list(chain.from_iterable(devices.values())))


def _write_tracks(part: PartWriter, at: str, tracks: dict[Any, Track]) -> dict[str, bool]:
    """The stream's tracks as columns `at`*; the stream's layout, for the header."""
    keys = list(tracks)
    values = list(tracks.values())
    layout = {
        "text_keys": not keys or isinstance(keys[0], str),
        "distinct": bool(values) and values[0].flags is not None,
        "maximum": bool(values) and values[0].stack is not None,
    }
    if layout["text_keys"]:
        part.strings(at + "keys", keys)
    else:
        part.ints(at + "keys", keys)
    # One pass over the tracks, each read once: in a state folded over time they lie all over
    # the heap, and each pass costs a cache miss a track. The columns are then gathered in C
    # from the compact tuples of that pass; the arrays (times, running totals, window positions
    # and counts, the maxima's stack) are copied whole, with no Python number to read.
    fields = list(zip(*map(_track_fields, values), strict=True)) or [()] * len(_TRACK_FIELDS)
    times, cums, base, head, flags, latest, stacks = fields
    n = len(values)
    if flags.count(None) != (0 if layout["distinct"] else n) or stacks.count(None) != (
        0 if layout["maximum"] else n
    ):
        raise ValueError(f"the tracks of stream {at} are not all of one layout")
    part.ints(at + "events", map(len, times))
    part.ints(at + "ts", np.frombuffer(b"".join(times), np.int64))
    part.ints(at + "cum", np.frombuffer(b"".join(cums), np.int64))
    part.ints(at + "base", base)
    heads = np.frombuffer(b"".join(head), np.int64).reshape(n, HEAD_SIZE)
    part.ints(at + "expiry", heads[:, EXPIRY_AT])
    part.ints(at + "tails", heads[:, TAILS_AT:DIST_AT].ravel())
    part.ints(at + "dist", heads[:, DIST_AT:].ravel())
    if layout["distinct"]:
        part.bytes(at + "flags", b"".join(flags))
    part.ints(at + "latest", map(len, latest))
    part.strings(at + "latest_party", list(chain.from_iterable(latest)))
    part.ints(at + "latest_at", chain.from_iterable(map(dict.values, latest)))
    if layout["maximum"]:
        part.ints(at + "stack", map(len, stacks))
        part.ints(at + "stack_at", np.frombuffer(b"".join(stacks), np.int64))
    return layout


def _write_accounts(part: PartWriter, accounts: dict[str, AccountState]) -> None:
    values = list(accounts.values())
    part.strings("accounts", list(accounts))
    for field in _ACCOUNT_INTS:
        part.ints(f"account_{field}", map(attrgetter(field), values))
    for field in _ACCOUNT_OPTIONAL:
        part.optional_ints(f"account_{field}", list(map(attrgetter(field), values)))
    seen = list(map(attrgetter("seen"), values))
    part.ints("seen", map(len, seen))
    part.strings("seen_key", list(chain.from_iterable(seen)))
    part.optional_ints("seen_at", list(chain.from_iterable(map(dict.values, seen))))
    owners = [row for row, account in enumerate(values) if account.logins is not None]
    histories = [cast(LoginHistory, values[row].logins) for row in owners]
    part.ints("login_owner", owners)
    part.ints("login", map(len, map(attrgetter("ts"), histories)))
    part.ints("login_ts", chain.from_iterable(map(attrgetter("ts"), histories)))
    part.strings("login_id", list(chain.from_iterable(map(attrgetter("ids"), histories))))
    part.strings("login_device", list(chain.from_iterable(map(attrgetter("devices"), histories))))
    part.bytes("login_bad", b"".join(map(attrgetter("bad"), histories)))
    firsts = list(map(attrgetter("first"), histories))
    part.ints("login_first", map(len, firsts))
    part.strings("login_first_device", list(chain.from_iterable(firsts)))
    part.ints("login_first_at", chain.from_iterable(map(dict.values, firsts)))
    part.optional_ints("login_since", list(map(attrgetter("since"), histories)))
    part.ints("login_older", chain.from_iterable(map(attrgetter("older"), histories)))


# Reading


def read(reader: SnapshotReader, state: OnlineFeatureState) -> None:
    """Fill the new, empty `state` (over the directory the snapshot was taken over: person
    tracks are keyed by its party codes) from the features part of `reader`."""
    part = reader.part(PART, VERSION)
    meta = part.meta
    layouts = meta["streams"]
    if len(layouts) != len(STREAMS):
        raise InvalidInput(
            f"feature state snapshot of {len(layouts)} streams; the catalogue has {len(STREAMS)}",
            "snapshot",
        )
    state.clock = meta["clock"]
    state.applied = meta["applied"]
    state.logins, state.logins_dropped = meta["logins"], meta["logins_dropped"]
    for stream, (tracks, layout) in enumerate(zip(state._tracks, layouts, strict=True)):
        _read_tracks(part, f"s{stream}.", layout, tracks)
    state._accounts = _read_accounts(part)
    payers = _runs(_texts(part, "device_payer"), part.ints("device_payers"), "device_payer")
    devices = _texts(part, "devices")
    state._device_payers = dict(zip(devices, map(dict.fromkeys, payers), strict=True))


def _read_tracks(
    part: PartReader, at: str, layout: dict[str, bool], tracks: dict[Any, Track]
) -> None:
    keys: list[Any] = _texts(part, at + "keys") if layout["text_keys"] else _ints(part, at + "keys")
    n = len(keys)
    events = part.ints(at + "events")
    times = _arrays(part, at + "ts", events)
    cums = _arrays(part, at + "cum", events + 1)
    flags: Iterable[bytearray | None] = [None] * n
    if layout["distinct"]:
        flags = _runs(bytearray(part.bytes(at + "flags")), events, at + "flags")
    latest = _maps(
        _texts(part, at + "latest_party"),
        _ints(part, at + "latest_at"),
        _ints(part, at + "latest"),
        at + "latest_party",
    )
    stacks: Iterable[array[int] | None] = [None] * n
    if layout["maximum"]:
        stacks = _arrays(part, at + "stack_at", part.ints(at + "stack"))
    columns = zip(
        keys,
        times,
        cums,
        _ints(part, at + "base"),
        _heads(part, at, n),
        flags,
        latest,
        stacks,
        strict=True,
    )
    new = Track.__new__
    for key, ts, cum, base, head, flag, last, stack in columns:
        track = new(Track)
        track.ts, track.cum, track.base, track.head = ts, cum, base, head
        track.flags, track.latest, track.stack = flag, last, stack
        tracks[key] = track


def _heads(part: PartReader, at: str, n: int) -> Iterator[array[int]]:
    """The `n` tracks' heads (`Track.head`) from their expiry, tails and distinct counts."""
    heads = np.empty((n, HEAD_SIZE), dtype=np.int64)
    heads[:, EXPIRY_AT] = part.ints(at + "expiry")
    heads[:, TAILS_AT:DIST_AT] = part.ints(at + "tails").reshape(n, _WINDOWS)
    heads[:, DIST_AT:] = part.ints(at + "dist").reshape(n, _WINDOWS)
    whole = array("q")
    whole.frombytes(heads.tobytes())
    ends = range(HEAD_SIZE, (n + 1) * HEAD_SIZE, HEAD_SIZE)
    return map(whole.__getitem__, map(slice, range(0, n * HEAD_SIZE, HEAD_SIZE), ends))


def _read_accounts(part: PartReader) -> dict[str, AccountState]:
    names = _texts(part, "accounts")
    histories: list[LoginHistory | None] = [None] * len(names)
    for row, history in zip(_ints(part, "login_owner"), _read_logins(part), strict=True):
        histories[row] = history
    columns = zip(
        names,
        *(_ints(part, f"account_{field}") for field in _ACCOUNT_INTS),
        *(part.optional_ints(f"account_{field}") for field in _ACCOUNT_OPTIONAL),
        _maps(
            _texts(part, "seen_key"), part.optional_ints("seen_at"), _ints(part, "seen"), "seen_key"
        ),
        histories,
        strict=True,
    )
    new = AccountState.__new__
    accounts = {}
    for name, balance, klass, party, birth, phones, last_ts, since, opened, seen, logins in columns:
        account = new(AccountState)
        account.balance, account.klass, account.party = balance, klass, party
        account.birth, account.phones, account.opened = birth, phones, opened
        account.last_ts, account.device_since, account.seen = last_ts, since, seen
        account.logins = logins
        accounts[name] = account
    return accounts


def _read_logins(part: PartReader) -> Iterator[LoginHistory]:
    counts = part.ints("login")
    older = part.ints("login_older")
    columns = zip(
        _runs(_ints(part, "login_ts"), counts, "login_ts"),
        _runs(_texts(part, "login_id"), counts, "login_id"),
        _runs(part.strings("login_device"), counts, "login_device"),
        _runs(bytearray(part.bytes("login_bad")), counts, "login_bad"),
        _maps(
            _texts(part, "login_first_device"),
            _ints(part, "login_first_at"),
            _ints(part, "login_first"),
            "login_first_device",
        ),
        part.optional_ints("login_since"),
        older.reshape(len(counts), _SIGNALS).tolist(),
        strict=True,
    )
    new = LoginHistory.__new__
    for ts, ids, devices, bad, first, since, old in columns:
        history = new(LoginHistory)
        history.ts, history.ids, history.devices, history.bad = ts, ids, devices, bad
        history.first, history.since, history.older = first, since, old
        yield history
