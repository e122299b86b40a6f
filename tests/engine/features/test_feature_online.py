"""The online state: compute/apply contract, snapshots, input errors, the feature vector."""

from __future__ import annotations

from dataclasses import replace

import pytest
from feature_streams import random_directory, run_online, tx

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import OnlineFeatureState, feature_names
from fundwall.engine.features.catalog import Stream

DIRECTORY = random_directory()
HISTORY = [
    tx(i * 97.0, f"A{i % 6}", f"A{(i * 5 + 1) % 7}" if i % 9 else None, 10 + i, device=f"D{i % 3}")
    for i in range(400)
]


def test_compute_does_not_fold_the_transaction_in() -> None:
    state = OnlineFeatureState(DIRECTORY)
    for event in HISTORY[:50]:
        state.apply(event)
    first = state.compute(HISTORY[50])
    assert state.compute(HISTORY[50]) == first
    assert state.applied == 50


def test_observe_is_compute_then_apply() -> None:
    one, two = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    for event in HISTORY[:100]:
        vector = one.compute(event)
        one.apply(event)
        assert two.observe(event) == vector


def test_a_restored_snapshot_continues_exactly_like_the_original() -> None:
    state = OnlineFeatureState(DIRECTORY)
    for event in HISTORY[:250]:
        state.observe(event)
    restored = OnlineFeatureState.restore(state.snapshot(), DIRECTORY)
    assert restored.applied == 250
    assert restored.entities(Stream.DEVICE) == state.entities(Stream.DEVICE) == 3
    for event in HISTORY[250:]:
        assert restored.observe(event) == state.observe(event)


def test_snapshot_of_a_fresh_state_restores_to_a_fresh_state() -> None:
    restored = OnlineFeatureState.restore(OnlineFeatureState(DIRECTORY).snapshot(), DIRECTORY)
    assert [restored.observe(e).values for e in HISTORY[:30]] == [
        list(row.values()) for row in run_online(HISTORY[:30], DIRECTORY)
    ]


def test_garbage_is_not_a_snapshot() -> None:
    with pytest.raises(InvalidInput, match="not a feature state snapshot"):
        OnlineFeatureState.restore(b"\x00garbage", DIRECTORY)


def test_a_transaction_from_the_past_is_refused() -> None:
    state = OnlineFeatureState(DIRECTORY)
    state.apply(HISTORY[10])
    with pytest.raises(InvalidInput) as caught:
        state.compute(HISTORY[9])
    assert (caught.value.field, caught.value.record) == ("ts", HISTORY[9].tx_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": 1.5}, "amount_fen"),
        ({"kind": "refund"}, "kind"),
        ({"kind": "deposit"}, "payer_account"),
        ({"kind": "withdrawal"}, "payee_account"),
        ({"payer_account": None}, "payer_account"),
    ],
)
def test_bad_transactions_name_the_field(change: dict[str, object], field: str) -> None:
    bad = replace(HISTORY[1], **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        OnlineFeatureState(DIRECTORY).observe(bad)
    assert caught.value.field == field
    assert caught.value.record == HISTORY[1].tx_id


def test_naive_timestamps_are_refused() -> None:
    naive = replace(HISTORY[0], ts=HISTORY[0].ts.replace(tzinfo=None))
    with pytest.raises(InvalidInput, match="time zone"):
        OnlineFeatureState(DIRECTORY).observe(naive)


def test_a_feature_vector_reads_by_position_and_by_name() -> None:
    vector = OnlineFeatureState(DIRECTORY).observe(HISTORY[0])
    assert len(vector) == len(feature_names())
    assert vector[0] == vector.get("amount") == HISTORY[0].amount_fen
    assert list(vector) == vector.values
    assert list(vector.as_dict()) == list(feature_names())
    assert vector[:3] == vector.values[:3]
