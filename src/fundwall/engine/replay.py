"""Replay (回放): the bulk path. The decisions of a whole history, as the online path would
have made them one by one.

    table = replay(Path("var/regions/small"), default_pack(), shadow=trial_pack)

The source is a region folder (transactions.parquet, with accounts and parties for the
directory, the accounts' statuses and bound accounts for the hard controls, and
logins.parquet, when there is one, for the login features), a CSV or
Parquet file of transactions (`fundwall.ingest.read_transactions`; no accounts are known), or
a transactions table. Chunk by chunk: bulk features (`iter_bulk`, only those the packs and
the model read: the result holds no feature), the pack's bulk evaluation, then the hard
controls' compiled pass, which books what was not blocked in its ledger before the next
chunk. The result has one row per transaction, in input order:

| column | type | |
|---|---|---|
| tx_id | string | |
| action | dictionary<string> | pass, alert, warn, delay, block |
| score | int64 | the live pack's score |
| rules | list<string> | rules that fired, highest score first (ties by id) |
| controls | list<string> | hard controls that applied (`CONTROL_IDS` order) |
| pack_version | dictionary<string> | |
| model_version | dictionary<string> | the model's version; null without a model |
| model_score | float64 | the model's probability; null without a model |
| shadow_action, shadow_score, shadow_rules, shadow_pack_version | | with a shadow pack only |

Transactions must be in time order; a transaction stamped before the one before it is decided
as of that earlier one's time, as online.

The feature columns come from a `BulkFeatures`: this machine's compiled pass (`LOCAL`, the
default), or another executor of the same kernels (`fundwall.spark` computes them on Apache
Spark, entity by entity). Whichever computed them, the rules, the model and the hard
controls then run here, in one pass in time order, so the decisions do not depend on it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from numba import njit

from fundwall.config import PolicySettings, get_settings
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.controls import CONTROL_IDS, BulkControls, ControlBook
from fundwall.engine.controls.book import region_book
from fundwall.engine.features import AccountDirectory, feature_names, iter_bulk
from fundwall.engine.features.bulk import DEFAULT_BATCH_ROWS
from fundwall.engine.features.encode import Encoded, encode, int64_column, shared_dictionaries
from fundwall.engine.features.inputs import TRANSACTION_COLUMNS
from fundwall.engine.models.artifact import Model
from fundwall.engine.models.scoring import ModelScorer
from fundwall.engine.rules import ACTIONS_BY_CODE, BulkEvaluation, RulePack, default_pack
from fundwall.ingest import read_transactions
from fundwall.region import read_table

Progress = Callable[[int, int], None]
_ACTIONS: Final = pa.array([action.value for action in ACTIONS_BY_CODE], pa.string())
_CONTROL_NAMES: Final = pa.array(CONTROL_IDS, pa.string())
_BITS: Final = np.arange(len(CONTROL_IDS), dtype=np.int64)


class BulkFeatures(Protocol):
    """What computes the feature batches of a replay: one batch after another, in the order
    of `table` (`source`'s transactions, time never going back; `encoded` is
    `encode(table, directory)` when the caller made it already), each with the `bulk_schema`
    columns of the features `wanted` (every feature when None), in catalogue order."""

    def __call__(
        self,
        source: Path | str | pa.Table,
        table: pa.Table,
        directory: AccountDirectory,
        logins: pa.Table | None,
        *,
        batch_rows: int,
        encoded: Encoded | None,
        wanted: Collection[str] | None,
    ) -> Iterator[pa.RecordBatch]: ...


def _on_this_machine(
    source: Path | str | pa.Table,
    table: pa.Table,
    directory: AccountDirectory,
    logins: pa.Table | None,
    *,
    batch_rows: int,
    encoded: Encoded | None,
    wanted: Collection[str] | None,
) -> Iterator[pa.RecordBatch]:
    return iter_bulk(
        table, directory, logins=logins, batch_rows=batch_rows, encoded=encoded, wanted=wanted
    )


LOCAL: Final[BulkFeatures] = _on_this_machine
"""The compiled pass of `iter_bulk` in this process."""


def _source(
    source: Path | str | pa.Table,
    directory: AccountDirectory | None,
    book: ControlBook | None,
) -> tuple[pa.Table, AccountDirectory, ControlBook]:
    if isinstance(source, pa.Table):
        return source, directory or AccountDirectory.empty(), book or ControlBook()
    path = Path(source)
    if path.is_dir():
        table = read_history(path)
        return (
            table,
            directory or AccountDirectory.from_region(path),
            book or region_book(path),
        )
    if not path.is_file():
        raise NotFound("region folder or transactions file", str(path))
    table = read_transactions(path)
    return table, directory or AccountDirectory.empty(), book or ControlBook()


IDENTIFIERS: Final = ("payer_account", "payee_account", "device_id", "ip")
"""The columns the features code to entities (`encode`)."""


def read_history(folder: Path) -> pa.Table:
    """A region folder's transactions as replay reads them: the columns the features read
    (not the purpose), the few-valued ones dictionary-encoded as the file keeps them, and the
    identifiers dictionary-encoded as they are read, the accounts of both sides over one
    dictionary (`shared_dictionaries`): encoding then hashes no string a row."""
    table = read_table(
        folder, "transactions", TRANSACTION_COLUMNS, dictionary=True, coded=IDENTIFIERS
    )
    return shared_dictionaries(table)


def _region_logins(source: Path | str | pa.Table) -> pa.Table | None:
    """logins.parquet of a region folder, when the source is one that has it."""
    if isinstance(source, pa.Table) or not (Path(source) / "logins.parquet").is_file():
        return None
    return read_table(Path(source), "logins")


def _forward_time(table: pa.Table) -> pa.Table:
    """The table with timestamps that never go back (each at least the one before): restamped
    when any has to move, else as it is."""
    column = table["ts"]
    if not pa.types.is_timestamp(column.type) or column.type.tz is None:
        raise InvalidInput(f"expected a timestamp with time zone, got {column.type}", "ts")
    if column.null_count:
        raise InvalidInput("a transaction has no time", "ts")
    ts = int64_column(column.cast(pa.timestamp("us", tz="UTC")))
    if len(ts) < 2 or bool(np.all(ts[1:] >= ts[:-1])):
        return table
    stamped = pa.array(np.maximum.accumulate(ts), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return table.set_column(table.schema.get_field_index("ts"), "ts", stamped)


def region_features(
    source: Path | str | pa.Table,
    directory: AccountDirectory | None = None,
    *,
    features: BulkFeatures = LOCAL,
) -> tuple[pa.Table, Iterator[pa.RecordBatch]]:
    """The transactions of `source` as replay decides them (time never going back) and the
    batches of all their features, in table order (with a region folder's logins), computed
    by `features`: what a model is trained on is what replay scores."""
    logins = _region_logins(source)
    table, directory, _ = _source(source, directory, ControlBook())
    table = _forward_time(table)
    batches = features(
        source, table, directory, logins, batch_rows=DEFAULT_BATCH_ROWS, encoded=None, wanted=None
    )
    return table, batches


def _lists(
    rows: int, row: npt.NDArray[np.intp], name: npt.NDArray[np.intp], names: pa.Array
) -> pa.ListArray:
    """`rows` lists: row `row[k]` holds `names[name[k]]`, pairs already in row order."""
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(row, minlength=rows), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), names.take(pa.array(name)))


def _control_lists(mask: npt.NDArray[np.int64]) -> pa.ListArray:
    """The ids of the controls whose bit is set, per row (most rows have none)."""
    hit_rows = np.flatnonzero(mask)
    row, bit = np.nonzero((mask[hit_rows, None] >> _BITS) & 1)
    return _lists(len(mask), hit_rows[row], bit, _CONTROL_NAMES)


def _constant(value: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(rows, dtype=np.int8)), pa.array([value], pa.string())
    )


class _PackColumns:
    """Turns a pack's bulk evaluation of a chunk into result columns."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        scores = {rule.id: rule.score for rule in pack.active}
        ids = [rule.id for rule in pack.active]
        shown = sorted(range(len(ids)), key=lambda j: (-scores[ids[j]], ids[j]))
        self.names = pa.array([ids[j] for j in shown], pa.string())
        self.shown = np.array(shown, dtype=np.intp)
        """The rules of the pack's evaluation in the listing order."""

    def columns(
        self, evaluation: BulkEvaluation, actions: npt.NDArray[np.uint8]
    ) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
        rows = len(actions)
        offsets = np.empty(rows + 1, dtype=np.int32)
        # `fired` is column-major: the kernel reads it rule by rule.
        shown = _fired_lists(np.asfortranarray(evaluation.fired), self.shown, offsets)
        return (
            pa.DictionaryArray.from_arrays(pa.array(actions.astype(np.int8)), _ACTIONS),
            pa.array(evaluation.scores, pa.int64()),
            pa.ListArray.from_arrays(pa.array(offsets), self.names.take(pa.array(shown))),
            _constant(self.pack.version, rows),
        )


@njit(nogil=True, cache=True)
def _fired_lists(
    fired: npt.NDArray[np.bool_], shown: npt.NDArray[np.intp], offsets: npt.NDArray[np.int32]
) -> npt.NDArray[np.int32]:
    """The rules that fired on each row as one list array: `offsets` (rows + 1) is filled,
    and the values returned are places in the listing order, rule `shown[k]` listed k-th."""
    rows = fired.shape[0]
    offsets[:] = 0
    for j in range(fired.shape[1]):
        for i in range(rows):
            offsets[i + 1] += fired[i, j]
    for i in range(rows):
        offsets[i + 1] += offsets[i]
    values = np.empty(offsets[rows], dtype=np.int32)
    fill = offsets[:rows].copy()
    for k in range(shown.shape[0]):
        j = shown[k]
        for i in range(rows):
            if fired[i, j]:
                values[fill[i]] = k
                fill[i] += 1
    return values


def replay(
    source: Path | str | pa.Table,
    pack: RulePack | None = None,
    shadow: RulePack | None = None,
    *,
    policy: PolicySettings | None = None,
    directory: AccountDirectory | None = None,
    book: ControlBook | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    logins: pa.Table | None = None,
    model: Model | None = None,
    features: BulkFeatures = LOCAL,
) -> pa.Table:
    """Decide every transaction of `source` with `pack` (the default pack when None), with
    `model` scoring beside the rules when given, and `shadow` beside it when given; write the
    table to `out` (Parquet) when given. `logins` are the accounts' login events
    (logins.parquet's columns); a region folder's are read when not given. `features`
    computes the feature columns (this machine's compiled pass by default)."""
    live = pack if pack is not None else default_pack()
    if logins is None:
        logins = _region_logins(source)
    table, directory, book = _source(source, directory, book)
    table = _forward_time(table)
    encoded = encode(table, directory)
    controls = BulkControls(
        book, directory, policy if policy is not None else get_settings().policy, encoded
    )
    if not isinstance(source, pa.Table):
        # Read here, so no one else holds it: once encoded, only its ids are still needed.
        table = table.select(["tx_id"])
    # Reading and encoding the history leave freed blocks in Arrow's pool, which keeps them
    # for later use: hand them back before the feature pass lays its streams out.
    pa.default_memory_pool().release_unused()
    packs = [_PackColumns(live)] + ([_PackColumns(shadow)] if shadow is not None else [])
    scorer = None if model is None else ModelScorer(model, feature_names())
    read = [n for p in packs for n in p.pack.feature_names]
    if scorer is not None:
        read += scorer.model.card.features
    # "amount" tells the row count to a pack that reads no feature.
    wanted = list(dict.fromkeys(["amount", *read]))
    total = table.num_rows
    schema = _schema(shadow is not None)
    results: list[list[pa.Array]] = [[] for _ in schema.names[1:]]
    unscored = _unscored(batch_rows, [])
    start = 0
    batches = features(
        source, table, directory, logins, batch_rows=batch_rows, encoded=encoded, wanted=wanted
    )
    for batch in _ahead(batches):
        stop = start + batch.num_rows
        columns = {name: batch.column(name).to_numpy() for name in wanted}
        evaluations = [p.pack.evaluate_bulk(columns) for p in packs]
        if scorer is None:
            modelled = np.zeros(batch.num_rows, np.uint8)
            unscored = _unscored(batch.num_rows, unscored)
            model_columns = [column.slice(0, batch.num_rows) for column in unscored]
        else:
            probabilities = scorer.probabilities(columns)
            modelled = scorer.policy.codes_for(probabilities)
            model_columns = [
                _constant(scorer.version, batch.num_rows),
                pa.array(probabilities, pa.float64()),
            ]
        mask, forced, final = controls.run(
            start, stop, np.maximum(evaluations[0].actions, modelled)
        )
        action, score, rules, version = packs[0].columns(evaluations[0], final)
        arrays = [action, score, rules, _control_lists(mask), version, *model_columns]
        if shadow is not None:
            trial = np.maximum(np.maximum(evaluations[1].actions, modelled), forced)
            arrays += packs[1].columns(evaluations[1], trial)
        for built, array in zip(results, arrays, strict=True):
            built.append(array)
        start = stop
        if progress is not None:
            progress(start, total)
    # The ids are the input's own column, not a copy.
    tx_ids = table["tx_id"].cast(pa.string())
    result = pa.table(
        [
            tx_ids,
            *(
                pa.chunked_array(built, field.type)
                for built, field in zip(results, list(schema)[1:], strict=True)
            ),
        ],
        schema=schema,
    )
    if out is not None:
        pq.write_table(result, out, compression="zstd")
    return result


def _unscored(rows: int, made: list[pa.Array]) -> list[pa.Array]:
    """The model's columns without a model, nulls, at least `rows` long: each batch's are
    slices of the same arrays (`made`, when long enough), not arrays of their own."""
    if made and len(made[0]) >= rows:
        return made
    return [pa.nulls(rows, pa.dictionary(pa.int8(), pa.string())), pa.nulls(rows, pa.float64())]


def _ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches, each next one computed on a thread of its own while the caller works on
    the current one (the feature kernels release the GIL). A failure in the features is
    raised here; a caller that stops early stops the thread and closes the batches."""
    ready: queue.Queue[pa.RecordBatch | Exception | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item: pa.RecordBatch | Exception | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not hand(batch):
                    return
            hand(None)
        except Exception as error:  # noqa: BLE001 - raised again by the consumer below
            hand(error)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="replay-features", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _schema(with_shadow: bool) -> pa.Schema:
    action = pa.dictionary(pa.int8(), pa.string())
    fields = [
        ("tx_id", pa.string()),
        ("action", action),
        ("score", pa.int64()),
        ("rules", pa.list_(pa.string())),
        ("controls", pa.list_(pa.string())),
        ("pack_version", action),
        ("model_version", action),
        ("model_score", pa.float64()),
    ]
    if with_shadow:
        fields += [
            ("shadow_action", action),
            ("shadow_score", pa.int64()),
            ("shadow_rules", pa.list_(pa.string())),
            ("shadow_pack_version", action),
        ]
    return pa.schema(fields)
