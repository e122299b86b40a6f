"""Online closure on SQLite and PostgreSQL: a verified request closes an account that nothing
holds; otherwise every blocker is named, the refusal audited and the account left open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auth import world
from fundwall.accounts.closure import Verification, close_online
from fundwall.accounts.controls import restrict
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.tables import AccountRow

from .conftest import OPERATOR, Uow

BANK = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
OTHER = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, world.BANK_B)
HOME = "6222020200112233445"
APP = Verification.MEMBER_CHANNEL


def test_a_balance_blocks_the_closure_even_with_somewhere_to_go(stocked: Uow) -> None:
    """A closed account pays nothing (HC01): closing one that holds money would strand it."""
    with stocked() as uow:
        with pytest.raises(Conflict, match=r"balance of ¥[\d,.]+ must be moved out") as kept:
            close_online(uow, BANK, "A1", APP)
        with pytest.raises(Conflict, match=r"moved out first \(to 6222\*+3445, as asked") as named:
            close_online(uow, BANK, "A1", APP, move_to=HOME)
        row = uow.session.get(AccountRow, "A1")
        assert row is not None and row.status == "normal"
        row.balance_fen = 0  # the holder's transfer out took all of it
        uow.commit()
        closed = close_online(uow, BANK, "A1", APP, move_to=HOME)
        assert row.status == "closed"
        first, second, status = uow.audit.tail(3)
    assert "A1" not in str(kept.value) and HOME not in str(named.value)
    assert closed.account.status.value == "closed" and closed.move_to == HOME
    assert first.action == second.action == "closure_refused"
    assert second.details["move_to"] == "6222***********3445"
    assert status.action == "set_account_status" and "online closure" in status.details["reason"]


def test_a_member_cannot_say_the_public_portal_verified_the_holder(stocked: Uow) -> None:
    with stocked() as uow:
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0
        uow.commit()
        with pytest.raises(InvalidInput) as lying:
            close_online(uow, BANK, "A1", Verification.PUBLIC_PORTAL)
        assert lying.value.field == "verification" and row.status == "normal"


def test_another_members_case_neither_blocks_nor_shows(stocked: Uow) -> None:
    with stocked() as uow:
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0
        world.add_open_case(uow, world.BANK_B, "A1", "theirs")
        assert close_online(uow, BANK, "A1", APP).account.status.value == "closed"


def test_every_blocker_is_named_and_the_account_stays_open(stocked: Uow) -> None:
    with stocked() as uow:
        now = uow.clock.now()
        restrict(uow, OPERATOR, "A2", RestrictionKind.STOP_PAYMENT, reason="紧急止付",
                 ends_at=now + timedelta(hours=48), order_reference="ZF-1")  # fmt: skip
        world.add_open_case(uow, world.BANK_A, "A2", "mule?")
        with pytest.raises(Conflict) as refused:
            close_online(uow, BANK, "A2", APP, move_to=HOME)
        row = uow.session.get(AccountRow, "A2")
        assert row is not None and row.status == "normal"
    said = str(refused.value)
    assert "stop_payment restriction is in force" in said and "case" in said and "open" in said


def test_a_bad_request_is_refused_naming_its_field(stocked: Uow) -> None:
    with stocked() as uow:
        with pytest.raises(NotFound):
            close_online(uow, OTHER, "A1", APP, move_to=HOME)
        with pytest.raises(InvalidInput, match="verification"):
            close_online(uow, BANK, "A1", "a phone call", move_to=HOME)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput) as bad:
            close_online(uow, BANK, "A1", APP, move_to="12")
        assert bad.value.field == "move_to"
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0
        uow.commit()
        close_online(uow, BANK, "A1", APP, move_to=HOME)
        with pytest.raises(Conflict, match="closed already"):
            close_online(uow, BANK, "A1", APP, move_to=HOME)
