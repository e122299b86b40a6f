"""Per-account flow features: how money comes in and goes out of each account, as of a moment.

Each transaction is an event of its payer (out) and of its payee (in). The events of one
account, in time order, give:

- aggregates (`_aggregates`, Polars): counts, sums, distinct counterparties, shares of round
  amounts, night and cash, active days, burstiness, the amounts' spread, the last 7 days
  against the account's own earlier rate;
- sequences (`_sequences`, one numba pass): money followed lot by lot, first in first out,
  from the opening balance on (the share of inflow forwarded, and forwarded within an hour of
  arriving), the minutes from an inflow to the next outflow (pass-through), counterparties
  never seen before (novelty) and the balance against its peak.

Choices: an amount is round when it is a whole hundred yuan (the unit scam scripts and cash
machines use); night is `NIGHT_HOURS` Beijing time, as in the transaction features; "recent"
is the last 7 days before the moment, the window of the engine's weekly aggregates. A share
whose denominator is empty (no inflow yet) is NaN, never 0; the FIFO features are NaN when the
opening balance is unknown, since the lots start from it.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
from numba import njit

from fundwall.engine.features.catalog import (
    LOCAL_OFFSET_US,
    NIGHT_HOURS,
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_MIN,
)
from fundwall.models.account_history import F64, I64, History, Mask

ROUND_FEN: Final = 100_00
"""A round amount is a whole multiple of ¥100."""
DRAIN_US: Final = US_PER_HOUR
"""Inflow forwarded within this long of arriving counts as drained at once."""
SMALL_PART: Final = 10
"""An amount is small for its account below a tenth of the account's median amount."""
RECENT_US: Final = 7 * US_PER_DAY
"""The recent window: the last 7 days before the moment."""
DAY_US: Final = US_PER_DAY
"""The last day before the moment: what a rented collection account shows on its first day
(many new payers, at every hour, nearly all of it sent on), against the account's own past."""


def _events(history: History) -> pl.DataFrame:
    """One row per account event, grouped by account and in time order within it."""
    tx = np.arange(history.ts.size, dtype=np.int64)
    out, into = history.payer >= 0, history.payee >= 0
    account = np.concatenate([history.payer[out], history.payee[into]])
    row = np.concatenate([tx[out], tx[into]])
    incoming = np.concatenate([np.zeros(out.sum(), np.bool_), np.ones(into.sum(), np.bool_)])
    counterpart = np.concatenate([history.payee[out], history.payer[into]])
    order = np.lexsort((incoming, row, account))
    ts = history.ts[row[order]]
    amount = history.amount[row[order]]
    local = ts + LOCAL_OFFSET_US
    return pl.DataFrame(
        {
            "account": account[order],
            "ts": ts,
            "amount": amount,
            "incoming": incoming[order],
            "counterpart": counterpart[order],
            "night": np.isin((local // US_PER_HOUR) % 24, np.asarray(NIGHT_HOURS)),
            "hour": (local // US_PER_HOUR) % 24,
            "round": amount % ROUND_FEN == 0,
            "day": local // US_PER_DAY,
        }
    )


def _aggregates(events: pl.DataFrame, moment: int) -> pl.DataFrame:
    recent_from = moment - RECENT_US
    day_from = moment - DAY_US
    inflow, outflow = pl.col("incoming"), ~pl.col("incoming")
    recent = pl.col("ts") >= recent_from
    today = pl.col("ts") >= day_from
    known = pl.col("counterpart") >= 0
    gaps = pl.col("ts").diff().drop_nulls().cast(pl.Float64)
    in_sum = pl.col("amount").filter(inflow).sum().cast(pl.Float64)
    out_sum = pl.col("amount").filter(outflow).sum().cast(pl.Float64)
    in_count = inflow.sum().cast(pl.Float64)
    out_count = outflow.sum().cast(pl.Float64)
    earlier_days = (recent_from - pl.col("ts").min()) / US_PER_DAY
    before_day = (day_from - pl.col("ts").min()) / US_PER_DAY
    in_day = pl.col("amount").filter(inflow & today).sum().cast(pl.Float64)
    out_day = pl.col("amount").filter(outflow & today).sum().cast(pl.Float64)
    return (
        events.group_by("account")
        .agg(
            in_count.alias("in_count"),
            out_count.alias("out_count"),
            in_sum.alias("in_amount"),
            out_sum.alias("out_amount"),
            pl.col("counterpart").filter(inflow & known).n_unique().alias("payers"),
            pl.col("counterpart").filter(outflow & known).n_unique().alias("payees"),
            (out_sum / in_sum).alias("out_in_ratio"),
            ((inflow & pl.col("round")).sum() / in_count).alias("round_in_share"),
            ((outflow & pl.col("round")).sum() / out_count).alias("round_out_share"),
            pl.col("night").mean().alias("night_share"),
            (pl.col("amount").filter(outflow & ~known).sum() / out_sum).alias("cash_out_share"),
            pl.col("day").n_unique().alias("active_days"),
            pl.col("day").unique_counts().max().alias("busiest_day_events"),
            (pl.col("day").unique_counts().max() / pl.len()).alias("busiest_day_share"),
            (pl.len() / pl.col("day").n_unique()).alias("events_per_active_day"),
            ((gaps.std(ddof=0) - gaps.mean()) / (gaps.std(ddof=0) + gaps.mean())).alias(
                "burstiness"
            ),
            pl.len().alias("events"),
            (pl.col("amount").std(ddof=0) / pl.col("amount").mean()).alias("amount_cv"),
            (pl.col("amount").min() / pl.col("amount").median()).alias("min_vs_median_amount"),
            (pl.col("amount") * SMALL_PART < pl.col("amount").median())
            .mean()
            .alias("small_amount_share"),
            (
                pl.col("amount").filter(inflow).max() / pl.col("amount").filter(inflow).median()
            ).alias("max_in_vs_median"),
            (inflow & recent).sum().alias("in_count_7d"),
            pl.col("counterpart").filter(inflow & recent & known).n_unique().alias("payers_7d"),
            pl.col("counterpart").filter(outflow & recent & known).n_unique().alias("payees_7d"),
            (pl.col("amount").filter(inflow & recent).sum() / in_sum).alias("in_amount_7d_share"),
            (~recent).sum().alias("earlier_events"),
            ((recent.sum() / (RECENT_US / US_PER_DAY)) / ((~recent).sum() / earlier_days)).alias(
                "recent_rate_vs_before"
            ),
            (inflow & today).sum().alias("in_count_1d"),
            pl.col("counterpart").filter(inflow & today & known).n_unique().alias("payers_1d"),
            pl.col("counterpart").filter(outflow & today & known).n_unique().alias("payees_1d"),
            pl.col("hour").filter(today).n_unique().alias("hours_1d"),
            (out_day / in_day).alias("out_in_ratio_1d"),
            (~today).sum().alias("events_before_day"),
            (today.sum() / ((~today).sum() / before_day)).alias("day_rate_vs_before"),
        )
        .with_columns(
            # Burstiness needs two gaps, a spread two amounts, a rate against the account's
            # own past some past; a ratio over nothing (no inflow yet) is unknown.
            pl.when(pl.col("events") >= 3).then(pl.col("burstiness")).alias("burstiness"),
            pl.when(pl.col("earlier_events") > 0)
            .then(pl.col("recent_rate_vs_before"))
            .alias("recent_rate_vs_before"),
            pl.when(pl.col("events") >= 2).then(pl.col("amount_cv")).alias("amount_cv"),
            pl.when(pl.col("in_amount") > 0).then(pl.col("out_in_ratio")).alias("out_in_ratio"),
            pl.when(pl.col("in_count_1d") > 0)
            .then(pl.col("out_in_ratio_1d"))
            .alias("out_in_ratio_1d"),
            pl.when(pl.col("events_before_day") > 0)
            .then(pl.col("day_rate_vs_before"))
            .alias("day_rate_vs_before"),
        )
        .join(_new_payers(events, day_from), on="account", how="left")
        .with_columns(pl.col("new_payers_1d").fill_null(0))
    )


def _new_payers(events: pl.DataFrame, since: int) -> pl.DataFrame:
    """Per account, the payers whose first payment to it came at or after `since`."""
    firsts = (
        events.filter(pl.col("incoming") & (pl.col("counterpart") >= 0))
        .group_by("account", "counterpart")
        .agg(pl.col("ts").min().alias("first"))
    )
    return firsts.group_by("account").agg((pl.col("first") >= since).sum().alias("new_payers_1d"))


@njit(cache=True)
def _sequences(
    start: I64,
    account: I64,
    ts: I64,
    amount: I64,
    incoming: Mask,
    counterpart: I64,
    opening: I64,
    recent_from: int,
    out: F64,
) -> None:
    """Fill `out` (7 × accounts): forwarded share, drained within DRAIN_US share, median and
    least minutes from an inflow to the next outflow, share of inflows from new payers, new
    payers in the recent window, balance over its peak."""
    n_events = ts.size
    seen = np.full(out.shape[1], -1, np.int64)
    lot_ts = np.empty(n_events + 1, np.int64)
    lot_left = np.empty(n_events + 1, np.int64)
    gaps = np.empty(n_events, np.float64)
    for k in range(start.size - 1):
        lo, hi = start[k], start[k + 1]
        if lo == hi:
            continue
        a = account[lo]
        balance = opening[a]
        known_opening = balance >= 0
        head, tail = 0, 0
        if balance > 0:
            lot_ts[0] = -1  # the opening balance: not an inflow of the period
            lot_left[0] = balance
            tail = 1
        peak = max(balance, 0)
        inflow_total, forwarded, drained = 0, 0, 0
        n_gaps, pending_from = 0, lo
        payers_in, new_in, new_recent = 0, 0, 0
        for i in range(lo, hi):
            c = counterpart[i]
            if incoming[i]:
                inflow_total += amount[i]
                lot_ts[tail] = ts[i]
                lot_left[tail] = amount[i]
                tail += 1
                balance += amount[i]
                if c >= 0:
                    payers_in += 1
                    if seen[c] != a:
                        new_in += 1
                        if ts[i] >= recent_from:
                            new_recent += 1
            else:
                balance -= amount[i]
                left = amount[i]
                while left > 0 and head < tail:
                    take = min(left, lot_left[head])
                    if lot_ts[head] >= 0:
                        forwarded += take
                        if ts[i] - lot_ts[head] <= DRAIN_US:
                            drained += take
                    lot_left[head] -= take
                    left -= take
                    if lot_left[head] == 0:
                        head += 1
                for j in range(pending_from, i):
                    if incoming[j]:
                        gaps[n_gaps] = (ts[i] - ts[j]) / US_PER_MIN
                        n_gaps += 1
                pending_from = i + 1
            if c >= 0:
                seen[c] = a
            peak = max(peak, balance)
        if known_opening and inflow_total > 0:
            out[0, a] = forwarded / inflow_total
            out[1, a] = drained / inflow_total
        if n_gaps > 0:
            out[2, a] = np.median(gaps[:n_gaps])
            out[3, a] = gaps[:n_gaps].min()
        if payers_in > 0:
            out[4, a] = new_in / payers_in
        out[5, a] = new_recent
        if known_opening and peak > 0:
            out[6, a] = balance / peak


SEQUENCE_FEATURES: Final = (
    "forwarded_share",
    "drained_1h_share",
    "pass_through_minutes_median",
    "pass_through_minutes_min",
    "new_payer_share",
    "new_payers_7d",
    "balance_vs_peak",
)
AGGREGATE_FEATURES: Final = (
    "in_count",
    "out_count",
    "in_amount",
    "out_amount",
    "payers",
    "payees",
    "out_in_ratio",
    "round_in_share",
    "round_out_share",
    "night_share",
    "cash_out_share",
    "active_days",
    "busiest_day_events",
    "busiest_day_share",
    "events_per_active_day",
    "burstiness",
    "amount_cv",
    "min_vs_median_amount",
    "small_amount_share",
    "max_in_vs_median",
    "in_count_7d",
    "payers_7d",
    "payees_7d",
    "in_amount_7d_share",
    "recent_rate_vs_before",
    "in_count_1d",
    "payers_1d",
    "new_payers_1d",
    "payees_1d",
    "hours_1d",
    "out_in_ratio_1d",
    "day_rate_vs_before",
)
COUNTS: Final = frozenset(
    {
        "in_count",
        "out_count",
        "in_amount",
        "out_amount",
        "payers",
        "payees",
        "active_days",
        "busiest_day_events",
        "in_count_7d",
        "payers_7d",
        "payees_7d",
        "new_payers_7d",
        "in_count_1d",
        "payers_1d",
        "new_payers_1d",
        "payees_1d",
        "hours_1d",
    }
)
"""Features that are 0, not unknown, for an account without events."""


def flow_features(history: History, opening_balance: I64) -> dict[str, np.ndarray]:
    """Every flow feature per account row; `opening_balance` is in fen, -1 where unknown."""
    n = len(history)
    events = _events(history)
    account = events["account"].to_numpy()
    start = np.r_[0, np.flatnonzero(np.diff(account)) + 1, account.size].astype(np.int64)
    sequences = np.full((len(SEQUENCE_FEATURES), n), np.nan)
    _sequences(
        start,
        account,
        events["ts"].to_numpy(),
        events["amount"].to_numpy(),
        events["incoming"].to_numpy(),
        events["counterpart"].to_numpy(),
        opening_balance,
        history.moment - RECENT_US,
        sequences,
    )
    values = dict(zip(SEQUENCE_FEATURES, sequences, strict=True))
    aggregates = _aggregates(events, history.moment)
    rows = aggregates["account"].to_numpy()
    for name in AGGREGATE_FEATURES:
        column = np.full(n, 0.0 if name in COUNTS else np.nan)
        column[rows] = aggregates[name].cast(pl.Float64).fill_nan(None).to_numpy()
        values[name] = column
    values["new_payers_7d"] = np.nan_to_num(values["new_payers_7d"], nan=0.0)
    return values
