"""The overview on SQLite and PostgreSQL: a member's decisions or the region's, member by
member, over the small two-bank world of tests/auth/world.py; its cache folds forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Role
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.errors import PermissionDenied
from fundwall.monitoring.overview import OverviewCache, overview
from fundwall.store import UnitOfWork
from fundwall.store.mapping import decision_row
from fundwall.store.tables import DecisionRow

Uow = Callable[[], UnitOfWork]

HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
AUDITOR = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 98)


def _user(uow: UnitOfWork, name: str) -> Actor:
    return world.user_actor(uow, name)


def test_the_overview_counts_a_members_decisions_or_the_regions(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        mine = overview(uow, ann)
        region = overview(uow, HUB)
    assert {t.action: (t.count, t.amount_fen) for t in mine.totals} == {
        Action.PASS: (0, 0),
        Action.ALERT: (1, 200_000),
        Action.WARN: (0, 0),
        Action.DELAY: (0, 0),
        Action.BLOCK: (1, 100_000),
    }
    assert mine.hourly and mine.buckets == ("2024-03-05 09:00", "2024-03-05 13:00")
    assert mine.series[Action.BLOCK] == [1, 0] and mine.series[Action.ALERT] == [0, 1]
    assert dict(mine.top_rules) == {"R001": 1, "R046": 1, "R019": 1}
    assert mine.alerts_waiting == 2 and mine.members == ()
    assert region.decisions == 5 and region.alerts_waiting == 4
    assert [(m.code, m.decisions, m.alerts_waiting, m.blocked_fen) for m in region.members] == [
        (world.BANK_A, 2, 2, 100_000),
        (world.BANK_B, 3, 2, 0),
    ]
    assert region.latest_decision_at == datetime(2024, 3, 5, 17, 0, 1, tzinfo=UTC)


def test_a_deposit_counts_for_the_payees_bank(stocked: Uow) -> None:
    with stocked() as uow:
        world.add_deposit(uow)
        bob, ann = _user(uow, "bob"), _user(uow, "ann")
        theirs, mine, region = overview(uow, bob), overview(uow, ann), overview(uow, HUB)
    assert theirs.total(Action.DELAY).count == 2
    assert theirs.total(Action.DELAY).amount_fen == 300_000 + world.DEPOSIT_FEN
    assert theirs.decisions == 4 and theirs.alerts_waiting == 3
    assert ("R030", 1) in theirs.top_rules
    assert mine.decisions == 2 and mine.alerts_waiting == 2
    assert [(m.code, m.decisions, m.alerts_waiting) for m in region.members] == [
        (world.BANK_A, 2, 2),
        (world.BANK_B, 4, 3),
    ]


def test_the_overview_refuses_a_role_without_it(stocked: Uow) -> None:
    with stocked() as uow, pytest.raises(PermissionDenied, match="view_overview"):
        overview(uow, AUDITOR)


def test_the_overview_cache_folds_in_new_decisions_and_rebuilds_in_time(stocked: Uow) -> None:
    now = [0.0]
    cache = OverviewCache(rebuild_after=timedelta(minutes=5), timer=lambda: now[0])
    with stocked() as uow:
        ann = _user(uow, "ann")
        first = overview(uow, ann, cache)
        reason = Reason("R900", "测试", "test", {"amount": 100_000})
        later = world.START + timedelta(days=5)
        uow.session.add(
            decision_row(
                Decision("T1", Action.BLOCK, 120, (reason,), world.LIVE_PACK), decided_at=later
            )
        )
        uow.commit()
        folded = overview(uow, ann, cache)
        fresh = overview(uow, ann)
        uow.session.execute(delete(DecisionRow).where(DecisionRow.decided_at == later))
        uow.commit()
        kept = overview(uow, ann, cache)
        now[0] += 5 * 60
        rebuilt = overview(uow, ann, cache)
    assert first.total(Action.BLOCK).count == 1
    assert folded == fresh
    assert folded.total(Action.BLOCK).count == 2 and ("R900", 1) in folded.top_rules
    assert folded.latest_decision_at == later
    assert kept.total(Action.BLOCK).count == 2  # counted once, kept until the rebuild
    assert rebuilt == first
