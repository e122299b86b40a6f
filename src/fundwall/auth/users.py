"""Users (用户): create, list, change passwords, lift sign-in waits, and the demo users.

Each change is one unit of work with its audit record. A change is made by an `Actor` with
the right to manage users (a member admin only inside its member) or by a `SystemActor`,
the command line run by whoever holds the database, which needs no further right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.passwords import Passwords, check_password
from fundwall.auth.roles import Permission, Role
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import ConsoleSessionRow, UserRow
from fundwall.store.personal_data import personal_data_in
from fundwall.store.tables import InstitutionRow

USERNAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9._-]{1,31}")
DEMO_PASSWORD: Final = "fundwall-demo"
"""The one password of the demo users; it exists only where `create_demo_users` ran."""


@dataclass(frozen=True, slots=True)
class SystemActor:
    """A trusted operator outside the console, e.g. `system:cli` for the command line."""

    name: str

    @property
    def audit_id(self) -> str:
        return f"system:{self.name}"


Operator = Actor | SystemActor


@dataclass(frozen=True, slots=True)
class User:
    """A user as services hand it out: never the password hash."""

    id: int
    username: str
    role: Role
    member: str | None
    disabled: bool
    locked_until: datetime | None
    """Until when the user's sign-ins wait, after wrong passwords (`fundwall.auth.throttle`)."""
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(
            id=row.id,
            username=row.username,
            role=Role(row.role),
            member=row.member_code,
            disabled=row.disabled,
            locked_until=row.locked_until,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
        )

    def actor(self) -> Actor:
        return Actor(ActorKind.USER, self.username, self.role, self.member, self.id)

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def check_username(name: str) -> str:
    """The user name if well formed: 2-32 of a-z 0-9 . _ -, starting with a letter."""
    if not isinstance(name, str) or not USERNAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            "a user name is 2 to 32 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter",
            "username",
        )
    if personal_data_in(name) is not None:
        raise InvalidInput("must not contain an ID or phone number", "username")
    return name


def _check_membership(uow: UnitOfWork, role: Role, member: str | None) -> None:
    if not role.assignable:
        raise InvalidInput(f"role {role.value} is for API keys, not users", "role")
    if member is None:
        if role.needs_member:
            raise InvalidInput(f"a {role.value} belongs to a member: give --member", "member")
        return
    if not role.member_kinds:
        raise InvalidInput(f"a {role.value} belongs to no member institution", "member")
    institution = uow.session.get(InstitutionRow, member)
    if institution is None:
        raise NotFound("institution", member)
    if InstitutionKind(institution.kind) not in role.member_kinds:
        kinds = " or ".join(sorted(kind.value for kind in role.member_kinds))
        raise InvalidInput(
            f"a {role.value} belongs to a {kinds}, and {member} is a {institution.kind}",
            "member",
        )


def _require_user_admin(by: Operator, role: Role, member: str | None) -> None:
    if isinstance(by, SystemActor):
        return
    by.require(Permission.MANAGE_USERS)
    if by.member is not None and (member != by.member or not role.needs_member):
        raise PermissionDenied(f"manage users outside member {by.member}")


def _row(uow: UnitOfWork, username: str) -> UserRow:
    row = uow.session.scalars(select(UserRow).where(UserRow.username == username)).one_or_none()
    if row is None:
        raise NotFound("user", username)
    return row


def add_user(
    uow: UnitOfWork,
    by: Operator,
    username: str,
    role: Role,
    member: str | None,
    password: str,
    passwords: Passwords,
) -> User:
    """Create a user and commit; Conflict if the name is taken."""
    check_username(username)
    role = Role(role)
    _check_membership(uow, role, member)
    _require_user_admin(by, role, member)
    check_password(password, username)
    if uow.session.scalars(select(UserRow.id).where(UserRow.username == username)).first():
        raise Conflict(f"user {username} exists already")
    now = uow.clock.now()
    row = UserRow(
        username=username,
        role=role.value,
        member_code=member,
        password_hash=passwords.hash(password),
        password_changed_at=now,
        created_at=now,
        disabled=False,
        failed_logins=0,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(by, "user_add", f"user:{username}", {"role": role.value, "member": member})
    uow.commit()
    return User.of(row)


def list_users(uow: UnitOfWork, member: str | None = None) -> list[User]:
    """Every user, or those of one member, by name."""
    query = select(UserRow).order_by(UserRow.username)
    if member is not None:
        query = query.where(UserRow.member_code == member)
    return [User.of(row) for row in uow.session.scalars(query)]


def get_user(uow: UnitOfWork, username: str) -> User:
    return User.of(_row(uow, username))


def set_password(
    uow: UnitOfWork, by: Operator, username: str, password: str, passwords: Passwords
) -> None:
    """Give a user a new password (and lift any sign-in wait), then commit."""
    row = _row(uow, username)
    _require_user_admin(by, Role(row.role), row.member_code)
    check_password(password, username)
    row.password_hash = passwords.hash(password)
    row.password_changed_at = uow.clock.now()
    row.failed_logins = 0
    row.locked_until = None
    uow.audit.record(by, "user_password_set", f"user:{username}")
    uow.commit()


def unlock_user(uow: UnitOfWork, by: Operator, username: str) -> None:
    """Lift a sign-in wait before it ends by itself, and forget the failures; commit."""
    row = _row(uow, username)
    _require_user_admin(by, Role(row.role), row.member_code)
    row.failed_logins = 0
    row.locked_until = None
    uow.audit.record(by, "user_unlock", f"user:{username}")
    uow.commit()


def set_disabled(uow: UnitOfWork, by: Operator, username: str, disabled: bool) -> None:
    """Disable a user (it can no longer sign in; its sessions end) or enable it again."""
    row = _row(uow, username)
    _require_user_admin(by, Role(row.role), row.member_code)
    row.disabled = disabled
    action = "user_disable" if disabled else "user_enable"
    if disabled:
        uow.session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == row.id))
    uow.audit.record(by, action, f"user:{username}")
    uow.commit()


def demo_users(first_bank: str, second_bank: str) -> tuple[tuple[str, Role, str | None], ...]:
    """The demo users: (name, role, member)."""
    return (
        ("supervisor", Role.HUB_SUPERVISOR, None),
        ("analyst1", Role.MEMBER_ANALYST, first_bank),
        ("analyst2", Role.MEMBER_ANALYST, second_bank),
        ("police", Role.POLICE_OFFICER, None),
        ("auditor", Role.AUDITOR, None),
    )


def create_demo_users(
    uow: UnitOfWork, first_bank: str, second_bank: str, passwords: Passwords | None = None
) -> list[User]:
    """Create the documented demo users with the password `DEMO_PASSWORD`, and commit.

    supervisor (hub supervisor), analyst1 (analyst of `first_bank`), analyst2 (analyst of
    `second_bank`), police (police officer), auditor (auditor). Users that exist already
    with the same role and member are kept as they are, so the demo can start again on
    the same database; a user of the same name with another role is a Conflict.
    """
    if first_bank == second_bank:
        raise InvalidInput("the two demo banks must differ", "second_bank")
    hasher = passwords or Passwords()
    operator = SystemActor("demo")
    users = []
    for name, role, member in demo_users(first_bank, second_bank):
        found = uow.session.scalars(select(UserRow).where(UserRow.username == name)).one_or_none()
        if found is None:
            users.append(add_user(uow, operator, name, role, member, DEMO_PASSWORD, hasher))
            continue
        if (found.role, found.member_code) != (role.value, member):
            raise Conflict(
                f"user {name} exists as {found.role}"
                f"{' of ' + found.member_code if found.member_code else ''}; "
                "the demo needs a fresh database"
            )
        users.append(User.of(found))
    return users


def demo_notice(first_bank: str, second_bank: str) -> str:
    """The lines the demo prints on start, naming each demo user and the password."""
    lines = [f"Demo users (password {DEMO_PASSWORD}; they exist only in this demo database):"]
    for name, role, member in demo_users(first_bank, second_bank):
        lines.append(f"  {name:<11} {role.value}{f' of {member}' if member else ''}")
    return "\n".join(lines)
