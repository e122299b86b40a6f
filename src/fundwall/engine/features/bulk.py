"""The columnar form: the features of a whole history, one column per feature.

`iter_bulk` encodes the table once (entities to dense ints), lays each event stream out owner
by owner (`kernels.layout_stream`, all streams side by side), then walks the history in
chunks: per chunk the five stream passes and the single-value pass run side by side on a
thread pool (the kernels release the GIL), and the chunk becomes one Arrow record batch.
State carries over between chunks, so memory holds one chunk of output at a time;
`compute_bulk` collects the batches into one table. The passes are planned from the
catalogue's tables (`AGGREGATES` × `WINDOWS`, `SINGLES`, `LOGIN_FEATURES`, `RATIOS`), the same
declarations the online form loops over: adding a window or a measure there adds it here.

Every feature is computed unless the caller names those it reads (`wanted`; replay asks for
its packs' and model's, about 53 of the 120 with the default pack). The plan (`_plan`) then
holds only what they are made of: per stream the queries and windows read (a window no one
reads is not moved), distinct counts and maxima only where read, a stream only when its
windows or its first pairs are read; the single-value, login and ratio rows asked for (a
ratio brings its numerator and denominator); the login index and the (payer, city) first
pairs only when read. A feature's value does not depend on which others are computed beside
it (a parity test holds the columns to those of the whole computation).

Logins are a second input beside the transactions (`logins`, the columns of logins.parquet in
any order): the login pass reads them as of each transaction's time (`logins.login_index`,
`kernels.login_pass`), beside the stream passes; the ratios are made last, of the chunk's
other columns (`kernels.ratio_pass`).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import kernels
from fundwall.engine.features.catalog import (
    AGGREGATES,
    LOGIN_ABSENT,
    LOGIN_FEATURES,
    NEVER,
    RATIOS,
    SINGLES,
    STREAMS,
    WINDOWS,
    Fact,
    LoginFeature,
    Measure,
    Role,
    Single,
    Stream,
    StreamSpec,
    aggregate_feature,
    catalogue,
    feature_names,
)
from fundwall.engine.features.directory import AccountDirectory
from fundwall.engine.features.encode import Encoded, TableLike, encode
from fundwall.engine.features.flags import FLAGS
from fundwall.engine.features.logins import LoginIndex, login_index

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]

DEFAULT_BATCH_ROWS: Final = 1 << 16
"""64k rows × 120 features is ~63 MB of output per batch: small enough for the allocator to
hand the same memory back batch after batch (fresh pages cost more than the kernels)."""


_FIRSTS: Final = {Stream.ACCOUNT_OUT: kernels.FIRST_PAYEE, Stream.DEVICE: kernels.FIRST_DEVICE}
"""Streams whose first (owner, counterpart) pairs are facts: NEW_PAYEE (payer → payee) and
NEW_DEVICE / DEVICE_PAYERS (device → payer). The (payer, city) pairs are laid out apart."""
_FIRST_OF: Final = {
    Fact.NEW_PAYEE: kernels.FIRST_PAYEE,
    Fact.NEW_DEVICE: kernels.FIRST_DEVICE,
    Fact.DEVICE_PAYERS: kernels.FIRST_DEVICE,
    Fact.NEW_CITY: kernels.FIRST_CITY,
}
"""The first-pair flags a fact is made of (a device's payers count its first (device, payer)
pairs)."""


@dataclass(frozen=True)
class _StreamPlan:
    """One stream's pass: roles of its owner and counterpart, the roles it is queried by,
    the windows they read, where each (query, measure, window) value goes, and which extras
    its events carry."""

    owner: int
    counterpart: int
    query_roles: I64
    cols: I64
    windows: I64
    """The windows (µs) some query reads: a window no feature reads is not moved."""
    sums: bool
    distinct: bool
    maximum: bool
    first_row: int
    """Row of `_Run.firsts` that receives the stream's first-pair flags (-1: none)."""


@dataclass(frozen=True)
class _Plan:
    names: tuple[str, ...]
    """The features asked for, in catalogue order: the columns of each batch."""
    schema: pa.Schema
    int_row: dict[str, int]
    float_row: dict[str, int]
    """Rows of the integer and float output: the features asked for and those they are made
    of (a ratio's numerator and denominator)."""
    streams: tuple[_StreamPlan, ...]
    """The streams some feature reads: their windows, or their first pairs."""
    firsts: frozenset[int]
    """The rows of `_Run.firsts` some feature reads."""
    integers: I64
    ratios: I64
    """The single-value features with int and float values, as `kernels.scalar_pass` reads
    them (`_single_plan`)."""
    flag_facts: I64
    logins: I64
    """The login features, as `kernels.login_pass` reads them (`_login_plan`)."""
    ratios_of: I64
    """Per ratio: the rows of its numerator and denominator in the integer output, and its row
    of the float output."""


def wanted_columns(names: Collection[str] | None) -> tuple[str, ...]:
    """The feature names asked for (every feature when None), checked against the catalogue,
    in catalogue order: the columns of a batch that holds them."""
    if names is None:
        return tuple(feature_names())
    wanted = frozenset(names)
    unknown = sorted(wanted - set(feature_names()))
    if unknown:
        raise InvalidInput(f"no such feature: {', '.join(unknown)}", field="wanted")
    if not wanted:
        raise InvalidInput("ask for at least one feature", field="wanted")
    return tuple(name for name in feature_names() if name in wanted)


@cache
def _plan(names: tuple[str, ...]) -> _Plan:
    """The passes that make the features `names` (`wanted_columns`) and nothing else."""
    wanted = frozenset(names)
    ratios = [r for r in RATIOS if r.feature.name in wanted]
    made = wanted | {name for r in ratios for name in (r.numerator, r.denominator)}
    int_names = [f.name for f in catalogue() if not f.is_float and f.name in made]
    float_names = [f.name for f in catalogue() if f.is_float and f.name in made]
    int_row = {name: i for i, name in enumerate(int_names)}
    float_row = {name: i for i, name in enumerate(float_names)}
    singles = [single for single in SINGLES if single.feature.name in made]
    firsts = frozenset(_FIRST_OF[s.fact] for s in singles if s.fact in _FIRST_OF)
    streams = (_stream_plan(spec, int_row, firsts) for spec in STREAMS)
    logins = [row for row in LOGIN_FEATURES if row.feature.name in made]
    return _Plan(
        names=names,
        schema=pa.schema([bulk_schema().field(name) for name in names]),
        int_row=int_row,
        float_row=float_row,
        streams=tuple(stream for stream in streams if stream is not None),
        firsts=firsts,
        integers=_single_plan([s for s in singles if not s.feature.is_float], int_row),
        ratios=_single_plan([s for s in singles if s.feature.is_float], float_row),
        flag_facts=np.array([flag.fact for flag in FLAGS], dtype=np.int64),
        logins=_login_plan(logins, int_row),
        ratios_of=np.array(
            [
                (int_row[r.numerator], int_row[r.denominator], float_row[r.feature.name])
                for r in ratios
            ],
            dtype=np.int64,
        ).reshape(len(ratios), 3),
    )


def _stream_plan(
    spec: StreamSpec, int_row: dict[str, int], firsts: frozenset[int]
) -> _StreamPlan | None:
    """The pass of one stream for the features of `int_row` (None: it has none to make, nor
    first pairs of `firsts` to lay out)."""
    read = {
        (aggregate, measure, window): int_row[name]
        for aggregate in AGGREGATES
        if aggregate.stream is spec.stream
        for measure in aggregate.measures
        for window in WINDOWS
        if (name := aggregate_feature(aggregate, measure, window).name) in int_row
    }
    queries = list(dict.fromkeys(aggregate for aggregate, _, _ in read))
    windows = [window for window in WINDOWS if any(w is window for _, _, w in read)]
    first_row = _FIRSTS.get(spec.stream, -1)
    if first_row not in firsts:
        first_row = -1
    if not read and first_row < 0:
        return None
    cols = np.full((len(queries), len(Measure), len(windows)), -1, dtype=np.int64)
    for (aggregate, measure, window), row in read.items():
        cols[queries.index(aggregate), measure, windows.index(window)] = row
    measures = {measure for _, measure, _ in read}
    return _StreamPlan(
        owner=int(spec.owner),
        counterpart=int(spec.counterpart),
        query_roles=np.array([int(a.key) for a in queries], dtype=np.int64),
        cols=cols,
        windows=np.array([w.micros for w in windows], dtype=np.int64),
        sums=Measure.SUM in measures,
        distinct=Measure.DISTINCT in measures,
        maximum=Measure.MAX in measures,
        first_row=first_row,
    )


def _login_plan(rows: list[LoginFeature], int_row: dict[str, int]) -> I64:
    plan = np.empty((len(rows), 6), dtype=np.int64)
    for k, row in enumerate(rows):
        assert row.feature.role is not None
        plan[k, kernels.LOGIN_OUT_ROW] = int_row[row.feature.name]
        plan[k, kernels.LOGIN_WHO] = int(row.feature.role)
        plan[k, kernels.LOGIN_SIGNAL] = int(row.signal)
        plan[k, kernels.LOGIN_MEASURE] = int(row.measure)
        plan[k, kernels.LOGIN_WINDOW] = row.window.micros if row.window is not None else 0
        plan[k, kernels.LOGIN_ABSENT] = LOGIN_ABSENT[row.measure]
    return plan


def _single_plan(singles: list[Single], out_row: dict[str, int]) -> I64:
    """The kernel's plan of some single-value features (columns OUT_ROW … ABSENT)."""
    plan = np.empty((len(singles), 5), dtype=np.int64)
    for s, single in enumerate(singles):
        feature = single.feature
        who = kernels.TRANSACTION if feature.role is None else int(feature.role)
        plan[s, kernels.OUT_ROW] = out_row[feature.name]
        plan[s, kernels.WHO] = who
        plan[s, kernels.SLOT] = kernels.fact_slot(who, single.fact)
        plan[s, kernels.FORMULA] = single.formula
        plan[s, kernels.ABSENT] = single.absent
    return plan


def bulk_schema() -> pa.Schema:
    """Schema of the bulk table: one int64 or float64 column per feature, catalogue order."""
    return pa.schema([(f.name, pa.float64() if f.is_float else pa.int64()) for f in catalogue()])


def _aligned(dtype: type[np.int32] | type[np.int64], n: int, width: int) -> npt.NDArray[Any]:
    """An n × width matrix starting on a 64-byte cache line (numpy aligns to 16 bytes only),
    so rows of 64 bytes sit on one line each."""
    size = np.dtype(dtype).itemsize
    flat = np.empty(n * width + 64 // size, dtype=dtype)
    skip = (-flat.ctypes.data % 64) // size
    return flat[skip : skip + n * width].reshape(n, width)


def _pooled(shape: tuple[int, int], dtype: type[np.int64] | type[np.float64]) -> npt.NDArray[Any]:
    """An array in Arrow's memory pool, which keeps what is freed for the next request: a
    batch's output goes back to the pool when the batch is dropped, and a later batch's is the
    same memory rather than fresh pages, which the system zeroes at a cost near the kernels'."""
    size = shape[0] * shape[1] * np.dtype(dtype).itemsize
    return np.frombuffer(pa.allocate_buffer(size), dtype=dtype).reshape(shape)


def _account_rows(enc: Encoded, directory: AccountDirectory) -> I64:
    """One cache line per account: balance and last activity (state), then directory facts."""
    rows: I64 = _aligned(np.int64, enc.n_entities[Role.PAYER], 8)
    rows[:] = 0
    rows[:, kernels.LAST_SEEN] = NEVER
    rows[:, kernels.OPENED] = NEVER
    rows[:, kernels.CLASS] = -1
    rows[:, kernels.PARTY] = -1
    known = np.flatnonzero(enc.account_row >= 0)
    row = enc.account_row[known]
    rows[known, kernels.BALANCE] = directory.opening_balance[row]
    rows[known, kernels.LAST_SEEN] = directory.last_active_us[row]
    rows[known, kernels.OPENED] = directory.opened_us[row]
    rows[known, kernels.CLASS] = directory.account_class[row]
    rows[known, kernels.PARTY] = directory.party_of[row]
    return rows


def _party_rows(directory: AccountDirectory) -> I64:
    rows: I64 = _aligned(np.int64, len(directory.party_birth), 4)
    rows[:, kernels.BIRTH] = directory.party_birth
    rows[:, kernels.PHONES] = directory.party_phone_parties
    rows[:, kernels.FIRST_ACCOUNT] = directory.party_start[:-1]
    rows[:, kernels.END_ACCOUNT] = directory.party_start[1:]
    return rows


class _Stream:
    """The laid-out events and the per-owner window rows of one stream."""

    def __init__(self, plan: _StreamPlan, enc: Encoded) -> None:
        self.plan = plan
        self.owner = enc.roles[plan.owner]
        self.n_owner = enc.n_entities[plan.owner]
        m = int(np.count_nonzero(self.owner >= 0))
        self.starts = np.zeros(self.n_owner + 1, dtype=np.int64)
        paired = plan.distinct or plan.first_row >= 0
        width, self.links = kernels.evt_layout(plan.sums, paired, plan.maximum)
        self.evt = np.empty((m + 1, width), np.int64)
        self.ent = np.empty((0, 0), dtype=np.int32)

    def lay_out(self, enc: Encoded, firsts: I8) -> None:
        plan = self.plan
        kernels.layout_stream(
            self.owner,
            enc.roles[plan.counterpart],
            enc.ts,
            enc.amount,
            self.n_owner,
            enc.n_entities[plan.counterpart],
            self.starts,
            self.evt,
            self.links,
            firsts[plan.first_row] if plan.first_row >= 0 else np.zeros(0, np.int8),
        )
        nw = len(plan.windows)
        ent = _aligned(np.int32, self.n_owner, kernels.row_width(nw))
        ent[:, :nw] = self.starts[:-1, None]
        ent[:, nw : 2 * nw] = 0
        ent[:, 2 * nw : 3 * nw] = -1
        ent[:, 3 * nw] = self.starts[:-1]
        self.ent = ent


class _Run:
    """The state of one columnar pass over one encoded history."""

    def __init__(
        self, plan: _Plan, enc: Encoded, directory: AccountDirectory, logins: LoginIndex
    ) -> None:
        self.plan = plan
        self.enc = enc
        self.directory = directory
        self.logins = logins
        self.streams = [_Stream(sp, enc) for sp in plan.streams]
        self.firsts = np.zeros((len(kernels.FIRST_ROWS), len(enc)), dtype=np.int8)
        self.account = _account_rows(enc, directory)
        self.party = _party_rows(directory)
        self.device_accounts = np.zeros((enc.n_entities[Role.DEVICE], 1), dtype=np.int64)

    def lay_out(self, pool: ThreadPoolExecutor) -> None:
        enc = self.enc
        n = enc.n_entities
        jobs = [pool.submit(stream.lay_out, enc, self.firsts) for stream in self.streams]
        if kernels.FIRST_CITY in self.plan.firsts:
            city = (
                enc.roles[Role.PAYER],
                enc.city,
                n[Role.PAYER],
                enc.n_cities,
                self.firsts[kernels.FIRST_CITY],
            )
            jobs.append(pool.submit(kernels.first_pairs, *city))
        for job in jobs:
            job.result()

    def chunk(self, pool: ThreadPoolExecutor, start: int, stop: int) -> pa.RecordBatch:
        plan = self.plan
        enc = self.enc
        d = self.directory
        rows = stop - start
        out = _pooled((len(plan.int_row), rows), np.int64)
        out_float = _pooled((len(plan.float_row), rows), np.float64)
        jobs = [
            pool.submit(
                kernels.stream_pass,
                start,
                stop,
                enc.ts,
                enc.roles,
                s.plan.owner,
                s.plan.query_roles,
                s.plan.cols,
                s.plan.windows,
                s.evt,
                s.links,
                s.starts,
                s.ent,
                out,
            )
            for s in self.streams
            # A stream laid out for its first pairs alone has no window to move.
            if len(s.plan.query_roles)
        ]
        if len(plan.integers) or len(plan.ratios):
            jobs.append(
                pool.submit(
                    kernels.scalar_pass,
                    start,
                    stop,
                    enc.ts,
                    enc.amount,
                    enc.roles,
                    enc.flags,
                    plan.flag_facts,
                    self.firsts,
                    self.account,
                    self.party,
                    d.party_opened,
                    d.party_banks,
                    self.device_accounts,
                    plan.integers,
                    plan.ratios,
                    out,
                    out_float,
                )
            )
        if len(plan.logins):
            jobs.append(
                pool.submit(
                    kernels.login_pass,
                    start,
                    stop,
                    enc.ts,
                    enc.roles,
                    plan.logins,
                    self.logins.starts,
                    self.logins.times,
                    out,
                )
            )
        for job in jobs:
            job.result()
        kernels.ratio_pass(plan.ratios_of, out, out_float)
        columns = [
            pa.array(out_float[plan.float_row[name]])
            if name in plan.float_row
            else pa.array(out[plan.int_row[name]])
            for name in plan.names
        ]
        return pa.RecordBatch.from_arrays(columns, schema=plan.schema)


def iter_bulk(
    table: TableLike,
    accounts: AccountDirectory | None = None,
    *,
    logins: pa.Table | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int | None = None,
    encoded: Encoded | None = None,
    wanted: Collection[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Feature batches of a transactions table sorted by time, in table order.

    Each batch holds the next `batch_rows` transactions; only one batch of output is alive
    at a time unless the caller keeps them. `logins` are the accounts' login events (the
    columns of logins.parquet, in any order); without them no account has logged in.
    `encoded` is `encode(table, accounts)` when the caller made it already (replay reads the
    codes too), so the table is encoded once. `wanted` names the features to compute (every
    feature when None): the batches hold those columns, in catalogue order, and only the
    passes, windows and measures they read are run.
    """
    if batch_rows <= 0:
        raise InvalidInput("batch size must be positive", field="batch_rows")
    plan = _plan(wanted_columns(wanted))
    directory = accounts if accounts is not None else AccountDirectory.empty()
    enc = encoded if encoded is not None else encode(table, directory)
    index = (
        login_index(enc, logins)
        if logins is not None and len(plan.logins)
        else LoginIndex.empty(enc.n_entities[Role.PAYER])
    )
    run = _Run(plan, enc, directory, index)
    with ThreadPoolExecutor(
        max_workers=workers or min(os.cpu_count() or 1, len(STREAMS) + 1)
    ) as pool:
        run.lay_out(pool)
        for start in range(0, len(enc), batch_rows):
            yield run.chunk(pool, start, min(start + batch_rows, len(enc)))


def compute_bulk(
    table: TableLike,
    accounts: AccountDirectory | None = None,
    *,
    logins: pa.Table | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int | None = None,
) -> pa.Table:
    """Every feature of every transaction: one column per feature (`column_names()` order),
    one row per transaction in table order. The table must be sorted by `ts` (ties in file
    order); `logins` as `iter_bulk` takes them. Needs about 8 bytes × features × rows for the
    result; use `iter_bulk` to stream.
    """
    batches = list(
        iter_bulk(table, accounts, logins=logins, batch_rows=batch_rows, workers=workers)
    )
    return pa.Table.from_batches(batches, schema=bulk_schema())
