"""What the online engine keeps does not grow with traffic: a quiet entity keeps few events
that left every window."""

from __future__ import annotations

from fundwall.engine.features.catalog import WINDOWS
from fundwall.engine.features.tracks import Track

LONGEST_US = max(window.micros for window in WINDOWS)


def test_a_quiet_entity_keeps_few_events_that_left_every_window() -> None:
    track = Track(distinct=True, maximum=True)
    t = 0
    for index in range(2_000):
        t += LONGEST_US + 1  # each event has left every window when the next one comes
        track.advance(t)
        track.add(t, 100, f"p{index % 7}")
    assert len(track.ts) <= 32  # at most COMPACT_AT old ones and the live one
    assert track.counts()[-1] == 1 and track.sums()[-1] == 100
