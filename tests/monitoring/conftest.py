"""The two-bank world of tests/auth/world.py with its users, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth import world
from fundwall.crypto import Keyring
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
        world.add_users(uow)
    return uow_factory
