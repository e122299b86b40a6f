"""Tiny real models for tests: LightGBM trained on a few hundred random rows, with a card
whose figures are measured on the rows held out after the training ones (a time split, as
training does).

    model = make_model()                                   # a transaction model on amount, hour
    other = make_model(("amount", "hour", "is_night"))     # another version, one feature more
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, Final

import lightgbm as lgb
import numpy as np

from fundwall.domain.decisions import Action
from fundwall.engine.models.artifact import Model, ModelCard, ModelPolicy, Target

ROWS: Final = 400
TRAINING_ROWS: Final = 300
"""The first rows train; the rest are the held-out period."""
TRAINED_AT: Final = "2024-03-18T02:00:00+00:00"
PARAMS: Final[dict[str, Any]] = {
    "objective": "binary",
    "num_leaves": 4,
    "min_data_in_leaf": 5,
    "learning_rate": 0.3,
    "seed": 0,
    "deterministic": True,
    "num_threads": 1,
    "verbose": -1,
}


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """PR-AUC as average precision: the precision at each positive, ranked by score."""
    hits = labels[np.argsort(-scores, kind="stable")]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / max(int(hits.sum()), 1))


@lru_cache(maxsize=16)
def make_model(
    features: tuple[str, ...] = ("amount", "hour"),
    target: Target = Target.TRANSACTIONS,
    *,
    seed: int = 0,
    rounds: int = 4,
) -> Model:
    """A model of `target` trained on `features` (the first one carries the signal); the
    same arguments give the same model, so the same version."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(ROWS, len(features)))
    labels = (values[:, 0] + rng.normal(scale=0.7, size=ROWS) > 1.2).astype(np.int64)
    train, held = slice(0, TRAINING_ROWS), slice(TRAINING_ROWS, ROWS)
    booster = lgb.train(
        PARAMS,
        lgb.Dataset(values[train], labels[train], feature_name=list(features)),
        num_boost_round=rounds,
    )
    held_scores = np.asarray(booster.predict(values[held]))
    train_scores = np.asarray(booster.predict(values[train]))
    alert, block = (float(q) for q in np.quantile(held_scores, [0.9, 0.99]))
    card = ModelCard(
        target=target,
        features=features,
        trained_at=TRAINED_AT,
        region="test-region",
        fingerprint=hashlib.sha256(values.tobytes() + labels.tobytes()).hexdigest(),
        until=None,
        rows=TRAINING_ROWS,
        positives=int(labels[train].sum()),
        params=PARAMS,
        metrics={
            "holdout": {
                "pr_auc": average_precision(labels[held], held_scores),
                "rows": ROWS - TRAINING_ROWS,
                "positives": int(labels[held].sum()),
            },
            "training": {"pr_auc": average_precision(labels[train], train_scores)},
        },
        policy=ModelPolicy({Action.ALERT: alert, Action.BLOCK: block}),
        purpose={"zh": "测试用模型：随机数据训练", "en": "A test model trained on random data"},
        limits={"zh": ("仅用于测试",), "en": ("For tests only",)},
    )
    return Model.from_parts(booster.model_to_string(), card)
