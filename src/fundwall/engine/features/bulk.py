"""The columnar form: every feature of a whole history, one column per feature.

`iter_bulk` encodes the table once, links each stream's pairs, then walks the history in
chunks: per chunk the five stream passes and the single-value pass run side by side on a
thread pool (the kernels release the GIL), and the chunk becomes one Arrow record batch. State
carries over between chunks, so memory holds one chunk of output at a time; `compute_bulk`
collects the batches into one table. The passes are planned from the catalogue's tables
(`AGGREGATES` × `WINDOWS`, `SINGLES`), the same declarations the online form loops over.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import kernels
from fundwall.engine.features.catalog import (
    AGGREGATES,
    SINGLES,
    STREAMS,
    WINDOWS,
    Measure,
    Role,
    aggregate_feature,
    catalogue,
    stream_measures,
)
from fundwall.engine.features.directory import NEVER, AccountDirectory
from fundwall.engine.features.encode import Encoded, TableLike, encode

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

DEFAULT_BATCH_ROWS: Final = 1 << 16


@dataclass(frozen=True)
class _StreamPlan:
    owner: int
    counterpart: int
    query_roles: I64
    cols: I64
    distinct: bool
    maximum: bool


@dataclass(frozen=True)
class _Plan:
    int_row: dict[str, int]
    float_row: dict[str, int]
    streams: tuple[_StreamPlan, ...]
    single_cols: I64
    share_col: int
    windows: I64


@cache
def _plan() -> _Plan:
    int_names = [f.name for f in catalogue() if not f.is_float]
    float_names = [f.name for f in catalogue() if f.is_float]
    int_row = {name: i for i, name in enumerate(int_names)}
    float_row = {name: i for i, name in enumerate(float_names)}
    streams = []
    for spec in STREAMS:
        queries = [a for a in AGGREGATES if a.stream is spec.stream]
        cols = np.full((len(queries), len(Measure), len(WINDOWS)), -1, dtype=np.int64)
        for q, aggregate in enumerate(queries):
            for measure in aggregate.measures:
                for w, window in enumerate(WINDOWS):
                    cols[q, measure, w] = int_row[
                        aggregate_feature(aggregate, measure, window).name
                    ]
        streams.append(
            _StreamPlan(
                owner=int(spec.owner),
                counterpart=int(spec.counterpart),
                query_roles=np.array([int(a.key) for a in queries], dtype=np.int64),
                cols=cols,
                distinct=Measure.DISTINCT in stream_measures(spec.stream),
                maximum=Measure.MAX in stream_measures(spec.stream),
            )
        )
    singles = [int_row.get(f.name, -1) for f in SINGLES]
    return _Plan(
        int_row=int_row,
        float_row=float_row,
        streams=tuple(streams),
        single_cols=np.array(singles, dtype=np.int64),
        share_col=float_row["balance_share"],
        windows=np.array([w.micros for w in WINDOWS], dtype=np.int64),
    )


def bulk_schema() -> pa.Schema:
    """Schema of the bulk table: one int64 or float64 column per feature, catalogue order."""
    return pa.schema([(f.name, pa.float64() if f.is_float else pa.int64()) for f in catalogue()])


def _aligned_rows(n: int, width: int) -> I32:
    """An int32 matrix whose rows start on 64-byte cache lines (numpy aligns to 16 only)."""
    flat = np.empty(n * width + 16, dtype=np.int32)
    skip = (-flat.ctypes.data % 64) // 4
    return flat[skip : skip + n * width].reshape(n, width)


class _Stream:
    """The laid-out events and the per-owner window rows of one stream."""

    def __init__(self, plan: _StreamPlan, enc: Encoded) -> None:
        self.plan = plan
        self.owner = enc.roles[plan.owner]
        self.n_owner = enc.n_entities[plan.owner]
        m = int(np.count_nonzero(self.owner >= 0))
        self.starts = np.zeros(self.n_owner + 1, dtype=np.int64)
        self.evt = np.empty((m + 1, kernels.evt_width(plan.distinct, plan.maximum)), np.int64)
        self.ent = np.empty((0, 0), dtype=np.int32)

    def lay_out(self, enc: Encoded) -> None:
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
        )
        nw = len(WINDOWS)
        ent = _aligned_rows(self.n_owner, kernels.row_width(nw))
        ent[:, :nw] = self.starts[:-1, None]
        ent[:, nw : 2 * nw] = 0
        ent[:, 2 * nw : 3 * nw] = -1
        ent[:, 3 * nw] = self.starts[:-1]
        self.ent = ent


class _Run:
    """The state of one columnar pass over one encoded history."""

    def __init__(self, enc: Encoded, directory: AccountDirectory) -> None:
        self.enc = enc
        self.directory = directory
        self.streams = [_Stream(sp, enc) for sp in _plan().streams]
        self.firsts = np.zeros((3, len(enc)), dtype=np.int8)
        n_accounts = enc.n_entities[Role.PAYER]
        self.balance = np.zeros(n_accounts, dtype=np.int64)
        known = enc.account_row >= 0
        self.balance[known] = directory.opening_balance[enc.account_row[known]]
        self.last_seen = np.full(n_accounts, NEVER, dtype=np.int64)
        self.last_seen[known] = directory.last_active_us[enc.account_row[known]]
        self.device_accounts = np.zeros(enc.n_entities[Role.DEVICE], dtype=np.int64)

    def lay_out(self, pool: ThreadPoolExecutor) -> None:
        enc = self.enc
        n = enc.n_entities
        pairs = (
            (Role.PAYER, enc.roles[Role.PAYEE], n[Role.PAYEE]),
            (Role.DEVICE, enc.roles[Role.PAYER], n[Role.PAYER]),
            (Role.PAYER, enc.city, enc.n_cities),
        )
        jobs = [pool.submit(stream.lay_out, enc) for stream in self.streams]
        jobs += [
            pool.submit(kernels.first_pairs, enc.roles[owner], cp, n[owner], n_cp, first)
            for (owner, cp, n_cp), first in zip(pairs, self.firsts, strict=True)
        ]
        for job in jobs:
            job.result()

    def chunk(self, pool: ThreadPoolExecutor, start: int, stop: int) -> pa.RecordBatch:
        plan = _plan()
        enc = self.enc
        d = self.directory
        rows = stop - start
        out = np.empty((len(plan.int_row), rows), dtype=np.int64)
        out_float = np.empty((len(plan.float_row), rows), dtype=np.float64)
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
                plan.windows,
                s.evt,
                s.starts,
                s.ent,
                out,
            )
            for s in self.streams
        ]
        jobs.append(
            pool.submit(
                kernels.scalar_pass,
                start,
                stop,
                enc.ts,
                enc.amount,
                enc.roles,
                enc.flags,
                enc.account_row,
                d.account_class,
                d.opened_us,
                d.party_birth,
                d.party_phone_parties,
                d.party_start,
                d.party_opened,
                d.party_banks,
                self.firsts,
                self.balance,
                self.last_seen,
                self.device_accounts,
                plan.single_cols,
                plan.share_col,
                out,
                out_float,
            )
        )
        for job in jobs:
            job.result()
        columns = [
            pa.array(out_float[plan.float_row[f.name]] if f.is_float else out[plan.int_row[f.name]])
            for f in catalogue()
        ]
        return pa.RecordBatch.from_arrays(columns, schema=bulk_schema())


def iter_bulk(
    table: TableLike,
    accounts: AccountDirectory | None = None,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """Feature batches of a transactions table sorted by time, in table order.

    Each batch holds the next `batch_rows` transactions; only one batch of output is alive
    at a time unless the caller keeps them.
    """
    if batch_rows <= 0:
        raise InvalidInput("batch size must be positive", field="batch_rows")
    directory = accounts if accounts is not None else AccountDirectory.empty()
    enc = encode(table, directory)
    run = _Run(enc, directory)
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
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int | None = None,
) -> pa.Table:
    """Every feature of every transaction: one column per feature (`column_names()` order),
    one row per transaction in table order. The table must be sorted by `ts` (ties in file
    order). Needs about 8 bytes × features × rows for the result; use `iter_bulk` to stream.
    """
    batches = list(iter_bulk(table, accounts, batch_rows=batch_rows, workers=workers))
    return pa.Table.from_batches(batches, schema=bulk_schema())
