"""Sessions: sign-in with lock-out, resuming from the cookie's token, expiry, sign-out, and the
audit record of each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from fundwall.auth import (
    LoginFailed,
    Passwords,
    Role,
    SessionPolicy,
    SystemActor,
    add_user,
    resume,
    set_disabled,
    sign_in,
    sign_out,
)
from fundwall.auth.tokens import digest
from fundwall.clock import FixedClock
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ConsoleSessionRow, UserRow

from .conftest import BANK_A, PASSWORD

Uow = Callable[[], UnitOfWork]
POLICY = SessionPolicy()


@pytest.fixture
def alice(institutions: Uow, passwords: Passwords) -> Uow:
    with institutions() as uow:
        add_user(
            uow, SystemActor("test"), "alice", Role.MEMBER_ANALYST, BANK_A, PASSWORD, passwords
        )
    return institutions


def _sign_in(uow_factory: Uow, passwords: Passwords, password: str = PASSWORD) -> str:
    with uow_factory() as uow:
        return sign_in(uow, passwords, "alice", password, ip="10.0.0.7", policy=POLICY).token


def test_signing_in_stores_only_the_tokens_digest_and_audits_the_login(
    alice: Uow, passwords: Passwords
) -> None:
    token = _sign_in(alice, passwords)
    with alice() as uow:
        stored = uow.session.scalars(select(ConsoleSessionRow.token_hash)).one()
        (record,) = uow.audit.tail(1)
        last_login = uow.session.scalars(select(UserRow.last_login_at)).one()
    assert stored == digest(token) != token
    assert (record.actor, record.action, record.details) == (
        f"user:alice@{BANK_A}",
        "login",
        {"ip": "10.0.0.7"},
    )
    assert last_login is not None


def test_the_name_is_read_without_case_or_surrounding_spaces(
    alice: Uow, passwords: Passwords
) -> None:
    with alice() as uow:
        signed = sign_in(uow, passwords, "  Alice ", PASSWORD, ip=None, policy=POLICY)
    assert signed.user.username == "alice"


def test_a_resumed_session_is_the_users_actor(alice: Uow, passwords: Passwords) -> None:
    token = _sign_in(alice, passwords)
    with alice() as uow:
        session = resume(uow, token, policy=POLICY)
    assert session is not None
    assert (session.actor.name, session.actor.role, session.actor.member) == (
        "alice",
        Role.MEMBER_ANALYST,
        BANK_A,
    )
    assert session.member_name == (BANK_A, BANK_A)
    with alice() as uow:
        assert resume(uow, token + "x", policy=POLICY) is None
        assert resume(uow, "", policy=POLICY) is None
        assert resume(uow, "t" * 500, policy=POLICY) is None


def test_five_wrong_passwords_lock_the_user_out_for_a_while(
    alice: Uow, passwords: Passwords, clock: FixedClock
) -> None:
    for attempt in range(1, 5):
        with pytest.raises(LoginFailed) as failed:
            _sign_in(alice, passwords, "wrong password 1")
        assert failed.value.locked_until is None, attempt
        assert failed.value.message() == "wrong user name or password"
    with pytest.raises(LoginFailed) as locked:
        _sign_in(alice, passwords, "wrong password 1")
    assert locked.value.locked_until == clock.now() + POLICY.lockout
    # Locked: even the right password is refused, the same way.
    with pytest.raises(LoginFailed, match="locked until"):
        _sign_in(alice, passwords)
    clock.advance(POLICY.lockout)
    assert _sign_in(alice, passwords)
    with alice() as uow:
        actions = [(r.action, r.details.get("why")) for r in uow.audit.tail(9)]
    assert actions == [
        ("user_add", None),
        *[("login_failed", "wrong password")] * 4,
        ("user_locked", None),
        ("login_failed", "wrong password"),
        ("login_failed", "locked"),
        ("login", None),
    ]


def test_a_success_resets_the_count_of_failures(alice: Uow, passwords: Passwords) -> None:
    for _ in range(4):
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, "wrong password 1")
    _sign_in(alice, passwords)
    for _ in range(4):
        with pytest.raises(LoginFailed) as failed:
            _sign_in(alice, passwords, "wrong password 1")
        assert failed.value.locked_until is None


def test_unknown_and_disabled_users_are_refused_alike_and_audited(
    alice: Uow, passwords: Passwords
) -> None:
    with alice() as uow:
        set_disabled(uow, SystemActor("test"), "alice", disabled=True)
    for name, why in (("alice", "disabled"), ("nobody", "unknown user")):
        with alice() as uow, pytest.raises(LoginFailed) as failed:
            sign_in(uow, passwords, name, PASSWORD, ip=None, policy=POLICY)
        assert failed.value.message() == "wrong user name or password"
        with alice() as uow:
            (record,) = uow.audit.tail(1)
        assert (record.actor, record.subject, record.details) == (
            "anonymous:unknown",
            f"user:{name}",
            {"why": why},
        )


def test_a_name_that_holds_a_phone_number_never_reaches_the_audit_log(
    alice: Uow, passwords: Passwords
) -> None:
    with alice() as uow, pytest.raises(LoginFailed):
        sign_in(uow, passwords, "13812345678", PASSWORD, ip=None, policy=POLICY)
    with alice() as uow:
        (record,) = uow.audit.tail(1)
    assert record.subject == "user:(not a user name)"


def test_sessions_end_when_idle_and_after_their_lifetime(
    alice: Uow, passwords: Passwords, clock: FixedClock
) -> None:
    token = _sign_in(alice, passwords)
    clock.advance(POLICY.idle_timeout - timedelta(seconds=1))
    with alice() as uow:
        assert resume(uow, token, policy=POLICY) is not None
    clock.advance(POLICY.idle_timeout)
    with alice() as uow:
        assert resume(uow, token, policy=POLICY) is None
        assert uow.session.scalars(select(ConsoleSessionRow)).all() == []

    token = _sign_in(alice, passwords)
    ends = clock.now() + POLICY.lifetime
    step = POLICY.idle_timeout / 2
    while clock.now() + step < ends:  # kept busy, never idle
        clock.advance(step)
        with alice() as uow:
            assert resume(uow, token, policy=POLICY) is not None
    clock.set(ends)
    with alice() as uow:
        assert resume(uow, token, policy=POLICY) is None


def test_last_seen_is_written_at_most_once_a_minute(
    alice: Uow, passwords: Passwords, clock: FixedClock
) -> None:
    token = _sign_in(alice, passwords)
    signed_at = clock.now()
    clock.advance(timedelta(seconds=30))
    with alice() as uow:
        resume(uow, token, policy=POLICY)
        assert uow.session.scalars(select(ConsoleSessionRow.last_seen_at)).one() == signed_at
    clock.advance(timedelta(seconds=31))
    with alice() as uow:
        resume(uow, token, policy=POLICY)
        assert uow.session.scalars(select(ConsoleSessionRow.last_seen_at)).one() == clock.now()


def test_a_disabled_users_session_no_longer_resumes(alice: Uow, passwords: Passwords) -> None:
    token = _sign_in(alice, passwords)
    with alice() as uow:
        uow.session.scalars(select(UserRow)).one().disabled = True
        uow.commit()
        assert resume(uow, token, policy=POLICY) is None


def test_signing_out_ends_the_session_and_is_audited(alice: Uow, passwords: Passwords) -> None:
    token = _sign_in(alice, passwords)
    with alice() as uow:
        sign_out(uow, token)
        sign_out(uow, token)
        assert resume(uow, token, policy=POLICY) is None
        actions = [record.action for record in uow.audit.tail(2)]
    assert actions == ["login", "logout"]


def test_a_hash_of_an_older_cost_is_upgraded_at_sign_in(alice: Uow) -> None:
    cheaper = Passwords(PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
    with alice() as uow:
        uow.session.scalars(select(UserRow)).one().password_hash = cheaper.hash(PASSWORD)
        uow.commit()
    current = Passwords.fast_for_tests()
    with alice() as uow:
        sign_in(uow, current, "alice", PASSWORD, ip=None, policy=POLICY)
        stored = uow.session.scalars(select(UserRow.password_hash)).one()
    assert not current.needs_rehash(stored)
    assert current.verify(stored, PASSWORD)
