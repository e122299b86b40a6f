"""Averaging forests: one LightGBM model whose scores and contributions are the members'."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from fundwall.engine.models.trees import CompiledTrees
from fundwall.models.forests import averaged

PARAMS = {
    "objective": "binary",
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "num_leaves": 7,
    "verbose": -1,
    "deterministic": True,
}


def _data(rows: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(rows, 4))
    values[rng.random(values.shape) < 0.05] = np.nan  # missing values take the default side
    labels = (np.nan_to_num(values[:, 0]) + rng.normal(scale=0.8, size=rows) > 1.0).astype(int)
    return values, labels


def _forests(count: int) -> list[lgb.Booster]:
    values, labels = _data()
    return [
        lgb.train({**PARAMS, "seed": seed}, lgb.Dataset(values, labels), 10 + 7 * seed)
        for seed in range(count)
    ]


def test_the_average_scores_and_explains_as_its_members_do() -> None:
    members = _forests(3)
    model = lgb.Booster(model_str=averaged([m.model_to_string() for m in members]))
    values, _ = _data()
    assert model.num_trees() == sum(m.num_trees() for m in members)
    mean_raw = np.mean([m.predict(values, raw_score=True) for m in members], axis=0)
    np.testing.assert_allclose(model.predict(values, raw_score=True), mean_raw, atol=1e-12)
    mean_contributions = np.mean([m.predict(values, pred_contrib=True) for m in members], axis=0)
    np.testing.assert_allclose(
        model.predict(values, pred_contrib=True), mean_contributions, atol=1e-12
    )
    compiled = CompiledTrees.from_model_string(model.model_to_string())
    np.testing.assert_allclose(compiled.raw_many(values), mean_raw, atol=1e-9)
    np.testing.assert_allclose(
        compiled.contributions_many(values[:50]), mean_contributions[:50], atol=1e-9
    )


def test_one_forest_is_itself() -> None:
    (member,) = _forests(1)
    text = member.model_to_string()
    assert averaged([text]) == text


def test_text_without_trees_is_refused() -> None:
    with pytest.raises(ValueError, match="not a LightGBM text model"):
        averaged(["tree\nversion=v4\n", "tree\nversion=v4\n"])
