"""Password hashing with argon2id (argon2-cffi) and the password policy.

The default cost is argon2-cffi's, the RFC 9106 low-memory profile (64 MiB, 3 passes, 4
lanes). Each hash records its own parameters, so a hash made with other settings still
verifies, and `needs_rehash` tells the login to upgrade it to the current ones.
"""

from __future__ import annotations

from functools import cached_property
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fundwall.domain.errors import InvalidInput

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 256


class Passwords:
    """Hash and verify passwords; one instance per process (it holds no secrets)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy(self) -> str:
        # Verified against when the user name is unknown, so that a sign-in takes as long
        # whether or not the name exists (no user enumeration by timing). Made on first
        # need: commands that never refuse a sign-in should not pay for it.
        return self._hasher.hash("fundwall: no such user")

    @classmethod
    def fast_for_tests(cls) -> Passwords:
        """Cheap parameters (1 pass, 1 MiB): for test suites that sign in many times."""
        return cls(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether `password` matches; a damaged stored hash counts as no match."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def waste_time(self, password: str) -> None:
        """Spend the time of one verification, for an unknown or refused user."""
        self.verify(self._dummy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def check_password(password: str, username: str) -> str:
    """The password if acceptable; InvalidInput saying why not.

    Length is what makes a password strong, so the rule is a length (12 to 256 characters)
    and not containing the user name; no character-class rules, which only make people
    write passwords down.
    """
    if not isinstance(password, str):
        raise InvalidInput("expected the password as text", "password")
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"must be at least {MIN_LENGTH} characters long", "password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"must be at most {MAX_LENGTH} characters long", "password")
    if password != password.strip():
        raise InvalidInput("must not begin or end with spaces", "password")
    if username.lower() in password.lower():
        raise InvalidInput("must not contain the user name", "password")
    return password
