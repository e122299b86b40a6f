"""Define once, execute twice: the online state and the columnar kernels agree exactly."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from feature_streams import (
    random_directory,
    run_bulk,
    run_online,
    streams,
    streams_with_logins,
    table_of,
    tx,
)
from hypothesis import HealthCheck, given, settings

from fundwall.domain.devices import LoginEvent
from fundwall.engine.features import (
    AccountDirectory,
    OnlineFeatureState,
    TxEvent,
    compute_bulk,
    events_from_table,
    feature_names,
)
from fundwall.engine.features.catalog import LOGIN_FEATURES
from fundwall.engine.features.inputs import logins_from_table
from fundwall.region import read_table

DIRECTORY = random_directory()


def _disagreements(
    events: list[TxEvent], logins: Sequence[LoginEvent] = ()
) -> list[tuple[int, str, object, object]]:
    online = run_online(events, DIRECTORY, logins)
    bulk = run_bulk(events, DIRECTORY, logins)
    assert len(online) == len(bulk) == len(events)
    return [
        (i, name, a[name], b[name])
        for i, (a, b) in enumerate(zip(online, bulk, strict=True))
        for name in feature_names()
        if a[name] != b[name] or type(a[name]) is not type(b[name])
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_online_and_bulk_features_agree(events: list[TxEvent]) -> None:
    assert _disagreements(events) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams_with_logins())
def test_online_and_bulk_features_agree_with_logins(
    stream: tuple[list[TxEvent], list[LoginEvent]],
) -> None:
    events, logins = stream
    assert _disagreements(events, logins) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams_with_logins())
def test_logins_count_at_their_own_time_whatever_order_they_arrive_in(
    stream: tuple[list[TxEvent], list[LoginEvent]],
) -> None:
    """Every login delivered before the first transaction, shuffled: each transaction still
    reads exactly the logins at or before its time, as the bulk as-of join does."""
    events, logins = stream
    shuffled = list(logins)
    random.Random(len(events) * 31 + len(logins)).shuffle(shuffled)
    state = OnlineFeatureState(DIRECTORY)
    for each in shuffled:
        state.observe_login(each)
    online = [state.observe(event).as_dict() for event in events]
    assert online == run_bulk(events, DIRECTORY, logins)


def test_agreement_holds_over_long_histories_that_compact_the_online_state() -> None:
    """Thousands of events on few entities: online tracks drop events that left every
    window, bulk keeps all; the values must not notice."""
    events = []
    for i in range(3000):
        minutes = i * 29 + (i % 7) * 3
        payer = f"A{i % 3}"
        payee = f"A{(i * 7 + 1) % 5}" if i % 11 else None
        if i in (4, 2995):  # once, then again long after the online state forgot it
            payee = "RARE"
        amount = 1 + (i * 7919) % 100_000
        events.append(tx(minutes * 60.0, payer, payee, amount, device=f"D{i % 2}", city="Xiamen"))
    assert _disagreements(events) == []


def test_batch_size_does_not_change_the_result() -> None:
    events = [tx(i * 37.0, f"A{i % 4}", f"A{(i + 1) % 6}", 100 + i, device="D") for i in range(200)]
    table = table_of(events)
    whole = compute_bulk(table, DIRECTORY, batch_rows=1_000)
    for rows in (1, 7, 64):
        assert compute_bulk(table, DIRECTORY, batch_rows=rows).equals(whole)
    assert compute_bulk(table, DIRECTORY, workers=1).equals(whole)


def test_warm_up_with_apply_then_compute_matches_bulk() -> None:
    """The decision service rebuilds its state by applying its log, then computes."""
    events = [
        tx(i * 600.0 + (i % 3), f"A{i % 5}", f"A{(i * 3) % 7}", 1 + i * i) for i in range(300)
    ]
    events.append(tx(300 * 600.0, "A1", "A2", 5, tx_id="last"))
    state = OnlineFeatureState(DIRECTORY)
    for event in events[:-1]:
        state.apply(event)
    last = state.compute(events[-1])
    assert last.as_dict() == run_bulk(events, DIRECTORY)[-1]


def test_online_and_bulk_agree_on_a_simulated_region_with_its_logins(region: Path) -> None:
    """The simulator's takeovers (sold accounts logged into from the gang's phones, failing
    the face check) read the same online and in bulk."""
    directory = AccountDirectory.from_region(region)
    transactions = read_table(region, "transactions")
    logins = logins_from_table(read_table(region, "logins"))
    bulk = compute_bulk(transactions, directory, logins=read_table(region, "logins")).to_pylist()
    online = run_online(events_from_table(transactions), directory, logins)
    assert online == bulk
    takeovers = [row for row in bulk if row["payee_takeover_hours"] >= 0]
    assert takeovers and any(row["payee_face_fail_7d"] for row in bulk)
    assert {row.feature.name for row in LOGIN_FEATURES} <= set(bulk[0])
