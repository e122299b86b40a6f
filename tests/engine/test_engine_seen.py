"""The ids the decision service keeps in memory: a window of time, never a false "new"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fundwall.engine.seen import SLICES, SeenIds

START = datetime(2024, 6, 1, tzinfo=UTC)
WINDOW = timedelta(days=8)


def test_an_id_added_is_always_maybe_seen_within_the_window() -> None:
    seen = SeenIds(WINDOW)
    stamps = [START + timedelta(minutes=7 * i) for i in range(5_000)]  # 24 days
    for i, stamp in enumerate(stamps):
        seen.add(f"T{i}", stamp)
    horizon = seen.horizon
    assert horizon is not None and stamps[-1] - horizon >= WINDOW
    kept = [i for i, stamp in enumerate(stamps) if stamp >= horizon]
    assert kept and all(seen.maybe_seen(f"T{i}", stamps[i]) for i in kept)


def test_new_ids_are_mostly_surely_new() -> None:
    seen = SeenIds(WINDOW, ((f"T{i}", START + timedelta(seconds=i)) for i in range(20_000)))
    now = START + timedelta(days=1)
    false_positives = sum(seen.maybe_seen(f"N{i}", now) for i in range(20_000))
    assert false_positives < 20_000 * 0.02


def test_an_id_stamped_before_the_window_is_for_the_log_to_answer() -> None:
    seen = SeenIds(WINDOW)
    seen.add("OLD", START)
    seen.add("NEW", START + 3 * WINDOW)
    # The window rolled past OLD: not held, so "maybe seen" whatever the id, sent as it was.
    assert seen.maybe_seen("OLD", START)
    assert seen.maybe_seen("NEVER", START)
    assert not seen.maybe_seen("NEVER", START + 3 * WINDOW)


def test_the_memory_is_that_of_the_window_however_long_it_runs() -> None:
    seen = SeenIds(timedelta(days=1))
    sizes = []
    for day in range(30):
        for i in range(2_000):
            seen.add(f"D{day}-{i}", START + timedelta(days=day, seconds=40 * i))
        sizes.append(seen.nbytes)
    assert len(seen._slices) <= SLICES + 1
    assert max(sizes[5:]) <= sizes[4]  # flat once a window is full


def test_the_window_is_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SeenIds(timedelta(0))
