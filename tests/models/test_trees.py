"""The compiled trees score as LightGBM does, and their contributions are LightGBM's TreeSHAP.

Every model here is trained on random data with the awkward values a bank's features have:
NaN, exact zeros, values within LightGBM's zero threshold, constant and integer-valued columns.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import lightgbm
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.engine.models.artifact import Model, ModelCard, ModelPolicy, Target
from fundwall.engine.models.trees import ZERO_THRESHOLD, CompiledTrees

F64 = npt.NDArray[np.float64]
RAW_TOLERANCE = 1e-9
CONTRIBUTION_TOLERANCE = 1e-7
TINY = (ZERO_THRESHOLD, -ZERO_THRESHOLD, 1e-36, -1e-36, np.nextafter(ZERO_THRESHOLD, 1.0))


def _features(rows: int, seed: int) -> F64:
    """Seven columns: normal with NaN, zeros and NaN, constant, integers 0..4, tiny values
    around zero, normal, mostly zero."""
    rng = np.random.default_rng(seed)
    x = np.empty((rows, 7))
    x[:, 0] = rng.normal(size=rows)
    x[rng.random(rows) < 0.15, 0] = np.nan
    x[:, 1] = rng.normal(size=rows)
    x[rng.random(rows) < 0.3, 1] = 0.0
    x[rng.random(rows) < 0.1, 1] = np.nan
    x[:, 2] = 3.0
    x[:, 3] = rng.integers(0, 5, rows)
    x[:, 4] = rng.choice([*TINY, 0.0, 0.5, -0.5], rows)
    x[:, 5] = rng.normal(size=rows)
    x[:, 6] = np.where(rng.random(rows) < 0.8, 0.0, rng.exponential(size=rows))
    return x


def _labels(x: F64, seed: int) -> F64:
    rng = np.random.default_rng(seed)
    signal = (
        np.nan_to_num(x[:, 0], nan=1.5)
        + np.where(x[:, 1] == 0.0, 1.0, np.nan_to_num(x[:, 1]))
        + 0.5 * x[:, 3]
        + np.where(x[:, 4] > 0, 0.8, -0.3)
        + x[:, 6]
    )
    return (signal + rng.logistic(size=x.shape[0]) > 1.0).astype(np.float64)


def _train(params: dict[str, Any], rounds: int = 25, seed: int = 1) -> lightgbm.Booster:
    x = _features(800, seed)
    y = _labels(x, seed)
    if params.get("objective") == "regression":
        y = y * 3.0 + np.nan_to_num(x[:, 5])
    settings = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": seed}
    return lightgbm.train({**settings, **params}, lightgbm.Dataset(x, y), num_boost_round=rounds)


def _probe() -> F64:
    """Rows the models have not seen, with every awkward value in every column."""
    x = _features(400, 99)
    x[::7] = np.nan
    x[1::7] = 0.0
    x[2::7] = -0.0
    x[3::7] = ZERO_THRESHOLD
    x[4::7] = -ZERO_THRESHOLD
    return x


SETTINGS = [
    {"num_leaves": 2},
    {"num_leaves": 7},
    {"num_leaves": 31},
    {"num_leaves": 63, "min_data_in_leaf": 2},
    {"num_leaves": 31, "max_depth": 3},
    {"num_leaves": 15, "use_missing": False},
    {"num_leaves": 15, "zero_as_missing": True},
    {"num_leaves": 15, "zero_as_missing": True, "use_missing": False},
    {"num_leaves": 20, "min_data_in_leaf": 80, "learning_rate": 0.3},
    {"num_leaves": 31, "bagging_fraction": 0.6, "bagging_freq": 1, "feature_fraction": 0.7},
    {"num_leaves": 31, "objective": "regression"},
    {"num_leaves": 10, "objective": "regression_l1"},
]


@cache
def _compiled(index: int) -> tuple[lightgbm.Booster, CompiledTrees]:
    booster = _train(SETTINGS[index])
    return booster, CompiledTrees.from_model_string(booster.model_to_string())


@pytest.mark.parametrize("index", range(len(SETTINGS)), ids=[str(s) for s in SETTINGS])
def test_scores_and_contributions_are_lightgbms(index: int) -> None:
    booster, trees = _compiled(index)
    x = _probe()
    expected = booster.predict(x, raw_score=True)
    expected_contributions = booster.predict(x, pred_contrib=True)

    assert np.max(np.abs(trees.raw_many(x) - expected)) <= RAW_TOLERANCE
    assert max(abs(trees.raw_one(row) - want) for row, want in zip(x, expected, strict=True)) <= (
        RAW_TOLERANCE
    )
    contributions = trees.contributions_many(x)
    assert contributions.shape == (x.shape[0], trees.n_features + 1)
    assert np.max(np.abs(contributions - expected_contributions)) <= CONTRIBUTION_TOLERANCE
    assert np.max(np.abs(trees.contributions_one(x[5]) - expected_contributions[5])) <= (
        CONTRIBUTION_TOLERANCE
    )
    assert np.max(np.abs(contributions.sum(axis=1) - expected)) <= CONTRIBUTION_TOLERANCE


def test_the_compiled_model_describes_itself() -> None:
    booster, trees = _compiled(2)
    assert trees.n_features == 7
    assert trees.feature_names == tuple(booster.feature_name())
    assert trees.n_trees == booster.num_trees() == 25
    # The constant column is never split on, so it never pushes a score.
    assert np.all(trees.contributions_many(_probe())[:, 2] == 0.0)


def _awkward_values(booster: lightgbm.Booster) -> list[list[float]]:
    """Per feature: each threshold and its neighbours, zeros of both signs, values around
    LightGBM's zero threshold, NaN and infinities."""
    thresholds: list[set[float]] = [set() for _ in range(booster.num_feature())]
    pending = [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
    while pending:
        node = pending.pop()
        if "split_feature" in node:
            thresholds[node["split_feature"]].add(float(node["threshold"]))
            pending.extend((node["left_child"], node["right_child"]))
    fixed = [0.0, -0.0, math.nan, math.inf, -math.inf, *TINY, 1.0, -1.0, 2.0, 4.0]
    values = []
    for found in thresholds:
        up = {float(np.nextafter(t, math.inf)) for t in found}
        down = {float(np.nextafter(t, -math.inf)) for t in found}
        values.append(sorted({*fixed, *found, *up, *down}, key=repr))
    return values


@cache
def _edge_model() -> tuple[lightgbm.Booster, CompiledTrees, list[list[float]]]:
    booster = _train({"num_leaves": 31, "min_data_in_leaf": 3}, rounds=40, seed=5)
    return (
        booster,
        CompiledTrees.from_model_string(booster.model_to_string()),
        (_awkward_values(booster)),
    )


@st.composite
def _edge_vectors(draw: st.DrawFn) -> list[float]:
    return [draw(st.sampled_from(values)) for values in _edge_model()[2]]


@settings(max_examples=150, deadline=None)
@given(st.lists(_edge_vectors(), min_size=1, max_size=8))
def test_values_on_thresholds_and_around_zero_go_where_lightgbm_sends_them(
    rows: list[list[float]],
) -> None:
    booster, trees, _ = _edge_model()
    x = np.array(rows, dtype=np.float64)
    expected = booster.predict(x, raw_score=True)
    assert abs(trees.raw_one(x[0]) - expected[0]) <= RAW_TOLERANCE
    assert np.max(np.abs(trees.raw_many(x) - expected)) <= RAW_TOLERANCE
    expected_contributions = booster.predict(x, pred_contrib=True)
    assert np.max(np.abs(trees.contributions_many(x) - expected_contributions)) <= (
        CONTRIBUTION_TOLERANCE
    )
    assert np.max(np.abs(trees.contributions_one(x[0]) - expected_contributions[0])) <= (
        CONTRIBUTION_TOLERANCE
    )


def test_a_model_of_one_leaf_scores_its_leaf_and_gives_it_all_to_the_bias() -> None:
    booster = _train({"num_leaves": 4, "min_data_in_leaf": 500})
    trees = CompiledTrees.from_model_string(booster.model_to_string())
    assert trees.n_trees == 1
    x = _probe()[:20]
    assert np.max(np.abs(trees.raw_many(x) - booster.predict(x, raw_score=True))) <= (RAW_TOLERANCE)
    contributions = trees.contributions_many(x)
    assert np.all(contributions[:, :-1] == 0.0)
    assert np.max(np.abs(contributions - booster.predict(x, pred_contrib=True))) <= (
        CONTRIBUTION_TOLERANCE
    )


def test_vectors_of_the_wrong_shape_are_refused() -> None:
    _, trees = _compiled(1)
    with pytest.raises(InvalidInput, match="expected 7 feature values") as refused:
        trees.raw_one([1.0, 2.0])
    assert refused.value.field == "vector"
    with pytest.raises(InvalidInput, match="expected rows of 7 feature values"):
        trees.contributions_many(np.zeros((3, 6)))
    with pytest.raises(InvalidInput, match="expected rows of 7"):
        trees.raw_many(np.zeros(7))


def _refusal(booster: lightgbm.Booster) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        CompiledTrees.from_model_string(booster.model_to_string())
    return refused.value


def test_a_model_with_categorical_splits_is_refused() -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.integers(0, 10, 600), rng.normal(size=600)])
    y = np.isin(x[:, 0], [2, 5, 7]).astype(np.float64)
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1, "min_data_per_group": 5},
        lightgbm.Dataset(x, y, categorical_feature=[0]),
        num_boost_round=3,
    )
    refused = _refusal(booster)
    assert "categorical splits are not supported" in refused.reason
    assert (refused.field, refused.record) == ("decision_type", "tree 0")


def test_a_multiclass_model_is_refused() -> None:
    x = _features(300, 4)
    y = np.random.default_rng(4).integers(0, 3, 300)
    booster = lightgbm.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1, "num_threads": 1},
        lightgbm.Dataset(x, y),
        num_boost_round=2,
    )
    refused = _refusal(booster)
    assert "multiclass model (3 classes) is not supported" in refused.reason
    assert refused.field == "num_class"


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"linear_tree": True, "objective": "regression"}, "is_linear", "linear trees"),
        (
            {"boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.5},
            "average_output",
            "random forest",
        ),
        ({"sigmoid": 2.0}, "objective", "sigmoid:2"),
        ({"objective": "poisson"}, "objective", "'poisson' is not supported"),
    ],
    ids=["linear", "random-forest", "sigmoid", "poisson"],
)
def test_models_scored_otherwise_are_refused(
    params: dict[str, Any], field: str, words: str
) -> None:
    refused = _refusal(_train({"num_leaves": 4, **params}, rounds=2))
    assert words in refused.reason
    assert refused.field == field


def test_text_lightgbm_cannot_read_is_refused() -> None:
    with pytest.raises(InvalidInput, match="LightGBM cannot read this model"):
        CompiledTrees.from_model_string("tree\nversion=v4\nTree=0\nnum_leaves=oops\n")


def test_a_model_compiles_its_trees_once_on_first_use() -> None:
    booster, _ = _compiled(1)
    names = tuple(booster.feature_name())
    card = ModelCard(
        target=Target.TRANSACTIONS, features=names, trained_at="2026-01-01T00:00:00Z",
        region="r7", fingerprint="0" * 64, until=None, rows=800, positives=300, params={},
        metrics={}, policy=ModelPolicy(), purpose={}, limits={},
    )  # fmt: skip
    model = Model.from_parts(booster.model_to_string(), card)
    assert model.trees is model.trees
    assert model.trees.feature_names == names
    row = _probe()[:1]
    assert abs(model.trees.raw_one(row[0]) - booster.predict(row, raw_score=True)[0]) <= (
        RAW_TOLERANCE
    )


@pytest.mark.parametrize(("depth", "leaves"), [(3, 8), (6, 15), (6, 31)])
def test_leaf_tables_give_exactly_the_treeshap_of_algorithm_2(depth: int, leaves: int) -> None:
    from fundwall.engine.models.trees import contributions_many as algorithm_2

    rng = np.random.default_rng(depth * 100 + leaves)
    x = rng.normal(size=(3_000, 12))
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.05] = 0.0
    y = (np.nan_to_num(x[:, :4]).sum(1) + rng.logistic(size=len(x)) > 0).astype(float)
    params = {"objective": "binary", "num_leaves": leaves, "max_depth": depth, "verbose": -1}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=40)
    trees = CompiledTrees.from_model_string(booster.model_to_string())
    assert trees.tables is not None
    rows = x[:300]
    fast = trees.contributions_many(rows)
    np.testing.assert_allclose(fast, booster.predict(rows, pred_contrib=True), rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        fast, algorithm_2(rows, trees.forest, trees.depth, trees.bias), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(fast.sum(axis=1), trees.raw_many(rows), rtol=0, atol=1e-9)


def test_a_path_of_too_many_features_keeps_algorithm_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from fundwall.engine.models import leaf_shap

    monkeypatch.setattr(leaf_shap, "MAX_PATH", 2)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2_000, 6))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(float)
    params = {"objective": "binary", "num_leaves": 15, "max_depth": 5, "verbose": -1}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=10)
    trees = CompiledTrees.from_model_string(booster.model_to_string())
    assert trees.tables is None
    np.testing.assert_allclose(
        trees.contributions_many(x[:50]), booster.predict(x[:50], pred_contrib=True), atol=1e-7
    )
