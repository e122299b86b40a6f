"""Users: who may be created with which role and member, who may create them, the demo users,
and the audit record of every change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from fundwall.auth import Actor, ActorKind, Passwords, Role
from fundwall.auth.sessions import LoginFailed, SessionPolicy, sign_in
from fundwall.auth.throttle import AddressThrottle
from fundwall.config import SecuritySettings
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.members import (
    DEMO_PASSWORD,
    add_user,
    create_demo_users,
    demo_notice,
    get_user,
    list_users,
    set_disabled,
    set_password,
    unlock_user,
)
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ConsoleSessionRow, UserRow

from .conftest import BANK_A, BANK_B, HUB, OPERATOR, PASSWORD, POLICE

Uow = Callable[[], UnitOfWork]


def _add(uow_factory: Uow, passwords: Passwords, name: str, role: Role, member: str | None) -> None:
    with uow_factory() as uow:
        add_user(uow, OPERATOR, name, role, member, PASSWORD, passwords)


@pytest.mark.parametrize(
    ("role", "member"),
    [
        (Role.HUB_SUPERVISOR, None),
        (Role.MEMBER_ADMIN, BANK_A),
        (Role.MEMBER_ANALYST, BANK_B),
        (Role.POLICE_OFFICER, POLICE),
        (Role.AUDITOR, None),
    ],
)
def test_each_role_is_created_with_its_kind_of_member_and_audited(
    institutions: Uow, passwords: Passwords, role: Role, member: str | None
) -> None:
    with institutions() as uow:
        user = add_user(uow, OPERATOR, "someone", role, member, PASSWORD, passwords)
    assert (user.role, user.member, user.disabled) == (role, member, False)
    with institutions() as uow:
        stored = uow.session.scalars(select(UserRow)).one()
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        (record,) = uow.audit.tail(1)
    assert (record.actor, record.action, record.subject) == (
        "system:test",
        "user_add",
        "user:someone",
    )
    assert record.details == {"role": role.value, "member": member}


@pytest.mark.parametrize(
    ("role", "member", "reason"),
    [
        (Role.MEMBER_ANALYST, None, "belongs to a member"),
        (Role.MEMBER_ADMIN, HUB, "belongs to a bank or payment_institution"),
        (Role.HUB_SUPERVISOR, BANK_A, "belongs to no member"),
        (Role.AUDITOR, BANK_A, "belongs to no member"),
        (Role.POLICE_OFFICER, BANK_A, "belongs to a police_unit"),
        (Role.MEMBER_SYSTEM, BANK_A, "for API keys"),
    ],
)
def test_a_role_with_the_wrong_member_is_refused(
    institutions: Uow, passwords: Passwords, role: Role, member: str | None, reason: str
) -> None:
    with institutions() as uow, pytest.raises(InvalidInput, match=reason):
        add_user(uow, OPERATOR, "someone", role, member, PASSWORD, passwords)


def test_an_unknown_member_is_not_found(institutions: Uow, passwords: Passwords) -> None:
    with institutions() as uow, pytest.raises(NotFound, match="institution not found: B999"):
        add_user(uow, OPERATOR, "someone", Role.MEMBER_ANALYST, "B999", PASSWORD, passwords)


@pytest.mark.parametrize("name", ["A", "x", "1abc", "has space", "é", "a" * 33, "u13812345678"])
def test_malformed_user_names_are_refused(
    institutions: Uow, passwords: Passwords, name: str
) -> None:
    with institutions() as uow, pytest.raises(InvalidInput) as raised:
        add_user(uow, OPERATOR, name, Role.AUDITOR, None, PASSWORD, passwords)
    assert raised.value.field == "username"


def test_a_taken_name_is_a_conflict(institutions: Uow, passwords: Passwords) -> None:
    _add(institutions, passwords, "alice", Role.AUDITOR, None)
    with institutions() as uow, pytest.raises(Conflict, match="exists already"):
        add_user(uow, OPERATOR, "alice", Role.HUB_SUPERVISOR, None, PASSWORD, passwords)


def test_a_member_admin_manages_only_its_own_members_users(
    institutions: Uow, passwords: Passwords
) -> None:
    admin = Actor(ActorKind.USER, "admin", Role.MEMBER_ADMIN, BANK_A, 1)
    with institutions() as uow:
        made = add_user(uow, admin, "clerk", Role.MEMBER_ANALYST, BANK_A, PASSWORD, passwords)
    assert made.member == BANK_A
    with institutions() as uow, pytest.raises(PermissionDenied):
        add_user(uow, admin, "spy", Role.MEMBER_ANALYST, BANK_B, PASSWORD, passwords)
    with institutions() as uow, pytest.raises(PermissionDenied):
        add_user(uow, admin, "boss", Role.HUB_SUPERVISOR, None, PASSWORD, passwords)
    analyst = Actor(ActorKind.USER, "clerk", Role.MEMBER_ANALYST, BANK_A, 2)
    with institutions() as uow, pytest.raises(PermissionDenied):
        add_user(uow, analyst, "friend", Role.MEMBER_ANALYST, BANK_A, PASSWORD, passwords)


def test_a_member_admin_sees_and_changes_only_its_own_members_users(
    institutions: Uow, passwords: Passwords
) -> None:
    _add(institutions, passwords, "ours", Role.MEMBER_ANALYST, BANK_A)
    _add(institutions, passwords, "theirs", Role.MEMBER_ANALYST, BANK_B)
    _add(institutions, passwords, "hub", Role.HUB_SUPERVISOR, None)
    admin = Actor(ActorKind.USER, "admin", Role.MEMBER_ADMIN, BANK_A, 1)
    with institutions() as uow:
        assert [user.username for user in list_users(uow, admin)] == ["ours"]
        assert [user.username for user in list_users(uow, admin, BANK_A)] == ["ours"]
        assert get_user(uow, admin, "ours").member == BANK_A
        unlock_user(uow, admin, "ours")
    with institutions() as uow, pytest.raises(PermissionDenied):
        list_users(uow, admin, BANK_B)
    # Another member's user, or the hub's, reads as a name no one holds.
    for name in ("theirs", "hub"):
        for change in (
            lambda uow, name=name: get_user(uow, admin, name),
            lambda uow, name=name: set_password(
                uow, admin, name, "a brand new password", passwords
            ),
            lambda uow, name=name: unlock_user(uow, admin, name),
            lambda uow, name=name: set_disabled(uow, admin, name, disabled=True),
        ):
            with institutions() as uow, pytest.raises(NotFound, match=f"user not found: {name}"):
                change(uow)
    hub = Actor(ActorKind.USER, "boss", Role.HUB_SUPERVISOR, None, 2)
    with institutions() as uow:
        assert [user.username for user in list_users(uow, hub)] == ["hub", "ours", "theirs"]
        assert [user.username for user in list_users(uow, OPERATOR, BANK_B)] == ["theirs"]


def test_a_role_without_the_right_manages_no_user(institutions: Uow, passwords: Passwords) -> None:
    _add(institutions, passwords, "alice", Role.MEMBER_ANALYST, BANK_A)
    for role, member in ((Role.MEMBER_ANALYST, BANK_A), (Role.AUDITOR, None)):
        someone = Actor(ActorKind.USER, "someone", role, member, 3)
        with institutions() as uow, pytest.raises(PermissionDenied, match="manage_users"):
            list_users(uow, someone)
        with institutions() as uow, pytest.raises(PermissionDenied, match="manage_users"):
            set_password(uow, someone, "alice", "a brand new password", passwords)
        with institutions() as uow, pytest.raises(PermissionDenied, match="manage_users"):
            create_demo_users(uow, someone, BANK_A, BANK_B, POLICE, passwords)


def test_demo_users_are_created_once_with_the_documented_password(
    institutions: Uow, passwords: Passwords
) -> None:
    with institutions() as uow:
        made = create_demo_users(uow, OPERATOR, BANK_A, BANK_B, POLICE, passwords)
    expected = {
        "supervisor": (Role.HUB_SUPERVISOR, None),
        "analyst1": (Role.MEMBER_ANALYST, BANK_A),
        "analyst2": (Role.MEMBER_ANALYST, BANK_B),
        "police": (Role.POLICE_OFFICER, POLICE),
        "auditor": (Role.AUDITOR, None),
    }
    assert {user.username: (user.role, user.member) for user in made} == expected
    with institutions() as uow:
        again = create_demo_users(uow, OPERATOR, BANK_A, BANK_B, POLICE, passwords)
        assert [user.id for user in again] == [user.id for user in made]
        assert len(list_users(uow, OPERATOR)) == 5
        signed = sign_in(
            uow,
            passwords,
            "analyst2",
            DEMO_PASSWORD,
            ip=None,
            policy=SessionPolicy.of(),
            addresses=AddressThrottle.of(),
        )
    assert signed.user.member == BANK_B
    notice = demo_notice(BANK_A, BANK_B, POLICE)
    assert DEMO_PASSWORD in notice
    assert all(name in notice for name in expected)


def test_demo_users_refuse_a_database_where_a_name_has_another_role(
    institutions: Uow, passwords: Passwords
) -> None:
    _add(institutions, passwords, "analyst1", Role.MEMBER_ANALYST, BANK_B)
    with institutions() as uow, pytest.raises(Conflict, match="fresh database"):
        create_demo_users(uow, OPERATOR, BANK_A, BANK_B, POLICE, passwords)
    with institutions() as uow, pytest.raises(InvalidInput, match="must differ"):
        create_demo_users(uow, OPERATOR, BANK_A, BANK_A, POLICE, passwords)


def test_a_new_password_lifts_the_wait_and_disabling_ends_the_sessions(
    institutions: Uow, passwords: Passwords
) -> None:
    _add(institutions, passwords, "alice", Role.AUDITOR, None)
    policy = SessionPolicy.of(SecuritySettings(user_free_failures=1))
    addresses = AddressThrottle.of()
    with institutions() as uow, pytest.raises(LoginFailed):
        sign_in(
            uow, passwords, "alice", "wrong password!", ip=None, policy=policy, addresses=addresses
        )
    with institutions() as uow:
        assert get_user(uow, OPERATOR, "alice").locked_until is not None
        set_password(uow, OPERATOR, "alice", "a brand new password", passwords)
        assert get_user(uow, OPERATOR, "alice").locked_until is None
        sign_in(
            uow,
            passwords,
            "alice",
            "a brand new password",
            ip=None,
            policy=policy,
            addresses=addresses,
        )
        assert len(uow.session.scalars(select(ConsoleSessionRow)).all()) == 1
        set_disabled(uow, OPERATOR, "alice", disabled=True)
        assert uow.session.scalars(select(ConsoleSessionRow)).all() == []
        assert get_user(uow, OPERATOR, "alice").disabled
        unlock_user(uow, OPERATOR, "alice")
        actions = [record.action for record in uow.audit.tail(6)]
    assert actions[-4:] == ["user_password_set", "login", "user_disable", "user_unlock"]
