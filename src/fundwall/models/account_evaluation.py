"""The time-split evaluation of the accounts model, trained exactly as `fundwall train
--target accounts` trains it (`fundwall.models.training.train_accounts_region`).

1. cut at `cut_share` of the region's time (first to last transaction);
2. train at the cut (`fundwall.models.account_protocol`: positives and seeds are the mules
   known at the cut);
3. evaluate on the features over the whole history with the same seeds (never a label from
   after the cut), on the accounts active at or after the cut, against `is_mule`.

`time_split` gives the model and its figures; `flagged_before_fraud` asks of a split how many
mules it flags before their first fraud inflow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow.compute as pc

from fundwall.engine.backtest.ranking import average_precision
from fundwall.engine.models.artifact import Model
from fundwall.models.account_features import AccountInputs, account_features
from fundwall.models.account_history import micros
from fundwall.models.account_protocol import (
    active_from,
    cut_at,
    is_in,
    mules_before,
    mules_of,
)
from fundwall.models.scores import model_matrix, probabilities_of
from fundwall.models.training import train_accounts_region
from fundwall.region import read_table

FLAG_SHARE: Final = 0.01
"""The share of accounts a model's review threshold flags."""


@dataclass(frozen=True, eq=False)
class TimeSplit:
    """A model trained at the cut and how it did on the whole history."""

    model: Model
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
    model = train_accounts_region(folder, until=datetime.fromtimestamp(cut / 1e6, UTC))
    clock = time.perf_counter()
    test = account_features(inputs, seeds=seeds)
    test_seconds = time.perf_counter() - clock
    mule = is_in(test["account_no"], mules_of(labels))
    active = is_in(test["account_no"], active_from(inputs.transactions, cut))
    score = probabilities_of(model, model_matrix(test, model))
    unseeded = active & ~is_in(test["account_no"], seeds)
    metrics = {
        "cut": cut,
        "train_accounts": model.card.rows,
        "train_positives": model.card.positives,
        "rounds": model.card.params["rounds"],
        "test_accounts": int(active.sum()),
        "test_mules": int((mule & active).sum()),
        "pr_auc": average_precision(score[active], mule[active]),
        "unseeded_mules": int((mule & unseeded).sum()),
        "pr_auc_unseeded": average_precision(score[unseeded], mule[unseeded]),
        "features_seconds_test": round(test_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }
    threshold = float(np.quantile(score, 1 - FLAG_SHARE, method="higher"))
    return TimeSplit(model, cut, frozenset(seeds), threshold, metrics)


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
        scores = probabilities_of(split.model, model_matrix(features, split.model))
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
