"""Fixtures of the access-control tests: the `institutions` of tests/conftest.py (two banks,
the hub and a police unit) on SQLite and PostgreSQL, and cheap password hashing (the real cost
is tested once, on its own)."""

from __future__ import annotations

import pytest

from fundwall.auth import Actor, Passwords

BANK_A = "B001"
BANK_B = "B002"
HUB = "HUB1"
POLICE = "PSB1"
PASSWORD = "correct horse battery"
OPERATOR = Actor.operator("test")
"""Who makes the tests' users and keys: the server's operator."""


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    return Passwords.fast_for_tests()
