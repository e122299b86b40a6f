"""Console users (用户管理): create them, list them, change their passwords, lift their sign-in
waits, disable and enable them.

Each is a use case requiring `MANAGE_USERS`. The operator (the command line) and the hub
supervisor administer every user; a member admin only its own member's users, and creates
only member roles there. To a member admin another member's user reads as unknown (404),
exactly as a name no one holds. Each change is one transaction with its audit record.
"""

from __future__ import annotations

from sqlalchemy import Select, delete, select

from fundwall.auth.actor import Actor
from fundwall.auth.passwords import Passwords, check_password
from fundwall.auth.roles import Permission, Role
from fundwall.auth.usecase import use_case
from fundwall.auth.users import USERNAME_PATTERN, User
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.store.auth_tables import ConsoleSessionRow, UserRow
from fundwall.store.personal_data import personal_data_in
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork


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


def _administered(actor: Actor) -> Select[UserRow]:
    """The users `actor` administers: its member's, or every user for the region's actors."""
    query = select(UserRow)
    if actor.member is not None:
        query = query.where(UserRow.member_code == actor.member)
    return query


def _row(uow: UnitOfWork, actor: Actor, username: str) -> UserRow:
    found = uow.session.scalars(
        _administered(actor).where(UserRow.username == username)
    ).one_or_none()
    if found is None:
        raise NotFound("user", username)
    return found


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


@use_case(Permission.MANAGE_USERS)
def add_user(
    uow: UnitOfWork,
    actor: Actor,
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
    if actor.member is not None and (member != actor.member or not role.needs_member):
        raise PermissionDenied(f"manage users outside member {actor.member}")
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
    uow.audit.record(actor, "user_add", f"user:{username}", {"role": role.value, "member": member})
    uow.commit()
    return User.of(row)


@use_case(Permission.MANAGE_USERS)
def list_users(uow: UnitOfWork, actor: Actor, member: str | None = None) -> list[User]:
    """The users `actor` administers (or those of one member), by name."""
    if actor.member is not None and member not in (None, actor.member):
        raise PermissionDenied(f"manage users outside member {actor.member}")
    query = _administered(actor).order_by(UserRow.username)
    if member is not None:
        query = query.where(UserRow.member_code == member)
    return [User.of(row) for row in uow.session.scalars(query)]


@use_case(Permission.MANAGE_USERS)
def get_user(uow: UnitOfWork, actor: Actor, username: str) -> User:
    """One user `actor` administers; NotFound for any other name."""
    return User.of(_row(uow, actor, username))


@use_case(Permission.MANAGE_USERS)
def set_password(
    uow: UnitOfWork, actor: Actor, username: str, password: str, passwords: Passwords
) -> None:
    """Give a user a new password (and lift any sign-in wait), then commit."""
    row = _row(uow, actor, username)
    check_password(password, username)
    row.password_hash = passwords.hash(password)
    row.password_changed_at = uow.clock.now()
    row.failed_logins = 0
    row.locked_until = None
    uow.audit.record(actor, "user_password_set", f"user:{username}")
    uow.commit()


@use_case(Permission.MANAGE_USERS)
def unlock_user(uow: UnitOfWork, actor: Actor, username: str) -> None:
    """Lift a sign-in wait before it ends by itself, and forget the failures; commit."""
    row = _row(uow, actor, username)
    row.failed_logins = 0
    row.locked_until = None
    uow.audit.record(actor, "user_unlock", f"user:{username}")
    uow.commit()


@use_case(Permission.MANAGE_USERS)
def set_disabled(uow: UnitOfWork, actor: Actor, username: str, disabled: bool) -> None:
    """Disable a user (it can no longer sign in; its sessions end) or enable it again."""
    row = _row(uow, actor, username)
    row.disabled = disabled
    action = "user_disable" if disabled else "user_enable"
    if disabled:
        uow.session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == row.id))
    uow.audit.record(actor, action, f"user:{username}")
    uow.commit()
