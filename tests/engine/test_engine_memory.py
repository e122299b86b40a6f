"""What the online engine keeps does not grow with traffic: the ids it has seen take about a
byte each, and a quiet entity keeps few events that left every window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine_store import seed, transaction
from sqlalchemy import Engine

from fundwall.clock import FixedClock
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.features.catalog import WINDOWS
from fundwall.engine.features.tracks import Track
from fundwall.engine.seen import FIRST_CAPACITY, SeenIds
from fundwall.engine.service import DecisionService

LONGEST_US = max(window.micros for window in WINDOWS)


def test_every_id_added_is_seen_and_few_others_are() -> None:
    added = [f"T-{index}" for index in range(3 * FIRST_CAPACITY)]  # grows past its first filter
    stamp = datetime(2024, 6, 1, tzinfo=UTC)
    seen = SeenIds(timedelta(days=8), [(tx_id, stamp) for tx_id in added[:10]])
    for tx_id in added[10:]:
        seen.add(tx_id, stamp)
    assert all(seen.maybe_seen(tx_id, stamp) for tx_id in added)
    others = [f"U-{index}" for index in range(50_000)]
    assert sum(seen.maybe_seen(tx_id, stamp) for tx_id in others) < 0.03 * len(others)
    assert seen.nbytes < 2 * len(added)  # a set took about 90 bytes an id


def test_a_quiet_entity_keeps_few_events_that_left_every_window() -> None:
    track = Track(distinct=True, maximum=True)
    t = 0
    for index in range(2_000):
        t += LONGEST_US + 1  # each event has left every window when the next one comes
        track.advance(t)
        track.add(t, 100, f"p{index % 7}")
    assert len(track.ts) <= 32  # at most COMPACT_AT old ones and the live one
    assert track.counts()[-1] == 1 and track.sums()[-1] == 100


def test_an_id_the_filter_thinks_it_saw_is_decided_as_new(
    database: Engine, keyring: Keyring, clock: FixedClock
) -> None:
    """A false "maybe seen" costs a read of the log, which says the id is new."""
    seed(database, keyring)
    service = DecisionService.over(
        DecisionLog(database, clock), policy=PolicySettings(), keyring=keyring
    )
    try:
        new = transaction("N-1", clock.now() - timedelta(minutes=5), "A1", "C2", 100_00)
        service._seen.add(new.tx_id, new.ts)  # as if its hash collided with logged ids
        decision = service.decide(new)
        assert service.decide(new) == decision
        assert service.log is not None and service.log.first_decision("N-1") == decision
    finally:
        service.close()
