"""Passwords: argon2id hashes that verify, a policy of length, rehashing to current costs."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.auth import Passwords, check_password
from fundwall.domain.errors import InvalidInput

FAST = Passwords.fast_for_tests()


def test_the_default_cost_is_argon2id_with_64_mib_and_three_passes() -> None:
    stored = Passwords().hash("a password long enough")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_a_hash_verifies_its_password_and_nothing_else(password: str) -> None:
    stored = FAST.hash(password)
    assert FAST.hash(password) != stored  # salted: equal passwords do not show
    assert FAST.verify(stored, password)
    assert not FAST.verify(stored, password + "x")


def test_a_damaged_hash_is_no_match_rather_than_an_error() -> None:
    assert not FAST.verify("not a hash", "anything")
    assert FAST.needs_rehash("not a hash")


def test_hashes_of_other_costs_still_verify_and_ask_for_a_rehash() -> None:
    old = Passwords(PasswordHasher(time_cost=1, memory_cost=512, parallelism=1))
    stored = old.hash("an older password")
    current = Passwords(PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1))
    assert current.verify(stored, "an older password")
    assert current.needs_rehash(stored)
    assert not current.needs_rehash(current.hash("an older password"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("  padded password  ", "must not begin or end with spaces"),
        ("alice-is-my-password", "must not contain the user name"),
    ],
)
def test_the_policy_says_what_is_wrong(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as raised:
        check_password(password, "alice")
    assert raised.value.field == "password"


def test_a_long_password_without_character_classes_is_fine() -> None:
    assert check_password("correct horse battery", "alice") == "correct horse battery"
