"""Sessions: sign-in with waits that grow, resuming from the cookie's token, expiry, sign-out,
and the audit record of each."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from fundwall.auth import (
    AddressThrottle,
    LoginFailed,
    Passwords,
    Role,
    SessionPolicy,
    SignedIn,
    resume,
    sign_in,
    sign_out,
)
from fundwall.auth.tokens import digest
from fundwall.clock import FixedClock
from fundwall.config import SecuritySettings
from fundwall.members import add_user, set_disabled, unlock_user
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ConsoleSessionRow, UserRow

from .conftest import BANK_A, OPERATOR, PASSWORD

Uow = Callable[[], UnitOfWork]
SETTINGS = SecuritySettings()
POLICY = SessionPolicy.of(SETTINGS)
WRONG = "wrong password 1"


@pytest.fixture
def alice(institutions: Uow, passwords: Passwords) -> Uow:
    with institutions() as uow:
        add_user(uow, OPERATOR, "alice", Role.MEMBER_ANALYST, BANK_A, PASSWORD, passwords)
    return institutions


@pytest.fixture
def addresses() -> AddressThrottle:
    return AddressThrottle.of(SETTINGS)


def _attempt(
    uow: UnitOfWork,
    passwords: Passwords,
    addresses: AddressThrottle,
    username: str = "alice",
    password: str = PASSWORD,
    ip: str | None = "10.0.0.7",
) -> SignedIn:
    return sign_in(uow, passwords, username, password, ip=ip, policy=POLICY, addresses=addresses)


def _sign_in(
    uow_factory: Uow, passwords: Passwords, password: str = PASSWORD, ip: str = "10.0.0.7"
) -> str:
    """Alice's sign-in from `ip`, each test on a fresh address table."""
    with uow_factory() as uow:
        return _attempt(
            uow, passwords, AddressThrottle.of(SETTINGS), password=password, ip=ip
        ).token


def _refusals(uow_factory: Uow, count: int) -> list[dict[str, str]]:
    """The details of the last `count` audit records, which must all be refused sign-ins."""
    with uow_factory() as uow:
        records = uow.audit.tail(count)
    assert {record.action for record in records} == {"login_failed"}
    return [dict(record.details) for record in records]


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
        signed = _attempt(uow, passwords, AddressThrottle.of(), "  Alice ")
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


def test_wrong_passwords_make_the_next_sign_in_wait_longer_each_time_up_to_a_cap(
    alice: Uow, passwords: Passwords, clock: FixedClock
) -> None:
    for attempt in range(1, SETTINGS.user_free_failures):
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, WRONG)
        assert _refusals(alice, 1) == [{"why": "wrong password"}], attempt
    waits = []
    for _ in range(14):
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, WRONG)
        (details,) = _refusals(alice, 1)
        assert details["why"] == "wrong password"
        wait = datetime.fromisoformat(details["user_waits_until"]) - clock.now()
        waits.append(wait.total_seconds())
        clock.advance(wait)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300, 300]
    assert _sign_in(alice, passwords)
    # The success forgot the failures: the next wrong password does not wait.
    with pytest.raises(LoginFailed):
        _sign_in(alice, passwords, WRONG)
    assert _refusals(alice, 1) == [{"why": "wrong password"}]


def test_while_a_user_waits_even_the_right_password_is_refused_and_not_counted(
    alice: Uow, passwords: Passwords, clock: FixedClock
) -> None:
    for _ in range(SETTINGS.user_free_failures):
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, WRONG)
    for _ in range(10):  # a stranger keeps trying: the wait does not grow
        with pytest.raises(LoginFailed) as refused:
            _sign_in(alice, passwords)
        assert refused.value.message() == "wrong user name or password"
    assert _refusals(alice, 10) == [{"why": "user waits"}] * 10
    clock.advance(timedelta(seconds=1))
    assert _sign_in(alice, passwords)


def test_an_administrator_lifts_a_wait_at_once(
    alice: Uow, passwords: Passwords, clock: FixedClock
) -> None:
    for _ in range(SETTINGS.user_free_failures + 3):
        clock.advance(timedelta(seconds=10))
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, WRONG)
    with pytest.raises(LoginFailed):
        _sign_in(alice, passwords)
    with alice() as uow:
        unlock_user(uow, OPERATOR, "alice")
    assert _sign_in(alice, passwords)


def test_a_success_resets_the_count_of_failures(alice: Uow, passwords: Passwords) -> None:
    for _ in range(SETTINGS.user_free_failures - 1):
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, WRONG)
    _sign_in(alice, passwords)
    for _ in range(SETTINGS.user_free_failures - 1):
        with pytest.raises(LoginFailed):
            _sign_in(alice, passwords, WRONG)
    assert all("user_waits_until" not in details for details in _refusals(alice, 4))
    assert _sign_in(alice, passwords)


def test_wrong_passwords_sent_at_the_same_moment_are_all_counted(
    alice: Uow, passwords: Passwords
) -> None:
    def guess(number: int) -> None:
        with alice() as uow, pytest.raises(LoginFailed):
            _attempt(uow, passwords, AddressThrottle.of(SETTINGS), password=f"guess {number}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(guess, range(8)))
    with alice() as uow:
        counted = uow.session.scalars(select(UserRow.failed_logins)).one()
        refused = [record.details["why"] for record in uow.audit.tail(8)]
    assert counted == refused.count("wrong password") >= SETTINGS.user_free_failures
    assert set(refused) <= {"wrong password", "user waits"}


def test_failures_from_one_address_make_it_wait_whatever_the_names(
    alice: Uow, passwords: Passwords, addresses: AddressThrottle, clock: FixedClock
) -> None:
    for number in range(SETTINGS.address_free_failures):
        with alice() as uow, pytest.raises(LoginFailed):
            _attempt(uow, passwords, addresses, f"name{number}", WRONG, ip="198.51.100.7")
    (last,) = _refusals(alice, 1)
    assert last == {
        "why": "unknown user",
        "address_waits_until": (clock.now() + timedelta(seconds=1)).isoformat(),
    }
    # The address waits, even for a real user's right password; another address does not.
    with alice() as uow, pytest.raises(LoginFailed):
        _attempt(uow, passwords, addresses, ip="198.51.100.7")
    assert _refusals(alice, 1) == [{"why": "address waits"}]
    with alice() as uow:
        assert _attempt(uow, passwords, addresses, ip="203.0.113.5")
    clock.advance(timedelta(seconds=1))
    with alice() as uow, pytest.raises(LoginFailed):
        _attempt(uow, passwords, addresses, "name99", WRONG, ip="198.51.100.7")
    (details,) = _refusals(alice, 1)
    assert details["address_waits_until"] == (clock.now() + timedelta(seconds=2)).isoformat()


def test_unknown_and_disabled_users_are_refused_alike_and_audited(
    alice: Uow, passwords: Passwords
) -> None:
    with alice() as uow:
        set_disabled(uow, OPERATOR, "alice", disabled=True)
    for name, why in (("alice", "disabled"), ("nobody", "unknown user")):
        with alice() as uow, pytest.raises(LoginFailed) as failed:
            _attempt(uow, passwords, AddressThrottle.of(), name, ip=None)
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
        _attempt(uow, passwords, AddressThrottle.of(), "13812345678")
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
        _attempt(uow, current, AddressThrottle.of())
        stored = uow.session.scalars(select(UserRow.password_hash)).one()
    assert not current.needs_rehash(stored)
    assert current.verify(stored, PASSWORD)
