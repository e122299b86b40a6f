"""Fixtures of the access-control tests: two banks, the hub and a police unit, on SQLite and
PostgreSQL, and cheap password hashing (the real cost is tested once, on its own)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fundwall.auth import Passwords
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.store import UnitOfWork
from fundwall.store.mapping import institution_row

BANK_A = "B001"
BANK_B = "B002"
HUB = "HUB1"
POLICE = "PSB1"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    return Passwords.fast_for_tests()


@pytest.fixture
def institutions(uow_factory: Callable[[], UnitOfWork]) -> Callable[[], UnitOfWork]:
    """The test's units of work, on a database holding two banks, the hub and a police unit."""
    with uow_factory() as uow:
        for code, kind in (
            (BANK_A, InstitutionKind.BANK),
            (BANK_B, InstitutionKind.BANK),
            (HUB, InstitutionKind.HUB),
            (POLICE, InstitutionKind.POLICE_UNIT),
        ):
            uow.session.add(institution_row(Institution(code, code, code, kind, "350200")))
        uow.commit()
    return uow_factory
