"""Fixtures of the phone tests: the two-bank world of tests/auth/world.py (bank B001 holds A1
(P1) and A2 (P2), bank B002 holds B1 (P3) and B2 (P4)), a local registry over it, and the
actors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auth import world  # tests/auth/world.py
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.bootstrap import Platform
from fundwall.crypto import Keyring
from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.phones.local import LocalRegistry
from fundwall.sim.run import simulate
from fundwall.store import UnitOfWork
from fundwall.store.mapping import phone_registration_values

Uow = Callable[[], UnitOfWork]
SYSTEM_A = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
SYSTEM_B = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, world.BANK_B)
ANALYST_A = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 1)
ANALYST_B = Actor(ActorKind.USER, "bob", Role.MEMBER_ANALYST, world.BANK_B, 2)
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 3)
POLICE = Actor(ActorKind.USER, "cop", Role.POLICE_OFFICER, "PSB1", 4)
LONG_AGO = datetime(2015, 1, 1, tzinfo=UTC)
TINY_SEED = 20240304


def holder(n: int) -> tuple[MobilePhone, ResidentId]:
    """The phone and ID number the world gives party P<n>."""
    who = world.person(n)
    return MobilePhone(who.phone), ResidentId(who.id_number)


def other_id(n: int) -> ResidentId:
    """The ID number of someone who is nobody's customer."""
    return ResidentId(world.person(100 + n).id_number)


def register(
    uow: UnitOfWork,
    keyring: Keyring,
    phone: MobilePhone,
    id_number: ResidentId,
    since: datetime = LONG_AGO,
    until: datetime | None = None,
) -> None:
    """Put a registration into the local registry and commit."""
    from fundwall.store.phone_tables import PhoneRegistrationRow

    values = phone_registration_values(phone, id_number, since, until, keyring)
    uow.session.add(PhoneRegistrationRow(**values))
    uow.commit()


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    """The test's units of work, on the two-bank world."""
    with uow_factory() as uow:
        world.build(uow, keyring)
    return uow_factory


@pytest.fixture
def registry(platform: Platform, keyring: Keyring) -> LocalRegistry:
    """The local registry over the test's store, on the test's clock."""
    return LocalRegistry(platform.database, keyring, platform.clock)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny simulated region, shared read-only by the phone tests."""
    out = tmp_path_factory.mktemp("phones_tiny")
    simulate("tiny", TINY_SEED, out)
    return out
