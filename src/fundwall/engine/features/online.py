"""The online form: per-entity state folded in one transaction at a time.

`OnlineFeatureState.compute(tx)` gives the feature vector of a transaction from history
strictly before it; `apply(tx)` folds the transaction in (alone, it warms the state up from a
log); `observe(tx)` does both. Transactions must arrive in time order (ties keep arrival
order, like file order in the columnar form). `observe_login(login)` folds a login event
(`logins.py`): logins are facts at their own times, read by the transactions at or after
them, and do not move the state's clock; one that arrives more than `LOGIN_HORIZON_US` before
the clock is refused.

Latency: what the state keeps per event is ints in arrays, lists and dicts of strings and
ints, none of which the garbage collector tracks, so the objects it must walk grow with the
entities, not with the events. After a warm-up or a restore, call `settle_gc()` so that a
collection never walks the state during a decision.

Texts: a key the state keeps for the first time (an account, a device, a counterpart of a
track, a payee, device or city an account has seen) is interned (`sys.intern`), so each
distinct text is one object however many places keep it, as a restored state's are. Folded
one transaction at a time, the small region's state otherwise held 1.6 million string
objects for 130,000 texts, scattered over the heap, and a snapshot spent a third of its time
reading them (docs/benchmarks.md, "The snapshot: one object a text").
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from sys import intern
from typing import Final, NamedTuple, overload

import numpy as np
import numpy.typing as npt

from fundwall.domain.errors import InvalidInput
from fundwall.engine.collector import collector_paused
from fundwall.engine.features import entity_state, online_snapshot
from fundwall.engine.features.catalog import (
    AGGREGATES,
    FACE_CHECKS,
    LOGIN_HORIZON_US,
    RATIOS,
    STREAMS,
    WINDOWS,
    Measure,
    Stream,
    feature_index,
    feature_names,
    stream_measures,
)
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.inputs import KINDS, LoginLike, TransactionLike, micros
from fundwall.engine.features.logins import (
    PAYEE_ABSENT,
    PAYEE_ROWS,
    PAYER_ABSENT,
    PAYER_ROWS,
    LoginHistory,
    is_bad_face,
)
from fundwall.engine.features.online_singles import AccountState, SingleValues
from fundwall.engine.features.scalar import ratio_of
from fundwall.engine.features.tracks import READERS, Track, kept
from fundwall.engine.features.tracks_bulk import aggregate_count, aggregates_of_batch, warm_up
from fundwall.engine.snapshot_format import SnapshotReader, SnapshotWriter, reading

Key = str | int
OLDEST_THRESHOLD: Final = 100
"""How many collections of the middle generation before the oldest is considered, once the
state is settled (`settle_gc`)."""
_PLAN: Final = tuple(
    (
        int(a.stream),
        int(a.key),
        tuple(READERS[m] for m in a.measures),
        [0] * (len(a.measures) * len(WINDOWS)),
    )
    for a in AGGREGATES
)
"""Per aggregate: stream, key role, a reader per measure, and the zeros of a new entity."""
_FOLD: Final = tuple(
    (
        int(s.owner),
        int(s.counterpart),
        Measure.DISTINCT in stream_measures(s.stream),
        Measure.MAX in stream_measures(s.stream),
    )
    for s in STREAMS
)
"""Per stream: owner role, counterpart role, and whether its tracks keep distinct counts and
maxima."""
_RATIOS: Final = tuple(
    (feature_index()[r.numerator], feature_index()[r.denominator]) for r in RATIOS
)
"""Per ratio: the positions of its numerator and denominator in the vector."""


class FeatureVector(Sequence[int | float]):
    """Feature values in `feature_names()` order; also readable by name (`vector["amount"]`)."""

    __slots__ = ("values",)

    def __init__(self, values: list[int | float]) -> None:
        self.values = values

    @overload
    def __getitem__(self, index: int) -> int | float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[int | float]: ...
    def __getitem__(self, index: int | slice) -> int | float | Sequence[int | float]:
        return self.values[index]

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[int | float]:
        return iter(self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureVector) and self.values == other.values

    __hash__ = None  # type: ignore[assignment]

    def get(self, name: str) -> int | float:
        """The value of one feature by name."""
        return self.values[feature_index()[name]]

    def as_dict(self) -> dict[str, int | float]:
        return dict(zip(feature_names(), self.values, strict=True))


class ObservedBatch(NamedTuple):
    """A batch's vectors, and its window aggregates as the matrix they were read into
    (`AGGREGATES_AT` is its first column's place in a vector)."""

    vectors: list[FeatureVector]
    aggregates: npt.NDArray[np.int64]


class OnlineFeatureState:
    """Feature state of every entity, updated per transaction (在线特征)."""

    def __init__(self, directory: AccountDirectory | None = None) -> None:
        self.directory = directory if directory is not None else AccountDirectory.empty()
        self.directory.prepare_lookups()
        self.clock: int | None = None
        self.applied = 0
        self._tracks: tuple[dict[Key, Track], ...] = tuple({} for _ in STREAMS)
        self._accounts: dict[str, AccountState] = {}
        self._device_payers: dict[str, dict[str, None]] = {}
        self._singles = SingleValues()
        self.logins = 0
        """Logins folded (a login sent twice counts once)."""
        self.logins_dropped = 0
        """Logins folded that were older than the horizon, and are only summed up now."""

    def _account(self, account_no: str | None) -> AccountState | None:
        if account_no is None:
            return None
        account = self._accounts.get(account_no)
        if account is None:
            account_no = intern(account_no)
            account = self._accounts[account_no] = AccountState(self.directory, account_no)
        return account

    def refresh_account(self, account_no: str) -> None:
        """Read an account's directory facts again after its member reported it (opened or
        changed); what its transactions built up here (history, balance moved) stays."""
        account = self._accounts.get(account_no)
        if account is None:
            return
        fresh = AccountState(self.directory, account_no)
        if account.opened is None:  # unknown until now: its opening balance was not counted
            account.balance += fresh.balance
        account.klass, account.opened, account.party = fresh.klass, fresh.opened, fresh.party
        account.birth, account.phones = fresh.birth, fresh.phones

    def _begin(self, tx: TransactionLike) -> tuple[int, AccountState | None, AccountState | None]:
        t = self.clock = _checked(tx, micros(tx.ts, tx.tx_id), self.clock)
        return t, self._account(tx.payer_account), self._account(tx.payee_account)

    def compute(self, tx: TransactionLike) -> FeatureVector:
        """Features of `tx` from the history before it; the state's history is unchanged."""
        t, payer, payee = self._begin(tx)
        return self._features(tx, t, payer, payee)

    def apply(self, tx: TransactionLike) -> None:
        """Fold `tx` into the state (also used alone to warm up from a log)."""
        t, payer, payee = self._begin(tx)
        self._fold(tx, t, payer, payee)

    def observe(self, tx: TransactionLike) -> FeatureVector:
        """`compute(tx)` then `apply(tx)`, sharing the look-ups."""
        t, payer, payee = self._begin(tx)
        vector = self._features(tx, t, payer, payee)
        self._fold(tx, t, payer, payee)
        return vector

    def observe_many(self, txs: Sequence[TransactionLike]) -> list[FeatureVector]:
        """`observe` of each of `txs` in turn: the same vectors, the same state after. The
        batch's window aggregates come from one compiled pass per stream over the tracks
        (`tracks_bulk`); the single values, the logins and the accounts' fold go one
        transaction after another. A transaction refused refuses the batch before anything
        is folded."""
        return self.observe_batch(txs).vectors

    def observe_batch(
        self, txs: Sequence[TransactionLike], times: Sequence[int] | None = None
    ) -> ObservedBatch:
        """`observe_many`, with the window aggregates also as the matrix they came as.
        `times`: the transactions' times in µs (`micros` of their `ts`) when the caller has
        them already."""
        if not txs:
            return ObservedBatch([], np.zeros((0, aggregate_count()), dtype=np.int64))
        given = map(_micros_of, txs) if times is None else times
        stamps = []
        clock = self.clock
        for tx, t in zip(txs, given, strict=True):
            clock = _checked(tx, t, clock)
            stamps.append(clock)
        self.clock = clock
        accounts = [
            (self._account(tx.payer_account), self._account(tx.payee_account)) for tx in txs
        ]
        rows = map(_stream_keys, txs, [payer for payer, _ in accounts])
        keys = tuple(map(list, zip(*rows, strict=True)))
        aggregates = aggregates_of_batch(self._tracks, keys, stamps, [tx.amount_fen for tx in txs])
        vectors = []
        singles = self._singles.values
        directory, device_payers = self.directory, self._device_payers
        for tx, t, (payer, payee), windows in zip(
            txs, stamps, accounts, aggregates.tolist(), strict=True
        ):
            out = singles(tx, t, payer, payee, directory, device_payers)
            out += windows
            vectors.append(self._finish(t, payer, payee, out))
            self._fold_account(tx, t, payer, payee)
        return ObservedBatch(vectors, aggregates)

    def _features(
        self, tx: TransactionLike, t: int, payer: AccountState | None, payee: AccountState | None
    ) -> FeatureVector:
        out = self._singles.values(tx, t, payer, payee, self.directory, self._device_payers)
        keys = _stream_keys(tx, payer)
        tracks = self._tracks
        for stream, role, readers, zeros in _PLAN:
            key = keys[role]
            track = tracks[stream].get(key) if key is not None else None
            if track is None:
                out += zeros
                continue
            track.advance(t)
            for reader in readers:
                out += reader(track)
        return self._finish(t, payer, payee, out)

    def _finish(
        self, t: int, payer: AccountState | None, payee: AccountState | None, out: list[int | float]
    ) -> FeatureVector:
        """The vector of `out` (the single values and window aggregates): the login features,
        then the ratios."""
        self._login_values(t, payer, PAYER_ROWS, PAYER_ABSENT, out)
        self._login_values(t, payee, PAYEE_ROWS, PAYEE_ABSENT, out)
        out += [ratio_of(out[numerator], out[denominator]) for numerator, denominator in _RATIOS]
        return FeatureVector(out)

    def _login_values(
        self,
        t: int,
        account: AccountState | None,
        rows: tuple[tuple[int, int, int], ...],
        absent: list[int],
        out: list[int | float],
    ) -> None:
        history = account.logins if account is not None else None
        if history is None:
            out += absent
            return
        assert account is not None
        ts = history.ts
        if ts and ts[0] < t - LOGIN_HORIZON_US:
            self.logins_dropped += history.prune(t - LOGIN_HORIZON_US, account)
        history.values(t, rows, account, out)

    def _fold(
        self, tx: TransactionLike, t: int, payer: AccountState | None, payee: AccountState | None
    ) -> None:
        amount = tx.amount_fen
        keys = _stream_keys(tx, payer)
        counterparts = (tx.payer_account, tx.payee_account)
        for (owner_role, counterpart_role, distinct, maximum), tracks in zip(
            _FOLD, self._tracks, strict=True
        ):
            owner = keys[owner_role]
            if owner is None:
                continue
            track = tracks.get(owner)
            if track is None:
                track = tracks[kept(owner)] = Track(distinct, maximum)
            track.advance(t)
            track.add(t, amount, counterparts[counterpart_role])
        self._fold_account(tx, t, payer, payee)

    def _fold_account(
        self, tx: TransactionLike, t: int, payer: AccountState | None, payee: AccountState | None
    ) -> None:
        """Fold `tx` into its accounts and devices (what is not a window)."""
        amount = tx.amount_fen
        payer_no = tx.payer_account
        payee_no = tx.payee_account
        device = tx.device_id
        if payer is not None and payer_no is not None:
            payer.balance -= amount
            payer.last_ts = t
            seen = payer.seen
            if payee_no is not None:
                key = f"p:{payee_no}"
                if key not in seen:
                    seen[intern(key)] = None
            if device is not None:
                key = f"d:{device}"
                if key not in seen:  # when it first paid from the device (logins read it)
                    seen[intern(key)] = t
                    if payer.device_since is None:
                        payer.device_since = t
                payers = self._device_payers.get(device)
                if payers is None:
                    payers = self._device_payers[intern(device)] = {}
                if payer_no not in payers:
                    payers[intern(payer_no)] = None
            if tx.city is not None:
                key = f"c:{tx.city}"
                if key not in seen:
                    seen[intern(key)] = None
        if payee is not None:
            payee.balance += amount
            payee.last_ts = t
        self.applied += 1

    def check_login(self, login: LoginLike) -> int:
        """The login's time in µs, if the state would fold it; else InvalidInput naming the
        login and the field (a face check not known, a login older than the horizon)."""
        t = micros(login.ts, login.event_id)
        if login.face_check not in FACE_CHECKS:
            raise InvalidInput(
                f"face check is one of {', '.join(sorted(FACE_CHECKS))}",
                "face_check",
                login.event_id,
            )
        if self.clock is not None and t < self.clock - LOGIN_HORIZON_US:
            raise InvalidInput(
                f"a login more than {LOGIN_HORIZON_US // 86_400_000_000} days before the "
                "engine's latest transaction can no longer be counted",
                "ts",
                login.event_id,
            )
        return t

    def observe_login(self, login: LoginLike) -> None:
        """Fold a login event (any time order; a login id already folded at the same time
        changes nothing)."""
        t = self.check_login(login)
        account = self._account(login.account_no)
        assert account is not None
        history = account.logins
        if history is None:
            history = account.logins = LoginHistory()
        if history.add(login.event_id, t, login.device_id, is_bad_face(login.face_check)):
            self.logins += 1
        if self.clock is not None:
            self.logins_dropped += history.prune(self.clock - LOGIN_HORIZON_US, account)

    def login_horizon(self) -> int | None:
        """The earliest time (µs) a login may have and still be folded; None: any time."""
        return None if self.clock is None else self.clock - LOGIN_HORIZON_US

    def snapshot(self) -> bytes:
        """The whole state as bytes (`engine.snapshot_format`: columns, no code); `restore`
        reads it back."""
        writer = SnapshotWriter()
        self.write_to(writer)
        return writer.to_bytes()

    def write_to(self, writer: SnapshotWriter) -> None:
        """Add the state to `writer` as its features part (an engine snapshot holds more)."""
        with collector_paused():
            online_snapshot.write(self, writer)

    @classmethod
    def restore(cls, data: bytes, directory: AccountDirectory | None = None) -> OnlineFeatureState:
        """A state from `snapshot()` bytes (or an engine snapshot's). The directory must be the
        one the state was built over: person tracks are keyed by its party codes."""
        with reading("a feature state"):
            return cls.read_from(SnapshotReader(data, "a feature state"), directory)

    @classmethod
    def read_from(
        cls, reader: SnapshotReader, directory: AccountDirectory | None = None
    ) -> OnlineFeatureState:
        """A state from the features part of `reader` (see `restore`)."""
        state = cls(directory)
        with collector_paused():
            online_snapshot.read(reader, state)
        return state

    def entities_of(self, tx: TransactionLike) -> list[entity_state.Entity]:
        """The entities whose state `tx` reads and changes (`entity_state`)."""
        keys = _stream_keys(tx, self._account(tx.payer_account))
        return entity_state.entities_of(self, keys)

    def entities(self, stream: Stream) -> int:
        """How many entities have events in `stream` (for monitoring the state's size)."""
        return len(self._tracks[stream])


def _stream_keys(tx: TransactionLike, payer: AccountState | None) -> tuple[Key | None, ...]:
    """The entities whose streams `tx` reads and feeds, in the order of the roles of `_PLAN`
    and `_FOLD`: payer, payee, device, IP and the payer's holder (None: none)."""
    party = payer.party if payer is not None and payer.party >= 0 else None
    return (tx.payer_account, tx.payee_account, tx.device_id, tx.ip, party)


def _micros_of(tx: TransactionLike) -> int:
    return micros(tx.ts, tx.tx_id)


def _checked(tx: TransactionLike, t: int, clock: int | None) -> int:
    """The time `t` of `tx` in µs, if the state at `clock` takes it; else InvalidInput."""
    if clock is not None and t < clock:
        raise InvalidInput(
            "transactions must arrive in time order: this one is earlier than the last",
            field="ts",
            record=tx.tx_id,
        )
    _validate(tx)
    return t


def _validate(tx: TransactionLike) -> None:
    amount = tx.amount_fen
    if type(amount) is not int or amount <= 0:
        raise InvalidInput("amount must be a positive whole number of fen", "amount_fen", tx.tx_id)
    kind = tx.kind
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind '{kind}'", "kind", tx.tx_id)
    if (tx.payer_account is None) != (kind == "deposit"):
        raise InvalidInput(
            f"a {kind} {'has no' if kind == 'deposit' else 'needs a'} payer",
            "payer_account",
            tx.tx_id,
        )
    if (tx.payee_account is None) != (kind == "withdrawal"):
        raise InvalidInput(
            f"a {kind} {'has no' if kind == 'withdrawal' else 'needs a'} payee",
            "payee_account",
            tx.tx_id,
        )


def settle_gc() -> None:
    """Collect once, then move every live object out of the collector's sight (gc.freeze),
    and consider the oldest generation only every `OLDEST_THRESHOLD` collections of the
    middle one (Python's default: 10).

    Call after warming up or restoring a large state, and now and then after that (it is
    cheap), so no collection ever walks millions of state objects during a decision. The
    batch path's compiled pass is made ready first (`tracks_bulk.warm_up`).

    After the freeze the collector counts only the objects that came since, and it collects
    the oldest generation whenever a quarter more have reached it: on a server, every few
    thousand decisions, each time walking the latest decisions kept for repeats (`RECENT`)
    and the state's newer entities, 0.15 s of CPU for a few hundred thousand objects, some
    60 µs a decision (`DecisionService.decide_durably` over SQLite, 16 calls at a time).
    Considered ten times less often, it runs a fraction as often; the cyclic garbage it
    frees waits longer, and the rest is freed as ever the moment it is dropped.
    """
    warm_up()
    gc.collect()
    gc.freeze()
    young, middle, oldest = gc.get_threshold()
    gc.set_threshold(young, middle, max(oldest, OLDEST_THRESHOLD))
