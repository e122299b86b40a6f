"""The demo users (演示用户): one per role a person holds, with one documented password."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.passwords import Passwords
from fundwall.auth.roles import Permission, Role
from fundwall.auth.usecase import use_case
from fundwall.auth.users import User
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.members.users import add_user
from fundwall.store.auth_tables import UserRow
from fundwall.store.uow import UnitOfWork

DEMO_PASSWORD: Final = "fundwall-demo"
"""The one password of the demo users; it exists only where `create_demo_users` ran."""


def demo_users(
    first_bank: str, second_bank: str, police_unit: str
) -> tuple[tuple[str, Role, str | None], ...]:
    """The demo users: (name, role, member)."""
    return (
        ("supervisor", Role.HUB_SUPERVISOR, None),
        ("analyst1", Role.MEMBER_ANALYST, first_bank),
        ("analyst2", Role.MEMBER_ANALYST, second_bank),
        ("police", Role.POLICE_OFFICER, police_unit),
        ("auditor", Role.AUDITOR, None),
    )


@use_case(Permission.MANAGE_USERS)
def create_demo_users(
    uow: UnitOfWork,
    actor: Actor,
    first_bank: str,
    second_bank: str,
    police_unit: str,
    passwords: Passwords,
) -> list[User]:
    """Create the documented demo users with the password `DEMO_PASSWORD`, and commit.

    supervisor (hub supervisor), analyst1 (analyst of `first_bank`), analyst2 (analyst of
    `second_bank`), police (police officer of `police_unit`), auditor (auditor). Users that
    exist already with the same role and member are kept as they are, so the demo can start
    again on the same database; a user of the same name with another role is a Conflict.
    """
    if first_bank == second_bank:
        raise InvalidInput("the two demo banks must differ", "second_bank")
    users = []
    for name, role, member in demo_users(first_bank, second_bank, police_unit):
        found = uow.session.scalars(select(UserRow).where(UserRow.username == name)).one_or_none()
        if found is None:
            users.append(add_user(uow, actor, name, role, member, DEMO_PASSWORD, passwords))
            continue
        if (found.role, found.member_code) != (role.value, member):
            raise Conflict(
                f"user {name} exists as {found.role}"
                f"{' of ' + found.member_code if found.member_code else ''}; "
                "the demo needs a fresh database"
            )
        users.append(User.of(found))
    return users


def demo_notice(first_bank: str, second_bank: str, police_unit: str) -> str:
    """The lines the demo prints on start, naming each demo user and the password."""
    lines = [f"Demo users (password {DEMO_PASSWORD}; they exist only in this demo database):"]
    for name, role, member in demo_users(first_bank, second_bank, police_unit):
        lines.append(f"  {name:<11} {role.value}{f' of {member}' if member else ''}")
    return "\n".join(lines)
