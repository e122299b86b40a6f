"""Fixtures of the member-administration tests: the `institutions` of tests/conftest.py (two
banks, the hub and a police unit) on SQLite and PostgreSQL, administered by the operator."""

from __future__ import annotations

import pytest

from fundwall.auth import Actor, Passwords
from fundwall.bootstrap import Platform

BANK_A, BANK_B, HUB, POLICE = "B001", "B002", "HUB1", "PSB1"
PASSWORD = "correct horse battery"
OPERATOR = Actor.operator("test")
"""The server's operator: administers every member."""


@pytest.fixture
def passwords(platform: Platform) -> Passwords:
    """The platform's cheap password hashing."""
    return platform.passwords
