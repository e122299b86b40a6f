"""`fundwall user` and `fundwall apikey`: console users and members' API keys.

Run by whoever holds the database (the operator), so these commands need no console
right; each change is audited as `system:cli`. Passwords are asked for twice without
echo, or read from standard input with `--password-stdin` (scripts); there is no default
password anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from fundwall.domain.errors import InvalidInput

if TYPE_CHECKING:
    from fundwall.auth import Role
    from fundwall.bootstrap import Platform
    from fundwall.members import ApiKey
    from fundwall.store import UnitOfWork


T = TypeVar("T")

user_app = typer.Typer(
    name="user", help="Console users: add, list, change passwords, unlock.", no_args_is_help=True
)
apikey_app = typer.Typer(
    name="apikey",
    help="API keys of members for system-to-system calls: add (shown once), list, revoke.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]
Member = Annotated[str | None, typer.Option(help="Institution code of the member.")]


def _run(change: Callable[[UnitOfWork, Platform], T]) -> T:
    """`change` in a unit of work of the configured platform, which acts as its operator."""
    from fundwall import bootstrap

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        return change(uow, platform)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("no password on standard input", "password")
        return line.rstrip("\r\n")
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


def _role(value: str) -> Role:
    from fundwall.auth import Role

    try:
        role = Role(value)
    except ValueError:
        names = ", ".join(role.value for role in Role if role.assignable)
        raise InvalidInput(f"one of {names}", "role") from None
    return role


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name: a-z, 0-9, '.', '_', '-'.")],
    role: Annotated[
        str,
        typer.Option(
            help="hub_supervisor, member_admin, member_analyst, police_officer or auditor."
        ),
    ],
    member: Member = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; member roles need --member (a bank or payment institution)."""
    from fundwall.members import add_user

    chosen = _role(role)
    password = _password(password_stdin)
    user = _run(
        lambda uow, p: add_user(uow, p.operator, name, chosen, member, password, p.passwords)
    )
    where = f" of {user.member}" if user.member else ""
    console.print(f"user {user.username} added: {user.role.value}{where}")


@user_app.command("list")
def user_list(member: Member = None) -> None:
    """Every user (or a member's), with role, state and last sign-in."""
    from fundwall.members import list_users

    users, now = _run(lambda uow, p: (list_users(uow, p.operator, member), uow.clock.now()))
    if not users:
        console.print("no users")
        return
    table = Table("user", "role", "member", "state", "last sign-in")
    for user in users:
        waits = user.waits_until(now)
        if user.disabled:
            state = "disabled"
        elif waits is not None:
            state = f"sign-ins wait until {waits.isoformat(timespec='seconds')}"
        else:
            state = "active"
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "never"
        table.add_row(user.username, user.role.value, user.member or "", state, last)
    console.print(table)


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Give a user a new password (and lift any sign-in wait)."""
    from fundwall.members import set_password

    password = _password(password_stdin)
    _run(lambda uow, p: set_password(uow, p.operator, name, password, p.passwords))
    console.print(f"password of {name} changed")


@user_app.command("unlock")
def user_unlock(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Lift the wait on a user's sign-ins after wrong passwords, before it ends by itself."""
    from fundwall.members import unlock_user

    _run(lambda uow, p: unlock_user(uow, p.operator, name))
    console.print(f"sign-ins of {name} no longer wait")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Stop a user from signing in and end its sessions."""
    from fundwall.members import set_disabled

    _run(lambda uow, p: set_disabled(uow, p.operator, name, disabled=True))
    console.print(f"{name} disabled")


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Let a disabled user sign in again."""
    from fundwall.members import set_disabled

    _run(lambda uow, p: set_disabled(uow, p.operator, name, disabled=False))
    console.print(f"{name} enabled")


@apikey_app.command("add")
def apikey_add(
    member: Annotated[str, typer.Option(help="Institution code of the member.")],
    label: Annotated[str, typer.Option(help="What the key is for.")] = "system",
) -> None:
    """Make an API key for a member and print it: it is shown this once, never again."""
    from fundwall.members import create_api_key

    key, text = _run(lambda uow, p: create_api_key(uow, p.operator, member, label))
    console.print(
        f"API key {key.key_id} for {key.member} ({key.label}); keep it now, it is not shown again:"
    )
    console.print(text, markup=False)


@apikey_app.command("list")
def apikey_list(member: Member = None) -> None:
    """Keys (never their secrets) with member, label and use."""
    from fundwall.members import list_api_keys

    keys: list[ApiKey] = _run(lambda uow, p: list_api_keys(uow, p.operator, member))
    if not keys:
        console.print("no API keys")
        return
    table = Table("key id", "member", "label", "created", "last used", "state")
    for key in keys:
        table.add_row(
            key.key_id,
            key.member,
            key.label,
            key.created_at.isoformat(timespec="seconds"),
            key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never",
            "revoked" if key.revoked_at else "active",
        )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key id (not the key).")]) -> None:
    """Revoke a key for good."""
    from fundwall.members import revoke_api_key

    _run(lambda uow, p: revoke_api_key(uow, p.operator, key_id))
    console.print(f"API key {key_id} revoked")
