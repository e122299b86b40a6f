"""An account's counterparties as a graph with the risk reaching it, on SQLite and PostgreSQL,
over the two-bank world of tests/auth/world.py with known fraud added:

    K1  B2 → A1   B002 → B001   ¥7,000   an hour before T1 (A1 → A2): a path B2 → A1 → A2
    K2  B2 → A1   B002 → B001   ¥8,000   after A1's last payment to A2: on no path
    K3  B2 → B1   B002 → B002   ¥9,000   before T3 (B1 → A2): a path through bank B's account

B2 is on the shared risk list as a mule; bank B's account B1 is scored by the mule score.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from auth import world  # tests/auth/world.py
from fundwall.accounts.graph import AccountGraph, account_graph
from fundwall.auth import Actor, ActorKind, Role
from fundwall.cases.casework import close_case, open_case
from fundwall.cases.model import CaseKind, Outcome
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.domain.money import Money
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.sharing.risk_list import list_risk
from fundwall.store import UnitOfWork
from fundwall.store.mapping import transaction_row
from fundwall.store.model_tables import AccountScoreRow

Uow = Callable[[], UnitOfWork]
OPERATOR = Actor.operator("test")
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
KNOWN_FRAUD = {
    "K1": ("B2", world.BANK_B, "A1", world.BANK_A, 700_000, -timedelta(hours=1)),
    "K2": ("B2", world.BANK_B, "A1", world.BANK_A, 800_000, timedelta(hours=30)),
    "K3": ("B2", world.BANK_B, "B1", world.BANK_B, 900_000, timedelta(0)),
}


def _score(uow: UnitOfWork, account_no: str, bank: str, action: Action) -> None:
    uow.session.add(
        AccountScoreRow(
            account_no=account_no,
            bank=bank,
            model_version="acct-secret",
            probability=0.987,
            action=action.value,
            contributions=None,
            computed_at=world.START,
        )
    )


@pytest.fixture
def risky(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
        world.add_users(uow)
        for tx_id, (payer, payer_bank, payee, payee_bank, fen, after) in KNOWN_FRAUD.items():
            uow.session.add(
                transaction_row(
                    Transaction(
                        tx_id,
                        world.START + after,
                        TransactionKind.TRANSFER,
                        payer,
                        payee,
                        payer_bank,
                        payee_bank,
                        Money(fen),
                        Channel.MOBILE,
                    )
                )
            )
        _score(uow, "A1", world.BANK_A, Action.DELAY)
        _score(uow, "B1", world.BANK_B, Action.BLOCK)
        uow.commit()
        list_risk(
            uow,
            OPERATOR,
            ListKind.ACCOUNT,
            "B2",
            RiskCategory.MULE,
            Evidence.POLICE_CONFIRMED,
            world.BANK_B,
            bank=world.BANK_B,
            valid_from=world.START - timedelta(days=1),
        )
    return uow_factory


def _graph(uow: UnitOfWork, user: str, account_no: str) -> AccountGraph:
    return account_graph(uow, world.user_actor(uow, user), account_no)


def test_known_fraud_counterparties_come_first_with_the_money_they_sent(risky: Uow) -> None:
    with risky() as uow:
        graph = _graph(uow, "ann", "A1")
    rows = [
        (c.account.shown, c.account.own, c.account.known_fraud, c.account.listed, c.in_fen)
        for c in graph.counterparties
    ]
    assert rows == [
        ("*2", False, True, True, 1_500_000),  # B2, masked, on the list
        ("*1", False, False, False, 0),  # B1
        ("A2", True, False, False, 0),
    ]
    assert (graph.fraud_counterparties, graph.fraud_in_fen, graph.fraud_out_fen) == (
        1,
        1_500_000,
        0,
    )
    assert graph.account.shown == "A1" and graph.account.action is Action.DELAY
    assert graph.risk_paths == ()  # nobody of bank A paid A1


def test_money_from_known_fraud_reaches_through_the_members_own_accounts(risky: Uow) -> None:
    with risky() as uow:
        graph = _graph(uow, "ann", "A2")
    assert [(c.account.shown, c.account.own) for c in graph.counterparties] == [
        ("*1", False),
        ("A1", True),
    ]
    (path,) = graph.risk_paths
    # K1 came before A1 paid A2; K2 after, so it reached A2 by no path; K3 went through
    # bank B's B1, whose transfers bank A never sees.
    assert (path.source.shown, path.source.listed, path.via.shown, path.amount_fen) == (
        "*2",
        True,
        "A1",
        700_000,
    )
    assert path.via.key == graph.counterparties[1].account.key  # one node per account
    assert (graph.fraud_counterparties, graph.fraud_in_fen) == (0, 0)


def test_another_members_customer_is_a_masked_number_and_the_list_fact_only(risky: Uow) -> None:
    with risky() as uow:
        graph = _graph(uow, "ann", "A2")
        with pytest.raises(NotFound):
            _graph(uow, "ann", "B1")
        with pytest.raises(PermissionDenied, match="view_customer_data"):
            account_graph(uow, HUB, "A1")
    b1 = graph.counterparties[0].account
    assert b1.shown == "*1" and not b1.own
    assert b1.action is None  # B1's block score is bank B's
    seen = repr(graph)
    assert "'B1'" not in seen and "'B2'" not in seen  # never an unmasked number
    assert "0.987" not in seen and "acct-secret" not in seen  # never a score of bank B's
    assert all(path.via.own for path in graph.risk_paths)


def test_an_account_closed_as_a_mule_in_its_members_case_is_known_fraud(risky: Uow) -> None:
    with risky() as uow:
        bob = world.user_actor(uow, "bob")
        case = open_case(uow, bob, CaseKind.ACCOUNT, "B1", title="sold account")
        close_case(uow, bob, case.case.id, Outcome.MULE, "the holder sold it")
        graph = _graph(uow, "ann", "A2")
    b1 = graph.counterparties[0].account
    assert (b1.shown, b1.known_fraud, b1.listed) == ("*1", True, False)
    assert (graph.fraud_counterparties, graph.fraud_in_fen) == (1, 300_000)


def test_a_case_of_one_member_marks_none_of_anothers_accounts(risky: Uow) -> None:
    with risky() as uow:
        ann = world.user_actor(uow, "ann")
        # A case of bank A may name B1, a counterparty of its customer's payment (T2) …
        case = open_case(uow, ann, CaseKind.NETWORK, "ring", title="ring", accounts=["A1", "B1"])
        close_case(uow, ann, case.case.id, Outcome.MULE, "A1 and whoever it paid")
        graph = _graph(uow, "ann", "A2")
    # … but only bank A's own account becomes known fraud by it.
    known = {c.account.shown: c.account.known_fraud for c in graph.counterparties}
    assert known == {"*1": False, "A1": True}
