"""A transaction's view shows a member's analysts no figure of another member's customer.

In the two-bank world of tests/auth/world.py, B001's customer A1 pays two young accounts
that passed on most of the ¥60,000 they received today: B1, held by B002, and A2, held by
B001 itself; the default pack's R006 and R045 fire on both. B001's analyst reads the first
without B1's figures and the second with A2's; the log keeps them all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from auth import world  # tests/auth/world.py: the two-bank world of the tenancy tests
from fundwall.auth import Actor
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.features.catalog import feature_names
from fundwall.engine.rules import default_pack
from fundwall.monitoring.transactions import DecisionView, transaction_view
from fundwall.rulepacks.library import PackLibrary
from fundwall.store import UnitOfWork
from fundwall.store.mapping import decision_of, decision_row, transaction_row
from fundwall.store.tables import DecisionRow

Uow = Callable[[], UnitOfWork]
PAYEE = {name for name in feature_names() if name.startswith("payee_")}
FIGURES = ("¥60,000.00", "¥55,000.00", "30天", "30 days")
"""The payee accounts' 24-hour inflow and outflow and age, as the reasons write them."""
PAYMENTS = {"T6": ("B1", world.BANK_B), "T7": ("A2", world.BANK_A)}


def pass_through_decision(tx_id: str) -> Decision:
    """The default pack's decision on ¥2,000 into a 30-day-old pass-through account."""
    features = {name: 0.0 for name in feature_names()} | {
        "amount": 2_000_00,
        "payer_class": 1,
        "payer_age_days": 400,
        "payee_class": 1,
        "payee_age_days": 30,
        "payee_in_sum_24h": 60_000_00,
        "payee_out_sum_24h": 55_000_00,
    }
    pack = default_pack()
    result = pack.evaluate(features)
    return Decision(tx_id, result.action, result.score, result.reasons(), pack.version)


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
    with uow_factory() as uow:
        world.add_users(uow)
        ts = world.START + timedelta(hours=30)
        for tx_id, (payee, payee_bank) in PAYMENTS.items():
            tx = Transaction(
                tx_id,
                ts,
                TransactionKind.TRANSFER,
                "A1",
                payee,
                world.BANK_A,
                payee_bank,
                Money(2_000_00),
                Channel.MOBILE,
            )
            uow.session.add(transaction_row(tx))
            uow.session.add(decision_row(pass_through_decision(tx_id), decided_at=ts))
        uow.commit()
    return uow_factory


def view_of(uow: UnitOfWork, username: str, tx_id: str) -> DecisionView | None:
    actor: Actor = world.user_actor(uow, username)
    return transaction_view(uow, actor, tx_id, PackLibrary(None)).live


def shows_figures(view: DecisionView) -> bool:
    words = " ".join(reason.text.zh + reason.text.en for reason in view.reasons)
    names = {value.name for reason in view.reasons for value in reason.values}
    shown = {value.shown.zh + value.shown.en for reason in view.reasons for value in reason.values}
    return any(figure in words or figure in shown for figure in FIGURES) or bool(PAYEE & names)


def test_the_payers_analyst_reads_another_members_payee_without_its_figures(
    stocked: Uow,
) -> None:
    with stocked() as uow:
        view = view_of(uow, "ann", "T6")
    assert view is not None
    assert [reason.rule_id for reason in view.reasons][:2] == ["R006", "R045"]
    assert not shows_figures(view)
    r006 = view.reasons[0]
    assert "pass-through account" in r006.text.en and "过渡账户" in r006.text.zh
    assert r006.rule_name is not None and r006.score == 40
    r045 = view.reasons[1]
    shown = {value.name: value.shown.en for value in r045.values}
    assert shown.keys() == {"amount", "payer_balance", "balance_share"}  # the payer's own
    assert shown["amount"] == "¥2,000.00"


def test_the_payers_analyst_reads_its_own_members_payee_with_its_figures(stocked: Uow) -> None:
    with stocked() as uow:
        view = view_of(uow, "ann", "T7")
    assert view is not None
    assert shows_figures(view)
    assert "¥60,000.00" in view.reasons[0].text.en


def test_the_log_keeps_every_figure_for_the_hub(stocked: Uow) -> None:
    with stocked() as uow:
        row = uow.session.scalars(select(DecisionRow).where(DecisionRow.tx_id == "T6")).one()
        logged = decision_of(row)
    assert logged == pass_through_decision("T6")
    r006 = logged.reasons[0]
    assert "¥60,000.00" in r006.text_en and r006.values["payee_in_sum_24h"] == 60_000_00


def test_the_payees_member_sees_the_transfer_but_not_the_payers_decision(stocked: Uow) -> None:
    with stocked() as uow:
        assert view_of(uow, "bob", "T6") is None
