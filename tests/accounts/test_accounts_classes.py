"""Changing an account's class (账户分类变更) on SQLite and PostgreSQL: audited, within what
a bank may open for one person, never on a closed account or another member's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auth import world
from fundwall.accounts import change_account
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.config import PolicySettings
from fundwall.domain.accounts import (
    Account,
    AccountClass,
    AccountStatus,
    OpeningChannel,
    RiskTier,
)
from fundwall.domain.errors import Conflict, NotFound
from fundwall.store.mapping import account_row
from fundwall.store.tables import AccountRow

from .conftest import Uow

BANK = Actor(ActorKind.API_KEY, "ka", Role.MEMBER_SYSTEM, world.BANK_A)
OTHER = Actor(ActorKind.API_KEY, "kb", Role.MEMBER_SYSTEM, world.BANK_B)
POLICY = PolicySettings()


def _class_ii(number: str, party: str = "P1") -> Account:
    return Account(
        number, world.BANK_A, party, AccountClass.CLASS_II, AccountStatus.NORMAL, RiskTier.LOW,
        world.START - timedelta(days=30), OpeningChannel.MOBILE,
    )  # fmt: skip


def test_an_upgrade_past_what_a_bank_may_open_for_one_person_is_refused(stocked: Uow) -> None:
    with stocked() as uow:
        uow.session.add(account_row(_class_ii("A3")))  # P1 holds A1, class I, already
        uow.commit()
        with pytest.raises(Conflict, match=r"1 open class I account\(s\) at this bank already"):
            change_account(uow, BANK, "A3", reason="升级", account_class=AccountClass.CLASS_I,
                           policy=POLICY)  # fmt: skip
        row = uow.session.get(AccountRow, "A3")
        assert row is not None and row.account_class == "II"
        # Once A1 is downgraded, A3 may become the person's class I account.
        change_account(uow, BANK, "A1", reason="降级", account_class=AccountClass.CLASS_II,
                       policy=POLICY)  # fmt: skip
        upgraded = change_account(uow, BANK, "A3", reason="升级",
                                  account_class=AccountClass.CLASS_I, policy=POLICY)  # fmt: skip
        record = uow.audit.tail(1)[0]
    assert upgraded.account_class is AccountClass.CLASS_I
    assert record.action == "change_account_class" and record.details["to"] == "I"


def test_a_closed_or_another_members_account_keeps_its_class(stocked: Uow) -> None:
    with stocked() as uow:
        uow.session.add(account_row(_class_ii("A3")))
        uow.commit()
        change_account(uow, BANK, "A3", reason="销户", status=AccountStatus.CLOSED)
        with pytest.raises(Conflict, match="closed"):
            change_account(uow, BANK, "A3", reason="x", account_class=AccountClass.CLASS_III,
                           policy=POLICY)  # fmt: skip
        with pytest.raises(NotFound):
            change_account(uow, OTHER, "A1", reason="x", account_class=AccountClass.CLASS_II,
                           policy=POLICY)  # fmt: skip
        row = uow.session.get(AccountRow, "A3")
        assert row is not None and row.account_class == "II"
