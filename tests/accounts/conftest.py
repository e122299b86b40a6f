"""Fixtures of the account workflow tests: the two-bank world of tests/auth/world.py (bank
B001 holds A1 and A2, bank B002 holds B1 and B2) and its actors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth import world  # tests/auth/world.py
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.crypto import Keyring
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
OPERATOR = Actor.operator("test")
ADMIN_A = Actor(ActorKind.USER, "amy", Role.MEMBER_ADMIN, world.BANK_A, 1)
ADMIN_B = Actor(ActorKind.USER, "bea", Role.MEMBER_ADMIN, world.BANK_B, 2)


def actor_of(role: Role) -> Actor:
    """A user of `role`, of bank B001 where the role belongs to a member."""
    member = world.BANK_A if role.needs_member else None
    return Actor(ActorKind.USER, f"someone-{role.value}", role, member, 9)


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    """The test's units of work, on the two-bank world."""
    with uow_factory() as uow:
        world.build(uow, keyring)
    return uow_factory
