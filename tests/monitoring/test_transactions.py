"""Transaction search and a transaction's view on SQLite and PostgreSQL, over the small
two-bank world of tests/auth/world.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor, ActorKind, Role
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.monitoring.transactions import TxFilter, search_transactions, transaction_view
from fundwall.rulepacks.library import PackLibrary
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]

HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)


def _user(uow: UnitOfWork, name: str) -> Actor:
    return world.user_actor(uow, name)


def test_searches_filter_by_account_time_amount_and_action(stocked: Uow) -> None:
    def ids(**wanted: object) -> list[str]:
        page = search_transactions(uow, bob, TxFilter(**wanted))  # type: ignore[arg-type]
        return [item.tx_id for item in page.items]

    with stocked() as uow:
        bob = _user(uow, "bob")
        assert ids() == ["T5", "T4", "T3", "T2"]
        assert ids(account="B1") == ["T4", "T3", "T2"]
        assert ids(min_fen=300_000, max_fen=400_000) == ["T4", "T3"]
        assert ids(start=world.START + timedelta(hours=8)) == ["T5", "T4", "T3"]
        assert ids(end=world.START + timedelta(hours=8)) == ["T2"]
        assert ids(action=Action.DELAY) == ["T3"]
        # T2 was decided by bank A: bank B sees the transaction, not A's decision on it.
        assert ids(action=Action.PASS) == ["T5", "T2"]
        found = search_transactions(uow, bob, TxFilter(account="B1")).items
    assert {item.tx_id: item.action for item in found} == {
        "T4": Action.WARN,
        "T3": Action.DELAY,
        "T2": None,
    }


def test_the_payees_bank_sees_its_decision_and_alert_on_a_deposit(stocked: Uow) -> None:
    with stocked() as uow:
        world.add_deposit(uow)
        bob, ann = _user(uow, "bob"), _user(uow, "ann")
        delayed = search_transactions(uow, bob, TxFilter(action=Action.DELAY)).items
        view = transaction_view(uow, bob, world.DEPOSIT, PackLibrary(None))
        with pytest.raises(NotFound):
            transaction_view(uow, ann, world.DEPOSIT, PackLibrary(None))
        seen_by_a = [item.tx_id for item in search_transactions(uow, ann, TxFilter()).items]
    assert [item.tx_id for item in delayed] == [world.DEPOSIT, "T3"]
    assert view.live is not None and view.live.action is Action.DELAY
    assert view.alert is not None and view.alert.tx_id == world.DEPOSIT
    assert view.own_accounts == {"B1"}
    assert world.DEPOSIT not in seen_by_a


def test_roles_without_customer_data_are_refused(stocked: Uow) -> None:
    with stocked() as uow:
        with pytest.raises(PermissionDenied):
            search_transactions(uow, HUB, TxFilter())
        with pytest.raises(PermissionDenied):
            transaction_view(uow, HUB, "T1", PackLibrary(None))
