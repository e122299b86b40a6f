"""`fundwall user` and `fundwall apikey` against a real database."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from fundwall.auth import (
    AddressThrottle,
    LoginFailed,
    SessionPolicy,
    SignedIn,
    actor_for_key,
    sign_in,
)
from fundwall.auth.passwords import Passwords
from fundwall.cli import app, main
from fundwall.cli import users as user_commands
from fundwall.store import UnitOfWork
from fundwall.store.auth_tables import UserRow

from .conftest import BANK_A

runner = CliRunner()
Uow = Callable[[], UnitOfWork]
NEW_PASSWORD = "a new long password"


def _sign_in_clerk(uow: UnitOfWork) -> SignedIn:
    return sign_in(
        uow,
        Passwords(),
        "clerk",
        NEW_PASSWORD,
        ip=None,
        policy=SessionPolicy.of(),
        addresses=AddressThrottle.of(),
    )


@pytest.fixture
def cli(institutions: Uow, migrated_database_url: str, own_settings: pytest.MonkeyPatch) -> Uow:
    own_settings.setenv("FUNDWALL_DATABASE_URL", migrated_database_url)
    # A wide console whatever COLUMNS was when the module was first imported (80 in an
    # xdist worker), so that no cell of a table is wrapped.
    own_settings.setattr(user_commands.console, "width", 200)
    return institutions


def _invoke(*args: str, stdin: str | None = None) -> str:
    # A wide terminal, so that no cell of a table is wrapped.
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_users_are_added_listed_and_given_new_passwords(cli: Uow) -> None:
    out = _invoke(
        "user",
        "add",
        "clerk",
        "--role",
        "member_analyst",
        "--member",
        BANK_A,
        "--password-stdin",
        stdin="first long password\n",
    )
    assert out.strip() == f"user clerk added: member_analyst of {BANK_A}"
    _invoke(
        "user",
        "add",
        "boss",
        "--role",
        "hub_supervisor",
        stdin="second long password\nsecond long password\n",
    )
    listed = _invoke("user", "list")
    assert "clerk" in listed and "boss" in listed and "never" in listed
    assert "clerk" in _invoke("user", "list", "--member", BANK_A)
    assert "boss" not in _invoke("user", "list", "--member", BANK_A)
    _invoke("user", "passwd", "clerk", "--password-stdin", stdin=f"{NEW_PASSWORD}\n")
    with cli() as uow:
        signed = _sign_in_clerk(uow)
    assert signed.user.member == BANK_A
    _invoke("user", "disable", "clerk")
    with cli() as uow, pytest.raises(LoginFailed):
        _sign_in_clerk(uow)
    _invoke("user", "enable", "clerk")
    assert _invoke("user", "unlock", "clerk").strip() == "sign-ins of clerk no longer wait"
    with cli() as uow:
        actors = {record.actor for record in uow.audit.tail(10)}
    assert "system:cli" in actors


def test_the_list_says_until_when_a_users_sign_ins_wait(cli: Uow) -> None:
    _invoke(
        "user",
        "add",
        "clerk",
        "--role",
        "auditor",
        "--password-stdin",
        stdin="first long password\n",
    )
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    with cli() as uow:
        uow.session.execute(update(UserRow).values(locked_until=until))
        uow.commit()
    listed = _invoke("user", "list")
    assert f"sign-ins wait until {until.isoformat(timespec='seconds')}" in listed
    assert "locked" not in listed
    _invoke("user", "unlock", "clerk")
    assert "active" in _invoke("user", "list")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "x1", "--role", "chief"), "", "field 'role': one of hub_supervisor"),
        (("user", "add", "x1", "--role", "auditor", "--password-stdin"), "short\n", "12 char"),
        (("user", "add", "x1", "--role", "auditor", "--password-stdin"), "", "no password"),
        (
            ("user", "add", "x1", "--role", "member_analyst", "--password-stdin"),
            "long enough password\n",
            "give --member",
        ),
        (("user", "passwd", "ghost", "--password-stdin"), "long enough password\n", "not found"),
        (("apikey", "add", "--member", "B999"), "", "institution not found: B999"),
    ],
)
def test_mistakes_are_one_line_and_exit_code_2(
    cli: Uow,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    stdin: str,
    message: str,
) -> None:
    monkeypatch.setattr(sys, "argv", ["fundwall", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as leaving:
        main()
    assert leaving.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error
    assert len(error.strip().splitlines()) == 1


def test_an_api_key_is_printed_once_then_listed_without_its_secret(cli: Uow) -> None:
    out = _invoke("apikey", "add", "--member", BANK_A, "--label", "core banking")
    key = out.strip().splitlines()[-1]
    assert key.startswith("fwk_")
    key_id = key.split("_")[1]
    listed = _invoke("apikey", "list")
    assert key_id in listed and key not in listed and "active" in listed
    with cli() as uow:
        assert actor_for_key(uow, key) is not None
    _invoke("apikey", "revoke", key_id)
    assert "revoked" in _invoke("apikey", "list", "--member", BANK_A)
    with cli() as uow:
        assert actor_for_key(uow, key) is None
