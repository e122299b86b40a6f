"""The analyst's pandas baseline agrees with the columnar kernels on what it computes."""

from __future__ import annotations

import pytest

pytest.importorskip("pandas", reason="the pandas baseline needs pandas (a development dependency)")

from feature_streams import random_directory, streams, table_of, tx
from hypothesis import HealthCheck, given, settings

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import TxEvent, compute_bulk
from fundwall.engine.features.baseline import BASELINE_FEATURES, baseline_features

DIRECTORY = random_directory()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_baseline_and_bulk_agree_on_random_streams(events: list[TxEvent]) -> None:
    table = table_of(events)
    expected = compute_bulk(table, DIRECTORY).select(list(BASELINE_FEATURES))
    assert baseline_features(table).to_pylist() == expected.to_pylist()


def test_baseline_by_hand_with_ties_and_a_window_edge() -> None:
    events = [
        tx(0, "A", "B", 100, device="D"),
        tx(0, "A", "C", 50, device="D"),
        tx(3600, "A", "B", 7, device="D"),
        tx(3600.000001, "A", None, 1),
    ]
    result = baseline_features(table_of(events)).to_pydict()
    # At 1h + 1µs both events at 0 have left the hour; the tie at 0 counts for the second.
    assert result["payer_out_count_1h"] == [0, 1, 2, 1]
    assert result["payer_out_sum_1h"] == [0, 100, 150, 7]
    assert result["payer_out_max_24h"] == [0, 100, 100, 100]
    assert result["payer_out_distinct_24h"] == [0, 1, 2, 2]
    assert result["device_count_24h"] == [0, 1, 2, 0]


def test_too_many_ties_for_the_baseline_are_refused() -> None:
    events = [tx(0, "A", "B", 1, tx_id=f"t{i}") for i in range(501)]
    with pytest.raises(InvalidInput, match="share one timestamp"):
        baseline_features(table_of(events))
