"""Average precision against its definition, worked examples and properties."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.engine.backtest import average_precision, quantile

pairs = st.lists(st.tuples(st.integers(-5, 40), st.booleans()), min_size=1, max_size=60)


def by_definition(scored: list[tuple[int, bool]]) -> Fraction:
    """Mean over positives of the precision of "score ≥ that positive's score", exactly."""
    positives = [score for score, label in scored if label]
    total = Fraction(0)
    for threshold in positives:
        above = [label for score, label in scored if score >= threshold]
        total += Fraction(sum(above), len(above))
    return total / len(positives)


def arrays(scored: list[tuple[int, bool]]) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array([s for s, _ in scored], np.int64)
    labels = np.array([label for _, label in scored], np.bool_)
    return scores, labels


def test_worked_example() -> None:
    # Ranked: P N P N P → precisions 1, 2/3, 3/5.
    scores = np.array([9, 8, 7, 6, 5])
    labels = np.array([True, False, True, False, True])
    assert average_precision(scores, labels) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_ties_form_one_step() -> None:
    # Four items at one score, two positive: precision 1/2 whatever the order inside the tie.
    assert average_precision(np.array([3, 3, 3, 3]), np.array([True, False, False, True])) == 0.5
    assert average_precision(np.array([3, 3, 3, 3]), np.array([False, True, True, False])) == 0.5


def test_unscored_items_rank_last() -> None:
    scores = np.array([-np.inf, 1.0, -np.inf])
    labels = np.array([True, False, False])
    assert average_precision(scores, labels) == pytest.approx(1 / 3)


def test_no_positive_means_not_available() -> None:
    assert average_precision(np.array([1, 2]), np.array([False, False])) is None


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="3 scores for 2 labels"):
        average_precision(np.array([1, 2, 3]), np.array([True, False]))


@given(pairs)
def test_matches_the_definition(scored: list[tuple[int, bool]]) -> None:
    scores, labels = arrays(scored)
    got = average_precision(scores, labels)
    if not labels.any():
        assert got is None
    else:
        assert got == pytest.approx(float(by_definition(scored)), abs=1e-12)


@given(pairs)
def test_unchanged_by_a_rising_transform_of_the_scores(scored: list[tuple[int, bool]]) -> None:
    scores, labels = arrays(scored)
    assert average_precision(scores, labels) == average_precision(scores * 3 + 7, labels)


@given(st.integers(1, 20), st.integers(0, 20))
def test_perfect_ranking_is_one_and_constant_score_is_prevalence(
    positives: int, negatives: int
) -> None:
    labels = np.array([True] * positives + [False] * negatives)
    perfect = np.array([1] * positives + [0] * negatives)
    assert average_precision(perfect, labels) == 1.0
    constant = np.zeros(labels.size)
    assert average_precision(constant, labels) == pytest.approx(positives / labels.size)


def test_quantile_interpolates_between_order_statistics() -> None:
    values = np.array([0.0, 10.0, 20.0, 40.0])
    assert quantile(values, 0.5) == 15.0
    assert quantile(values, 0.9) == pytest.approx(20 + 0.7 * 20)
    assert quantile(np.array([]), 0.5) is None
