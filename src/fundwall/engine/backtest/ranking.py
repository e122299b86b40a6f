"""Ranking figures: average precision (the area under the precision-recall curve) and quantiles.

Average precision is computed exactly, step by step, without interpolation:

    AP = Σ_k (R_k − R_{k−1}) · P_k

over the distinct scores t_1 > t_2 > … taken as thresholds, where P_k and R_k are the
precision and recall of "score ≥ t_k". Equal scores form one step, so the order of tied items
never matters (the same definition as scikit-learn's `average_precision_score`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt


def average_precision(
    scores: npt.NDArray[np.float64] | npt.NDArray[np.int64], labels: npt.NDArray[np.bool_]
) -> float | None:
    """Average precision of ranking by `scores` (higher first) against `labels`.

    None when there is no positive: recall is undefined, so the figure is not available.
    Scores may hold -inf for items that were never scored; they rank below every score.
    """
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.shape[0]} scores for {labels.shape[0]} labels")
    positives = int(np.count_nonzero(labels))
    if positives == 0:
        return None
    distinct, step = np.unique(scores, return_inverse=True)
    # np.unique sorts ascending; thresholds are taken from the highest score down.
    items = np.bincount(step, minlength=distinct.size)[::-1]
    hits = np.bincount(step[labels], minlength=distinct.size)[::-1]
    hits_above = np.cumsum(hits)
    items_above = np.cumsum(items)
    reached = hits > 0
    # Each step adds hits_k / positives of recall at precision hits_above_k / items_above_k.
    terms = hits[reached] * hits_above[reached] / items_above[reached]
    return math.fsum(terms.tolist()) / positives


def quantile(values: npt.NDArray[np.float64], q: float) -> float | None:
    """The q-quantile with linear interpolation between order statistics (numpy's default
    method: for n values at position q·(n−1)); None for no values."""
    if values.size == 0:
        return None
    return float(np.quantile(values, q))
