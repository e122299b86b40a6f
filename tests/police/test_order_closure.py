"""Online closure against a police order (线上销户 while 紧急止付 holds): refused naming the
order while it is in force, possible once it has run out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auth import world
from fundwall.accounts.closure import Verification, close_online
from fundwall.auth import Actor, ActorKind, Role
from fundwall.clock import FixedClock
from fundwall.domain.errors import Conflict
from fundwall.domain.police import OrderKind
from fundwall.police import expire_orders, issue_order
from fundwall.store.tables import AccountRow

from .conftest import OFFICER, OPERATOR, Uow, request

BANK_SYSTEM = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
HOME = "6222020200112233445"


def test_a_closure_is_refused_while_an_order_is_in_force(stocked: Uow, clock: FixedClock) -> None:
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT))
        with pytest.raises(Conflict) as refused:
            close_online(uow, BANK_SYSTEM, "A1", Verification.MEMBER_CHANNEL, move_to=HOME)
    said = str(refused.value)
    assert f"police order {stop.item.document_no} is in force" in said
    assert "stop_payment restriction" in said
    clock.advance(timedelta(hours=49))
    with stocked() as uow:
        assert expire_orders(uow, OPERATOR) == [stop.id]
        row = uow.session.get(AccountRow, "A1")
        assert row is not None
        row.balance_fen = 0  # the holder moved the money out once the order ended
        uow.commit()
        closed = close_online(uow, BANK_SYSTEM, "A1", Verification.MEMBER_CHANNEL, move_to=HOME)
    assert closed.account.status.value == "closed"
