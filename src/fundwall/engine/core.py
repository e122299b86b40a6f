"""The decision core, in memory: hard controls, online features, the live and shadow packs
and models.

`DecisionCore.decide(tx)` gives the live decision and, when a shadow pack or a shadow model
is set, the shadow one; it folds the transaction into the features (every decided
transaction counts, blocked ones too, as an attempt) and books it in the controls' ledger
when it was not blocked.
`fold(tx, live_action)` does the same for a transaction already decided (rebuilding the state
from the decision log). No I/O: `DecisionService` adds the log, idempotency and the store.

Time only moves forward: a transaction stamped before the latest one decided is decided as of
that latest time (its features see the history up to then; the log keeps its own stamp), so
small clock differences between members never fail a decision, and folding the log in its
order gives the very same state.

No stamp moves the clock past `until`: with `until` (the service's clock when it decided, the
`decided_at` of the log) a transaction stamped later is decided as of `until`, so one member's
transaction dated far ahead cannot age every other account. A transaction's time is therefore
max(engine clock, min(ts, until)); folding with the same `until` gives the same state.

The restrictions (freezes, stop-payments, suspensions, caps), the punishment list and the
shared risk list are read as they stand at `until`, not at the transaction's time: each is in
force for every decision made after it was made, and gone from every decision made after it
was lifted or retracted, whatever the payment's own stamp (a member's clock a second behind, a
payment sent an hour late, or dated back to slip under a freeze). The limits still count by
the transaction's time. Without `until` (a region's history) all are read at the
transaction's time.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Final, NamedTuple, cast

import numpy as np
import numpy.typing as npt

from fundwall.config import PolicySettings
from fundwall.domain._fields import assembled
from fundwall.domain.decisions import Action, Decision, Reason, most_severe
from fundwall.domain.errors import Conflict
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.collector import collector_paused
from fundwall.engine.controls import ControlBook, Hit, OnlineControls, strongest_action
from fundwall.engine.features import (
    AccountDirectory,
    FeatureVector,
    OnlineFeatureState,
    TxEvent,
    feature_index,
    feature_names,
)
from fundwall.engine.features.directory import ReportedAccount
from fundwall.engine.features.inputs import LoginLike, micros
from fundwall.engine.features.online import ObservedBatch
from fundwall.engine.features.tracks_bulk import AGGREGATES_AT, aggregate_count
from fundwall.engine.models.artifact import Model
from fundwall.engine.models.scoring import ModelScorer, Scored
from fundwall.engine.rules import Evaluation, RulePack
from fundwall.engine.snapshot_format import SnapshotReader, SnapshotWriter, reading

ENGINE_PART: Final = "engine"
STATE_VERSION: Final = 2
"""Of the engine part (the clock); 2 since the snapshot is columns (1 was marshal)."""


def _orders_at(t: int, until: Instant | None) -> int:
    """When the restrictions and lists are read for a transaction decided at `t` (see the
    module docstring)."""
    return t if until is None else max(t, until.us)


class Instant(NamedTuple):
    """A moment as the engine compares it (µs since the epoch) and as events carry it."""

    us: int
    ts: datetime

    @classmethod
    def of(cls, moment: datetime) -> Instant:
        return cls(micros(moment, "until"), moment)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The live decision on a transaction and, with a shadow pack or model, the shadow one."""

    decision: Decision
    shadow: Decision | None


def event_of(tx: Transaction | TxEvent, ts: datetime) -> TxEvent:
    """The transaction as the features and controls read it, stamped `ts`."""
    if isinstance(tx, TxEvent):
        return tx if tx.ts is ts else replace(tx, ts=ts)
    values = [read(tx) for read in _EVENT_FIELDS.values()]
    values[_TS] = ts
    return TxEvent(*values)  # type: ignore[arg-type]  # each read gives its field's type


def events_of(txs: Sequence[Transaction | TxEvent], stamps: Sequence[datetime]) -> list[TxEvent]:
    """`event_of` of each of `txs` with its stamp; transactions column by column
    (`assembled`), each field read by one map."""
    if not all(type(tx) is Transaction for tx in txs):
        return list(map(event_of, txs, stamps))
    transactions = cast(Sequence[Transaction], txs)
    columns: dict[str, Iterable[object]] = {
        name: map(read, transactions) for name, read in _EVENT_FIELDS.items()
    }
    columns["ts"] = stamps
    return assembled(TxEvent, columns, len(txs))


def _kind(tx: Transaction) -> str:
    return _KIND_VALUES[tx.kind]


def _channel(tx: Transaction) -> str:
    return _CHANNEL_VALUES[tx.channel]


_KIND_VALUES: Final = {kind: kind.value for kind in TransactionKind}
_CHANNEL_VALUES: Final = {channel: channel.value for channel in Channel}
_EVENT_FIELDS: Final[dict[str, Callable[[Transaction], object]]] = {
    field.name: attrgetter(field.name) for field in fields(TxEvent)
} | {"kind": _kind, "amount_fen": attrgetter("amount.fen"), "channel": _channel}
"""How each field of an event is read from a transaction, in the event's order (`ts`: the
stamp it is decided at replaces it)."""
_TS: Final = list(_EVENT_FIELDS).index("ts")


BULK_ROWS: Final = 64
"""Fewer vectors than this are evaluated one by one: a pack's bulk evaluation costs about as
much as 60 vectors' whatever the rows (one numpy pass per operation of each rule)."""
_NOTHING_FIRED: Final = Evaluation(0, Action.PASS, ())
"""A pack's evaluation of a vector on which no rule fires (as `RulePack.evaluate_vector`)."""


class _Columns(NamedTuple):
    """The features the packs read, as the columns of the batch's matrix (`_matrix`): first
    those outside the window aggregates, then the window aggregates."""

    pick: Callable[[Sequence[int | float]], tuple[int | float, ...]]
    """The values of the first ones in a vector, in column order."""
    windows: list[int]
    """The window aggregates' columns in the batch's matrix of them, in column order."""
    where: dict[str, int]
    """The column of each feature."""

    @classmethod
    def of(cls, packs: Sequence[RulePack]) -> _Columns:
        at = feature_index()
        windows = range(AGGREGATES_AT, AGGREGATES_AT + aggregate_count())
        # "amount" tells the row count to a pack that reads no feature.
        names = sorted({"amount", *(name for pack in packs for name in pack.feature_names)})
        singles = [at[name] for name in names if at[name] not in windows]
        aggregates = [at[name] - AGGREGATES_AT for name in names if at[name] in windows]
        order = [name for name in names if at[name] not in windows]
        order += [name for name in names if at[name] in windows]
        pick = itemgetter(*singles) if len(singles) > 1 else _single(singles[0])
        return cls(pick, aggregates, {name: column for column, name in enumerate(order)})


def _single(position: int) -> Callable[[Sequence[int | float]], tuple[int | float, ...]]:
    """`itemgetter` of one position, as a tuple (`itemgetter(i)` gives the value itself)."""
    return lambda values: (values[position],)


def _matrix(observed: ObservedBatch, columns: _Columns) -> npt.NDArray[np.float64]:
    """The features the packs read of each vector, as rows of one matrix (`columns`): only
    those, and the window aggregates from their own matrix, since turning a Python number
    into a float costs as much as the rest of a row."""
    vectors = observed.vectors
    rows, width = len(vectors), len(columns.where)
    matrix = np.empty((rows, width), dtype=np.float64)
    first = width - len(columns.windows)
    values = chain.from_iterable(map(columns.pick, map(_VALUES, vectors)))
    matrix[:, :first] = np.fromiter(values, np.float64, rows * first).reshape(rows, first)
    matrix[:, first:] = observed.aggregates[:, columns.windows]
    return matrix


_VALUES: Final = attrgetter("values")
_SCORE: Final = attrgetter("score")
_FIRST: Final = itemgetter(0)
_SECOND: Final = itemgetter(1)


def _scorer_version(scored: Scored | None) -> str | None:
    return None if scored is None else scored.scorer.version


def _evaluations(
    pack: RulePack,
    bound: Callable[[Sequence[float]], Evaluation],
    vectors: Sequence[FeatureVector],
    matrix: npt.NDArray[np.float64] | None,
    columns: _Columns,
) -> list[Evaluation]:
    """`bound(vector)` of each vector, by the pack's bulk evaluation of them all: only the
    vectors on which a rule fired are evaluated one by one, for the reasons' words (`matrix`:
    the vectors' `_matrix`, None for fewer than `BULK_ROWS`)."""
    if matrix is None:
        return [bound(vector) for vector in vectors]
    where = columns.where
    names = pack.feature_names or ("amount",)
    fired = pack.evaluate_bulk({name: matrix[:, where[name]] for name in names}).fired
    hits: list[bool] = np.asarray(fired.any(axis=1)).tolist()
    return [
        bound(vector) if hit else _NOTHING_FIRED for vector, hit in zip(vectors, hits, strict=True)
    ]


def _combined(
    evaluation: Evaluation, hits: list[Hit], scored: Scored | None = None
) -> tuple[Action, tuple[Reason, ...]]:
    """The policy: the most severe of the rules' action, the model's and the controls';
    control reasons, then rule reasons, then the model's when the decision is not a pass."""
    # Most transactions: no control applies, no rule fires.
    fired = evaluation.reasons() if evaluation.fired else ()
    if not hits and scored is None:
        return evaluation.action, fired
    action = most_severe((evaluation.action, strongest_action(hits)))
    reasons = tuple(hit.reason for hit in hits) + fired
    if scored is None:
        return action, reasons
    action = most_severe((action, scored.action))
    if action is Action.PASS:
        return action, reasons
    return action, (*reasons, scored.reason())


class DecisionCore:
    """Decides on transactions in time order over one account directory and control book."""

    def __init__(
        self,
        directory: AccountDirectory,
        book: ControlBook,
        policy: PolicySettings,
        live: RulePack,
        shadow: RulePack | None = None,
        model: Model | None = None,
    ) -> None:
        self.directory = directory
        self.book = book
        self.policy = policy
        self.features = OnlineFeatureState(directory)
        self.controls = OnlineControls(book, directory, policy)
        self.clock_us: int | None = None
        self._clock_ts: datetime | None = None
        self.set_packs(live, shadow)
        self.set_model(model)

    def set_model(self, model: Model | None, shadow: Model | None = None) -> None:
        """Score with `model` (the champion) from now on beside the rules (None: rules alone),
        and try `shadow` in the shadow decision in its place (None: no shadow model)."""
        if model is not None and shadow is not None and model.version == shadow.version:
            raise Conflict(f"model {model.version} cannot be champion and shadow at once")
        self.model = model
        self.shadow_model = shadow
        self._scorer = None if model is None else ModelScorer(model, feature_names())
        self._shadow_scorer = None if shadow is None else ModelScorer(shadow, feature_names())

    def set_packs(self, live: RulePack, shadow: RulePack | None) -> None:
        """Decide with `live` from now on, and try `shadow` beside it (None: no shadow)."""
        if shadow is not None and shadow.version == live.version:
            raise Conflict(f"pack {live.version} cannot be live and shadow at once")
        layout = feature_names()
        self.live = live
        self.shadow = shadow
        self._live = live.bind(layout)
        self._shadow = shadow.bind(layout) if shadow is not None else None
        self._columns = _Columns.of([live] if shadow is None else [live, shadow])

    @property
    def clock_ts(self) -> datetime | None:
        """The engine's clock as the moment it was read from (None: nothing decided yet)."""
        return self._clock_ts

    def set_clock(self, clock: tuple[int, datetime] | None) -> None:
        """Set the engine's clock (µs and moment; None: nothing decided yet), as replicas
        share it (`fundwall.engine.shared`)."""
        self.clock_us, self._clock_ts = clock if clock is not None else (None, None)
        self.features.clock = self.clock_us

    def _time(self, tx: Transaction | TxEvent, until: Instant | None) -> tuple[int, datetime]:
        t, ts = micros(tx.ts, tx.tx_id), tx.ts
        if until is not None and t > until.us:
            t, ts = until
        if self.clock_us is not None and t < self.clock_us:
            assert self._clock_ts is not None
            return self.clock_us, self._clock_ts
        return t, ts

    def decide(self, tx: Transaction | TxEvent, until: Instant | None = None) -> Outcome:
        """Decide on `tx` as of its time, at most `until`, and fold it into the state."""
        started = time.perf_counter_ns()
        t, ts = self._time(tx, until)
        event = event_of(tx, ts)
        hits = self.controls.check(event, t, _orders_at(t, until))
        vector = self.features.observe(event)
        self.clock_us, self._clock_ts = t, ts
        evaluation = self._live(vector)
        scored = None if self._scorer is None else self._scorer.score(vector)
        decision = self._decided(event, t, hits, evaluation, scored, started)
        if self._shadow is None and self._shadow_scorer is None:
            return Outcome(decision, None)
        started = time.perf_counter_ns()
        trial = evaluation if self._shadow is None else self._shadow(vector)
        return Outcome(decision, self._tried(tx.tx_id, vector, hits, trial, scored, started))

    def decide_many(
        self, txs: Sequence[Transaction | TxEvent], until: Instant | None = None
    ) -> list[Outcome]:
        """`decide` of each of `txs` in turn: the same outcomes, the same state after.

        The features fold every transaction first (a vector reads only the transactions
        before it, never a decision: `OnlineFeatureState.observe_batch`); the packs then
        evaluate the batch's vectors at once (`RulePack.evaluate_bulk`), and only a vector on
        which a rule fired is evaluated again one by one, for its reasons in words; last, the
        hard controls' compiled pass checks and books the transactions in order, each reading
        the ledger that the ones before it left (`OnlineControls.check_many`), given what the
        packs and the model force; the decisions are then made as columns
        (`Decision.made_many`), each with the batch's time up to them divided among them as
        its `latency_us`. The collector is paused meanwhile: a batch's
        vectors and decisions live until its end, and collections would walk them again and
        again.
        """
        with collector_paused():
            return self._decide_many(txs, until)

    def _decide_many(
        self, txs: Sequence[Transaction | TxEvent], until: Instant | None
    ) -> list[Outcome]:
        started = time.perf_counter_ns()
        clock = self.clock_us, self._clock_ts
        times: list[int] = []
        stamps: list[datetime] = []
        for tx in txs:
            t, ts = self._time(tx, until)
            times.append(t)
            stamps.append(ts)
            self.clock_us, self._clock_ts = t, ts
        events = events_of(txs, stamps)
        try:
            batch = self.features.observe_batch(events, times)
        except BaseException:
            # The features refused the batch before folding any of it.
            self.clock_us, self._clock_ts = clock
            raise
        vectors = batch.vectors
        columns = self._columns
        matrix = _matrix(batch, columns) if len(vectors) >= BULK_ROWS else None
        live = _evaluations(self.live, self._live, vectors, matrix, columns)
        trials = (
            live
            if self._shadow is None or self.shadow is None
            else _evaluations(self.shadow, self._shadow, vectors, matrix, columns)
        )
        scorer = self._scorer
        scores: list[Scored | None] = (
            [None] * len(vectors) if scorer is None else list(map(scorer.score, vectors))
        )
        # The controls book each transaction unless its decision blocks: what the rest of
        # the decision forces comes first.
        severities = [
            evaluation.action.severity
            if scored is None
            else max(evaluation.action.severity, scored.action.severity)
            for evaluation, scored in zip(live, scores, strict=True)
        ]
        orders = times if until is None else [_orders_at(t, until) for t in times]
        hits_of = self.controls.check_many(events, times, orders, severities)
        combined = list(map(_combined, live, hits_of, scores))
        tx_ids = [event.tx_id for event in events]
        actions = list(map(_FIRST, combined))
        # The batch's time up to its decisions, shared by all: each is made with the others.
        share = (time.perf_counter_ns() - started) // max(len(events), 1) // 1000
        decisions = Decision.made_many(
            tx_ids,
            actions,
            map(_SCORE, live),
            list(map(_SECOND, combined)),
            self.live.version,
            repeat(None) if scorer is None else map(_scorer_version, scores),
            repeat(share),
        )
        if self._shadow is None and self._shadow_scorer is None:
            return assembled(Outcome, {"decision": decisions, "shadow": repeat(None)}, len(events))
        shadows = [
            self._tried(tx_id, vector, hits, trial, scored, time.perf_counter_ns())
            for tx_id, vector, hits, trial, scored in zip(
                tx_ids, vectors, hits_of, trials, scores, strict=True
            )
        ]
        return list(map(Outcome, decisions, shadows))

    def _decided(
        self,
        event: TxEvent,
        t: int,
        hits: list[Hit],
        evaluation: Evaluation,
        scored: Scored | None,
        started: int,
    ) -> Decision:
        """The live decision on `event` (the controls' `hits`, the live pack's `evaluation`,
        the champion's score), booked in the ledger unless it blocks."""
        action, reasons = _combined(evaluation, hits, scored)
        self.controls.settle(event, t, action is not Action.BLOCK)
        return self._decision(event.tx_id, action, reasons, evaluation, scored, started)

    def _decision(
        self,
        tx_id: str,
        action: Action,
        reasons: tuple[Reason, ...],
        evaluation: Evaluation,
        scored: Scored | None,
        started: int,
    ) -> Decision:
        """The live decision of `action` and `reasons` (`_combined`), its latency counted
        from `started`."""
        return Decision.made(
            tx_id,
            action,
            evaluation.score,
            reasons,
            self.live.version,
            None if scored is None else scored.scorer.version,
            latency_us=(time.perf_counter_ns() - started) // 1000,
        )

    def _tried(
        self,
        tx_id: str,
        vector: FeatureVector,
        hits: list[Hit],
        trial: Evaluation,
        scored: Scored | None,
        started: int,
    ) -> Decision:
        """The trial: the shadow pack's `trial` (else the live one's) with the shadow model
        (else the champion's `scored`), on the same vector and control hits; logged, never
        enforced."""
        tried = scored if self._shadow_scorer is None else self._shadow_scorer.score(vector)
        shadow_action, shadow_reasons = _combined(trial, hits, tried)
        return Decision.made(
            tx_id,
            shadow_action,
            trial.score,
            shadow_reasons,
            (self.shadow or self.live).version,
            None if tried is None else tried.scorer.version,
            latency_us=(time.perf_counter_ns() - started) // 1000,
            shadow=True,
        )

    def report_account(self, account: ReportedAccount) -> None:
        """Know an account its member reported (opened or changed) from the next decision on."""
        was_known = self.directory.facts(account.account_no) is not None
        self.directory.report(account)
        self.features.refresh_account(account.account_no)
        self.controls.refresh_account(account.account_no, was_known)

    def fold(
        self, tx: Transaction | TxEvent, live_action: Action | None, until: Instant | None = None
    ) -> None:
        """Fold a transaction decided before (`live_action`; None for history loaded without
        a decision, which counts as having gone through) with the `until` it was decided
        with (None for that history: it folds at its own time)."""
        t, ts = self._time(tx, until)
        event = event_of(tx, ts)
        self.features.apply(event)
        self.clock_us, self._clock_ts = t, ts
        self.controls.settle(event, t, live_action is not Action.BLOCK)

    def observe_login(self, login: LoginLike) -> None:
        """Fold a login event into the features: a fact at its own time, read by the
        transactions at or after it; it moves no clock (`OnlineFeatureState.observe_login`)."""
        self.features.observe_login(login)

    def snapshot(self) -> bytes:
        """The features (with the logins), the ledger and the clock as bytes
        (`engine.snapshot_format`: columns, no code)."""
        writer = SnapshotWriter()
        clock = None if self._clock_ts is None else self._clock_ts.isoformat()
        writer.part(ENGINE_PART, STATE_VERSION, clock_us=self.clock_us, clock=clock)
        self.features.write_to(writer)
        self.controls.write_to(writer)
        return writer.to_bytes()

    def restore(self, data: bytes) -> None:
        """Replace the state with one from `snapshot()` taken over the same directory; an
        `InvalidInput` when `data` is no engine snapshot or one of a version this code does
        not read (the state is then unchanged)."""
        with collector_paused(), reading("an engine"):
            reader = SnapshotReader(data, "an engine")
            meta = reader.part(ENGINE_PART, STATE_VERSION).meta
            features = OnlineFeatureState.read_from(reader, self.directory)
            ledger = self.controls.read_ledger(reader)
            clock_us, clock = meta["clock_us"], meta["clock"]
            clock_ts = None if clock is None else datetime.fromisoformat(clock)
            # A million acyclic containers, frozen before any collection walks them (the
            # first one after a restore took 0.15 s on the small region; `settle_gc` after
            # the restore would walk them once more only to freeze them all the same).
            gc.freeze()
        self.features = features
        self.controls.set_ledger(ledger)
        self.clock_us, self._clock_ts = clock_us, clock_ts
