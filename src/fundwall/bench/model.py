"""A learned model's cost inside a decision, in process: `model_p99_us`.

A transactions model is trained on the region's first rows (the engine's own features and the
region's labels, as `fundwall train` does), then each of the next rows' feature vectors is
scored as the decision core scores it (`ModelScorer.score`, and `reason` with its tree SHAP
contributions when the model's action is not a pass), each call timed on its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fundwall.domain.decisions import Action
from fundwall.engine.features import feature_names, settle_gc
from fundwall.engine.models.artifact import Target
from fundwall.engine.models.scoring import ModelScorer

_WARM_UP = 1_000


def measure_model(region: Path, *, rows: int, online: int) -> dict[str, object]:
    """Train on the first `rows` transactions of `region` with a labelled history, then time
    the model's part of a decision on the next `online` (at most) rows."""
    from fundwall.models.training import fingerprint, train, transaction_examples

    examples = transaction_examples(region)
    cut = min(rows, int(0.7 * examples.matrix.shape[0]))
    started = time.perf_counter()
    model = train(
        examples,
        Target.TRANSACTIONS,
        region=region.name,
        data_fingerprint=fingerprint([], None),
        until_us=int(examples.ts[cut]),
    )
    training_seconds = time.perf_counter() - started
    scorer = ModelScorer(model, feature_names())
    layout = examples.features
    if tuple(layout) != tuple(feature_names()):
        raise AssertionError("the examples are not laid out as the engine's vectors")
    vectors: list[list[float]] = examples.matrix[cut : cut + online].tolist()
    for vector in vectors[:_WARM_UP]:
        scorer.score(vector).reason()
    ns = np.empty(len(vectors), dtype=np.int64)
    explained = 0
    clock = time.perf_counter_ns
    settle_gc()
    for i, vector in enumerate(vectors):
        began = clock()
        scored = scorer.score(vector)
        if scored.action is not Action.PASS:
            scored.reason()
            explained += 1
        ns[i] = clock() - began
    us = ns / 1000.0
    return {
        "model_version": model.version,
        "model_trees": model.trees.n_trees,
        "model_features": len(model.card.features),
        "model_training_rows": int(cut),
        "model_training_seconds": round(training_seconds, 1),
        "model_decisions": len(vectors),
        "model_explained": explained,
        "model_p50_us": round(float(np.percentile(us, 50)), 2),
        "model_p99_us": round(float(np.percentile(us, 99)), 2),
        "model_max_us": round(float(us.max()), 1),
    }
