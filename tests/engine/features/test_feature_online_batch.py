"""A batch observed at once (`OnlineFeatureState.observe_many`, `observe_batch`: the window
aggregates by one compiled pass per stream over the tracks, `tracks_bulk`) gives the very
vectors of `observe` one by one and leaves the very state: every track's raw arrays,
compaction points and expiries included, with logins between the batches; the window
aggregates' matrix holds the vectors' values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from feature_streams import T0, in_time_order, random_directory, streams_with_logins, tx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_values import feature_values, windows

from fundwall.domain.devices import LoginEvent
from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import MAX_FEN
from fundwall.engine.features import FeatureVector, OnlineFeatureState, TxEvent, feature_names
from fundwall.engine.features.catalog import WINDOWS
from fundwall.engine.features.inputs import micros
from fundwall.engine.features.tracks_bulk import AGGREGATES_AT, aggregate_count

DIRECTORY = random_directory()
_WINDOWS_AT = slice(AGGREGATES_AT, AGGREGATES_AT + aggregate_count())
"""Where the window aggregates lie in a vector."""
_EDGES = sorted({0, 1} | {w.micros for w in WINDOWS} | {w.micros - 1 for w in WINDOWS})


def typed(vectors: list[FeatureVector]) -> list[list[tuple[type, int | float]]]:
    """The values with their types: an int feature must stay an int."""
    return [[(type(value), value) for value in vector] for vector in vectors]


def assert_same_state(one: OnlineFeatureState, other: OnlineFeatureState) -> None:
    assert windows(one) == windows(other)
    assert feature_values(one) == feature_values(other)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams_with_logins(), st.integers(1, 12))
def test_batches_with_logins_between_them_observe_as_one_by_one(
    stream: tuple[list[TxEvent], list[LoginEvent]], size: int
) -> None:
    events, logins = stream
    one_by_one, batched = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    expected: list[FeatureVector] = []
    got: list[FeatureVector] = []
    batch: list[TxEvent] = []
    for item in [*in_time_order(events, logins), None]:
        if isinstance(item, TxEvent):
            expected.append(one_by_one.observe(item))
            batch.append(item)
            if len(batch) < size:
                continue
        got += batched.observe_many(batch)
        batch = []
        if isinstance(item, LoginEvent):
            one_by_one.observe_login(item)
            batched.observe_login(item)
    assert typed(got) == typed(expected)
    assert_same_state(batched, one_by_one)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams_with_logins(), st.integers(1, 60))
def test_logins_delivered_first_count_inside_a_batch_at_their_own_time(
    stream: tuple[list[TxEvent], list[LoginEvent]], size: int
) -> None:
    """Every login delivered before any transaction, so many are stamped inside a batch's
    span: each transaction of the batch reads those at or before its time, as one by one."""
    events, logins = stream
    one_by_one, batched = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    for each in logins:
        one_by_one.observe_login(each)
        batched.observe_login(each)
    expected = [one_by_one.observe(event) for event in events]
    got: list[FeatureVector] = []
    for start in range(0, len(events), size):
        got += batched.observe_many(events[start : start + size])
    assert typed(got) == typed(expected)
    assert_same_state(batched, one_by_one)


@st.composite
def busy_streams(draw: st.DrawFn) -> list[TxEvent]:
    """Up to 250 transactions among three accounts, one device and one IP, over weeks: the
    tracks fill and are compacted, inside batches too; accounts pay each other and
    themselves."""
    now = T0
    events = []
    for i in range(draw(st.integers(0, 250))):
        step = draw(st.one_of(st.sampled_from(_EDGES), st.integers(0, 3 * 86_400_000_000)))
        now += timedelta(microseconds=step)
        payer = draw(st.sampled_from(["A0", "A1", "A6", None]))
        payee = draw(st.sampled_from(["A0", "A2", "A6", *([None] if payer else [])]))
        kind = "deposit" if payer is None else "withdrawal" if payee is None else "transfer"
        events.append(
            TxEvent(
                f"b{i}", now, kind, payer, payee, None if payer is None else "301",
                None if payee is None else "302", draw(st.integers(1, 500)), "mobile",
                draw(st.sampled_from([None, "D1"])), draw(st.sampled_from([None, "10.0.0.1"])),
                draw(st.sampled_from([None, "Xiamen"])),
            )
        )  # fmt: skip
    return events


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_streams(), st.data())
def test_busy_tracks_compact_in_a_batch_as_one_by_one(
    events: list[TxEvent], data: st.DataObject
) -> None:
    one_by_one, batched = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    expected = [one_by_one.observe(event) for event in events]
    got: list[FeatureVector] = []
    start = 0
    while start < len(events):
        stop = start + data.draw(st.integers(1, 120))
        observed = batched.observe_batch(events[start:stop])
        # The matrix the packs read the window aggregates from holds the vectors' values.
        assert observed.aggregates.tolist() == [v.values[_WINDOWS_AT] for v in observed.vectors]
        got += observed.vectors
        start = stop
    assert typed(got) == typed(expected)
    assert_same_state(batched, one_by_one)


def test_a_track_compacted_inside_one_batch_is_left_as_one_by_one() -> None:
    """200 transfers a day apart: the account's tracks are compacted several times inside the
    one batch, and the maxima stack and the latest payees forget what compaction drops."""
    events = [
        TxEvent(f"c{i}", T0 + timedelta(days=i), "transfer", "A0", f"P{i % 7}", "301", "302",
                1000 - i, "mobile", "D1", None, None)
        for i in range(200)
    ]  # fmt: skip
    one_by_one, batched = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    expected = [one_by_one.observe(event) for event in events]
    assert typed(batched.observe_many(events)) == typed(expected)
    assert_same_state(batched, one_by_one)
    assert batched._tracks[0]["A0"].base > 0


@pytest.mark.parametrize("times_given", [False, True])
def test_a_late_transaction_refuses_the_batch_before_anything_is_folded(
    times_given: bool,
) -> None:
    """As `observe` refuses a transaction earlier than the state's clock, `observe_batch`
    refuses the batch, and leaves the state as it was, whether it reads the times off the
    stamps or is handed them (as `decide_many` does)."""
    early = TxEvent("e0", T0, "transfer", "A0", "A1", "301", "302", 10, "mobile", None, None, None)
    later = TxEvent(
        "e1", T0 + timedelta(seconds=5), "transfer", "A1", "A0", "302", "301", 10, "mobile",
        None, None, None,
    )  # fmt: skip
    late = TxEvent(
        "e2", T0 + timedelta(seconds=1), "transfer", "A0", "A2", "301", "301", 10, "mobile",
        None, None, None,
    )  # fmt: skip
    batched, untouched = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    batched.observe_many([early])
    untouched.observe(early)
    batch = [later, late]
    times = [micros(event.ts, event.tx_id) for event in batch] if times_given else None
    with pytest.raises(InvalidInput, match="time order") as refused:
        batched.observe_batch(batch, times)
    assert refused.value.record == "e2"
    assert_same_state(batched, untouched)


def test_running_totals_past_the_largest_int64_wrap_alike_and_stop_nothing() -> None:
    """A member sends 9,400 of the largest amounts into one account within three hours: the
    account's running total passes 2**63 fen. Every decision still reads its features, the
    batch path as one by one, and a window holding less than 2**63 reads its true sum."""
    count = 9_400
    events = [tx(second, f"p{second}", "P", MAX_FEN) for second in range(count)]
    one_by_one, batched = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    expected = [one_by_one.observe(event) for event in events]
    got: list[FeatureVector] = []
    for start in range(0, count, 1_000):
        got += batched.observe_many(events[start : start + 1_000])
    assert typed(got) == typed(expected)
    assert_same_state(batched, one_by_one)
    last = dict(zip(feature_names(), expected[-1], strict=True))
    in_the_hour = last["payee_in_sum_1h"]
    assert in_the_hour % MAX_FEN == 0 and 3_599 <= in_the_hour // MAX_FEN <= 3_601
