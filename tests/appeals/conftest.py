"""Fixtures of the appeals tests: the two-bank world of tests/auth/world.py (bank B001 holds
A1 and A2, bank B002 holds B1 and B2, each of a person of its own), the persons as the
portal verifies them, and the banks', police's and hub's actors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from auth import world  # tests/auth/world.py
from fundwall.appeals.queries import person_actor
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.crypto import ID_HASH_KIND, Keyring
from fundwall.engine.service import DecisionService
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
OPERATOR = Actor.operator("test")
ADMIN_A = Actor(ActorKind.USER, "amy", Role.MEMBER_ADMIN, world.BANK_A, 1)
ANALYST_A = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 2)
ANALYST_B = Actor(ActorKind.USER, "bob", Role.MEMBER_ANALYST, world.BANK_B, 3)
POLICE = Actor(ActorKind.USER, "pol", Role.POLICE_OFFICER, "PSB1", 4)
OTHER_POLICE = Actor(ActorKind.USER, "pol2", Role.POLICE_OFFICER, "PSB2", 5)
HUB = Actor(ActorKind.USER, "sup", Role.HUB_SUPERVISOR, None, 6)


def person_of(keyring: Keyring, n: int) -> Actor:
    """The portal's actor of world.person(n) (n = 1 holds A1, 2 A2, 3 B1, 4 B2)."""
    return person_actor(keyring.keyed_hash(ID_HASH_KIND, world.person(n).id_number))


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    """The test's units of work, on the two-bank world."""
    with uow_factory() as uow:
        world.build(uow, keyring)
    return uow_factory


@pytest.fixture
def service(stocked: Uow, platform: Platform) -> Iterator[DecisionService]:
    """The running decision service over the world."""
    running = platform.decision_service()
    try:
        yield running
    finally:
        running.close()
