"""Train and evaluate an account (mule) model under the time-split protocol.

The protocol, on a region whose labels say when each mule's fraud started (`mule_since`):

1. cut at `cut_share` of the region's time (first to last transaction);
2. train on the features at the cut (`until_us = cut`): positives are the mules whose fraud
   started before the cut, and the same accounts are the seeds; a mule whose fraud starts
   after the cut, or whose start is unknown, is not known at the cut and counts as negative;
3. evaluate on the features over the whole history with the same seeds (never a label from
   after the cut), on the accounts active at or after the cut, against `is_mule`.

`train_accounts` (features and labels in, booster out) and `score_accounts` are the pieces a
training command builds on; `evaluate_accounts` runs the whole protocol on a region folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.engine.backtest.ranking import average_precision
from fundwall.models.account_features import (
    AccountInputs,
    account_feature_names,
    account_features,
    feature_matrix,
)
from fundwall.models.account_history import micros
from fundwall.region import read_table

PARAMS: Final[dict[str, Any]] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "num_threads": 2,
    "verbosity": -1,
}
"""LightGBM's usual settings for a few tens of thousands of rows; not tuned to any region."""
ROUNDS: Final = 300
FLAG_SHARE: Final = 0.01
"""The share of accounts a model's review threshold flags."""


def train_accounts(
    features: pa.Table, positive: npt.NDArray[np.bool_], *, rounds: int = ROUNDS
) -> lgb.Booster:
    """A binary LightGBM model of `positive` on the feature table's columns."""
    data = lgb.Dataset(
        feature_matrix(features),
        label=positive.astype(np.float64),
        feature_name=list(account_feature_names()),
        free_raw_data=True,
    )
    return lgb.train(PARAMS, data, num_boost_round=rounds)


def score_accounts(booster: lgb.Booster, features: pa.Table) -> npt.NDArray[np.float64]:
    """The model's probability per row of the feature table."""
    return np.asarray(booster.predict(feature_matrix(features)), np.float64)


def cut_at(transactions: pa.Table, share: float) -> int:
    """The moment `share` of the way from the first to the last transaction, µs."""
    ts = micros(transactions["ts"], "ts")
    return int(ts.min() + share * (ts.max() - ts.min()))


def mules_before(labels: pa.Table, moment: int) -> set[str]:
    """Accounts labelled mules whose fraud started before `moment` (known at that moment).

    A mule label without a start (`mule_since` null: a public data set's flag on the account,
    e.g. AMLSim's `isSAR` on an account no dated laundering touches) is the account's for the
    whole period, so it is known at any moment: the data says the account is fraudulent and
    gives no time at which it became so. docs/models.md gives the figures of the stricter
    reading as well."""
    since = labels["mule_since"]
    started = pc.fill_null(pc.less(since.cast(pa.int64()), moment), True)
    known = pc.and_(pc.fill_null(labels["is_mule"], False), started)
    return set(labels["account_no"].filter(known).to_pylist())


def active_from(transactions: pa.Table, moment: int) -> set[str]:
    """Accounts paying or paid at or after `moment`."""
    later = transactions.filter(pa.array(micros(transactions["ts"], "ts") >= moment))
    ends = pa.chunked_array(
        [*later["payer_account"].chunks, *later["payee_account"].chunks], pa.string()
    )
    return set(pc.unique(ends.drop_null()).to_pylist())


def is_in(accounts: pa.Array | pa.ChunkedArray, names: set[str]) -> npt.NDArray[np.bool_]:
    found = pc.is_in(accounts, value_set=pa.array(sorted(names), pa.string()))
    return np.asarray(found.to_numpy(zero_copy_only=False), np.bool_)


def training_set(
    inputs: AccountInputs, labels: pa.Table, cut: int
) -> tuple[pa.Table, npt.NDArray[np.bool_]]:
    """Every account at the cut, positive when its fraud started before it; those mules are
    the seeds, so nothing after the cut is read."""
    seeds = mules_before(labels, cut)
    features = account_features(inputs, until_us=cut, seeds=seeds)
    return features, is_in(features["account_no"], seeds)


@dataclass(frozen=True, eq=False)
class TimeSplit:
    """A model trained at the cut and how it did on the whole history."""

    booster: lgb.Booster
    cut: int
    seeds: frozenset[str]
    threshold: float
    """The score that flags `FLAG_SHARE` of the accounts on the whole history."""
    metrics: dict[str, Any]


def time_split(folder: Path, cut_share: float = 0.7) -> TimeSplit:
    """Run the time-split protocol on a region folder."""
    started = time.perf_counter()
    inputs = AccountInputs.from_region(folder)
    labels = read_table(folder, "account_labels")
    cut = cut_at(inputs.transactions, cut_share)
    seeds = mules_before(labels, cut)
    clock = time.perf_counter()
    train, positive = training_set(inputs, labels, cut)
    train_seconds = time.perf_counter() - clock
    booster = train_accounts(train, positive)
    clock = time.perf_counter()
    test = account_features(inputs, seeds=seeds)
    test_seconds = time.perf_counter() - clock
    mule = is_in(test["account_no"], mules_of(labels))
    active = is_in(test["account_no"], active_from(inputs.transactions, cut))
    score = score_accounts(booster, test)
    unseeded = active & ~is_in(test["account_no"], seeds)
    importance = booster.feature_importance("gain")
    names = account_feature_names()
    metrics = {
        "cut": cut,
        "train_accounts": int(train.num_rows),
        "train_positives": int(positive.sum()),
        "test_accounts": int(active.sum()),
        "test_mules": int((mule & active).sum()),
        "pr_auc": average_precision(score[active], mule[active]),
        "unseeded_mules": int((mule & unseeded).sum()),
        "pr_auc_unseeded": average_precision(score[unseeded], mule[unseeded]),
        "features_seconds_train": round(train_seconds, 2),
        "features_seconds_test": round(test_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
        "top_features": [
            (names[i], round(float(importance[i]), 1)) for i in np.argsort(importance)[::-1][:10]
        ],
    }
    threshold = float(np.quantile(score, 1 - FLAG_SHARE, method="higher"))
    return TimeSplit(booster, cut, frozenset(seeds), threshold, metrics)


def evaluate_accounts(folder: Path, cut_share: float = 0.7) -> dict[str, Any]:
    """The time-split protocol's figures on a region folder (`time_split`)."""
    return time_split(folder, cut_share).metrics


def flagged_before_fraud(folder: Path, split: TimeSplit, source: str = "sold") -> dict[str, Any]:
    """How many mules of `source` (account_labels.mule_source) the model flags before their
    first fraud inflow: each is scored on the features at its `mule_since` (seeds: the mules
    known by then, and never any after the cut) against the split's threshold; and how many
    rank among the top `FLAG_SHARE` of all accounts scored at that same moment."""
    inputs = AccountInputs.from_region(folder)
    labels = read_table(folder, "account_labels")
    chosen = labels.filter(
        pc.and_(
            pc.fill_null(pc.equal(labels["mule_source"], source), False),
            labels["mule_since"].is_valid(),
        )
    )
    flagged = top = held_out = held_out_flagged = 0
    for number, since in zip(
        chosen["account_no"].to_pylist(),
        micros(chosen["mule_since"], "mule_since").tolist(),
        strict=True,
    ):
        features = account_features(
            inputs, until_us=since, seeds=mules_before(labels, min(since, split.cut))
        )
        row = is_in(features["account_no"], {number})
        if not row.any():
            continue
        scores = score_accounts(split.booster, features)
        mine = float(scores[row][0])
        hit = mine >= split.threshold
        flagged += hit
        top += float(np.mean(scores > mine)) < FLAG_SHARE
        if since >= split.cut:
            held_out += 1
            held_out_flagged += hit
    return {
        "source": source,
        "mules": chosen.num_rows,
        "flagged": flagged,
        "share": flagged / chosen.num_rows if chosen.num_rows else None,
        "in_top_share_then": top,
        "after_cut": held_out,
        "after_cut_flagged": held_out_flagged,
        "threshold": split.threshold,
    }


def mules_of(labels: pa.Table) -> set[str]:
    return set(labels["account_no"].filter(pc.fill_null(labels["is_mule"], False)).to_pylist())
