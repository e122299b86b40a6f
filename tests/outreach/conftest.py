"""Fixtures of the outreach tests: the two-bank world of tests/auth/world.py (bank B001 holds
A1 (P1) and A2 (P2), bank B002 holds B1 (P3) and B2 (P4); T4, B1 → B2, was warned) and the
actors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth import world  # tests/auth/world.py
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.crypto import Keyring
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
SYSTEM_A = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
SYSTEM_B = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, world.BANK_B)
ANALYST_A = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 1)
ANALYST_B = Actor(ActorKind.USER, "bob", Role.MEMBER_ANALYST, world.BANK_B, 2)
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 3)
POLICE = Actor(ActorKind.USER, "cop", Role.POLICE_OFFICER, "PSB1", 4)
OPERATOR = Actor.operator("test")


def phone_of(n: int) -> str:
    """The phone the world gives party P<n>."""
    return world.person(n).phone


@pytest.fixture
def outreach_world(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
    return uow_factory
