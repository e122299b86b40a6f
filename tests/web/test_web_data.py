"""The console's rule pack queries on SQLite and PostgreSQL: shadow against live, over the
small two-bank world of tests/auth/world.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Role, get_user
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action
from fundwall.store import UnitOfWork
from fundwall.web.data.packs import compare_shadow, disagreements, pack_use

Uow = Callable[[], UnitOfWork]


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
        world.add_users(uow)
    return uow_factory


def _user(uow: UnitOfWork, name: str) -> Actor:
    return get_user(uow, name).actor()


HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)


def test_shadow_against_live_counts_agreements_and_lists_differences(stocked: Uow) -> None:
    with stocked() as uow:
        ann = _user(uow, "ann")
        region = compare_shadow(uow.session, HUB, world.SHADOW_PACK)
        mine = compare_shadow(uow.session, ann, world.SHADOW_PACK)
        apart = disagreements(uow.session, ann, world.SHADOW_PACK)
        hidden = disagreements(uow.session, HUB, world.SHADOW_PACK)
        use = pack_use(uow.session, HUB)
        use_b = pack_use(uow.session, _user(uow, "bob"))
    assert region.matrix == {(Action.BLOCK, Action.BLOCK): 1, (Action.ALERT, Action.WARN): 1}
    assert region.agreeing() == 1 and region.blocked_fen("live") == region.blocked_fen("shadow")
    assert mine.transactions == 2
    assert [(d.tx_id, d.live, d.shadow) for d in apart] == [("T2", Action.ALERT, Action.WARN)]
    assert hidden == []
    assert (use[world.LIVE_PACK].live, use[world.SHADOW_PACK].shadow) == (5, 2)
    assert world.SHADOW_PACK not in use_b and use_b[world.LIVE_PACK].live == 3
