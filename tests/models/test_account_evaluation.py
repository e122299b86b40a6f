"""The time-split protocol on a tiny region: labels known at the cut, figures in range."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fundwall.models.account_evaluation import flagged_before_fraud, time_split
from fundwall.models.account_features import AccountInputs, account_features
from fundwall.models.account_history import micros
from fundwall.models.account_protocol import (
    cut_at,
    early_views,
    mules_before,
    training_set,
)
from fundwall.region import read_table
from fundwall.sim.run import simulate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("experiment") / "tiny"
    simulate("tiny", 7, out)
    return out


def test_training_reads_only_what_is_known_at_the_cut(tiny: Path) -> None:
    inputs = AccountInputs.from_region(tiny)
    labels = read_table(tiny, "account_labels")
    cut = cut_at(inputs.transactions, 0.7)
    known = mules_before(labels, cut)
    since = dict(
        zip(
            labels["account_no"].to_pylist(),
            micros(labels["mule_since"], "mule_since").tolist(),
            strict=True,
        )
    )
    assert known and all(since[account] < cut for account in known)
    assert len(known) < pc.sum(labels["is_mule"]).as_py()  # some mules start after the cut
    features, positive = training_set(inputs, labels, cut)
    assert set(np.asarray(features["account_no"].to_pylist())[positive]) == known
    expected = account_features(inputs, until_us=cut, seeds=known)
    assert features.column_names == expected.column_names
    for name in features.column_names:
        np.testing.assert_array_equal(features[name].to_numpy(), expected[name].to_numpy())


def test_early_views_show_known_mules_as_they_were_before_their_fraud(tiny: Path) -> None:
    inputs = AccountInputs.from_region(tiny)
    labels = read_table(tiny, "account_labels")
    cut = cut_at(inputs.transactions, 0.7)
    views = early_views(inputs, labels, cut, days=2)
    assert views is not None
    table, positive = views
    assert positive.all() and table.num_rows == positive.size > 0
    assert set(table["account_no"].to_pylist()) <= mules_before(labels, cut)
    since = dict(
        zip(
            labels["account_no"].to_pylist(),
            micros(labels["mule_since"], "mule_since").tolist(),
            strict=True,
        )
    )
    day = 86_400_000_000
    for account in table["account_no"].to_pylist()[:3]:
        start = since[account] // day * day  # each as it stood when its first day began
        before = account_features(inputs, until_us=start, seeds=mules_before(labels, start))
        row = before.filter(pc.equal(before["account_no"], account))
        mine = table.filter(pc.equal(table["account_no"], account)).slice(0, 1)
        for name in table.column_names:  # NaN (unknown) equals NaN here
            np.testing.assert_array_equal(mine[name].to_numpy(), row[name].to_numpy())
    # without logins there is no takeover to see, and no early view
    no_logins = AccountInputs(inputs.transactions, inputs.accounts, inputs.parties, None)
    assert early_views(no_logins, labels, cut) is None


def test_a_mule_label_without_a_start_is_known_at_any_moment() -> None:
    labels = pa.table(
        {
            "account_no": ["DATED-EARLY", "DATED-LATE", "UNDATED", "ORDINARY"],
            "is_mule": [True, True, True, False],
            "mule_since": pa.array([100, 300, None, None], pa.timestamp("us", "UTC")),
        }
    )
    assert mules_before(labels, 200) == {"DATED-EARLY", "UNDATED"}
    assert mules_before(labels, 50) == {"UNDATED"}


def test_the_protocol_gives_its_figures(tiny: Path) -> None:
    split = time_split(tiny)
    metrics = split.metrics
    # the evaluation trains as `fundwall train --target accounts` does: one training
    assert metrics["pr_auc"] == split.model.card.metrics["holdout"]["pr_auc"]
    assert metrics["train_positives"] > 0 and metrics["test_mules"] > 0
    assert 0 < metrics["pr_auc"] <= 1
    assert metrics["test_accounts"] <= metrics["train_accounts"] + metrics["test_mules"]
    early = flagged_before_fraud(tiny, split, source="sold")
    labels = read_table(tiny, "account_labels")
    sold = pc.sum(pc.equal(labels["mule_source"], "sold")).as_py()
    assert early["mules"] == sold > 0
    assert 0 <= early["flagged"] <= sold
    assert early["after_cut_flagged"] <= early["after_cut"]
