"""Tenancy in the query: a member's actors see its own rows, and nobody else's exist for them."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fundwall.auth import (
    ROLE_PERMISSIONS,
    Actor,
    ActorKind,
    Permission,
    Role,
    accounts_visible,
    aggregate_scope,
    decisions_visible,
    owned_by,
    owned_through,
    owner_bank,
    transactions_visible,
    visible_account,
    visible_transaction,
)
from fundwall.crypto import Keyring
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.domain.ownership import owner_of
from fundwall.domain.transactions import TransactionKind
from fundwall.store import UnitOfWork
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow

from . import world

Uow = Callable[[], UnitOfWork]

ANALYST_A = Actor(ActorKind.USER, "a", Role.MEMBER_ANALYST, world.BANK_A, 1)
ADMIN_B = Actor(ActorKind.USER, "b", Role.MEMBER_ADMIN, world.BANK_B, 2)
KEY_A = Actor(ActorKind.API_KEY, "k", Role.MEMBER_SYSTEM, world.BANK_A)
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 3)
POLICE = Actor(ActorKind.USER, "cop", Role.POLICE_OFFICER, "PSB1", 4)
AUDITOR = Actor(ActorKind.USER, "aud", Role.AUDITOR, None, 5)


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
    return uow_factory


@pytest.mark.parametrize(
    ("actor", "accounts", "transactions", "decisions"),
    [
        (ANALYST_A, {"A1", "A2"}, {"T1", "T2", "T3"}, {"T1", "T2"}),
        (KEY_A, {"A1", "A2"}, {"T1", "T2", "T3"}, {"T1", "T2"}),
        (ADMIN_B, {"B1", "B2"}, {"T2", "T3", "T4", "T5"}, {"T3", "T4", "T5"}),
        (HUB, set(), set(), set()),
        (POLICE, set(), set(), set()),
        (AUDITOR, set(), set(), set()),
    ],
)
def test_each_actor_sees_exactly_its_members_rows(
    stocked: Uow,
    actor: Actor,
    accounts: set[str],
    transactions: set[str],
    decisions: set[str],
) -> None:
    with stocked() as uow:
        seen_accounts = set(
            uow.session.scalars(select(AccountRow.account_no).where(accounts_visible(actor)))
        )
        seen_transactions = set(
            uow.session.scalars(select(TransactionRow.tx_id).where(transactions_visible(actor)))
        )
        seen_decisions = set(
            uow.session.scalars(
                select(DecisionRow.tx_id)
                .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
                .where(decisions_visible(actor), DecisionRow.shadow.is_(False))
            )
        )
    assert (seen_accounts, seen_transactions, seen_decisions) == (
        accounts,
        transactions,
        decisions,
    )


def test_a_deposit_is_decided_by_and_visible_to_the_payees_bank_alone(stocked: Uow) -> None:
    def decided_for(actor: Actor) -> set[str]:
        return set(
            uow.session.scalars(
                select(DecisionRow.tx_id)
                .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
                .where(decisions_visible(actor))
            )
        )

    with stocked() as uow:
        world.add_deposit(uow)
        assert world.DEPOSIT in decided_for(ADMIN_B)
        assert world.DEPOSIT not in decided_for(ANALYST_A)
        assert visible_transaction(uow.session, ADMIN_B, world.DEPOSIT).payer_bank is None
        with pytest.raises(NotFound):
            visible_transaction(uow.session, ANALYST_A, world.DEPOSIT)


def test_another_members_records_are_not_found_like_missing_ones(stocked: Uow) -> None:
    with stocked() as uow:
        assert visible_account(uow.session, ANALYST_A, "A1").account_no == "A1"
        assert visible_transaction(uow.session, ANALYST_A, "T3").tx_id == "T3"
        for number in ("B1", "NOPE"):
            with pytest.raises(NotFound) as missing:
                visible_account(uow.session, ANALYST_A, number)
            assert missing.value.message() == f"account not found: {number}"
        for tx_id in ("T4", "T999"):
            with pytest.raises(NotFound):
                visible_transaction(uow.session, ANALYST_A, tx_id)


def test_an_officer_without_orders_or_clues_finds_no_account(stocked: Uow) -> None:
    with stocked() as uow:
        with pytest.raises(NotFound):
            visible_account(uow.session, POLICE, "A1")
        with pytest.raises(NotFound):
            visible_transaction(uow.session, POLICE, "T1")


@pytest.mark.parametrize("actor", [HUB, AUDITOR])
def test_actors_without_customer_data_are_refused_outright(stocked: Uow, actor: Actor) -> None:
    with stocked() as uow:
        with pytest.raises(PermissionDenied):
            visible_account(uow.session, actor, "A1")
        with pytest.raises(PermissionDenied):
            visible_transaction(uow.session, actor, "T1")


def test_aggregates_are_the_members_own_or_the_whole_region() -> None:
    assert aggregate_scope(HUB) is None
    assert aggregate_scope(POLICE) is None
    assert aggregate_scope(AUDITOR) is None
    scope = aggregate_scope(ANALYST_A)
    assert scope is not None
    assert scope.compare(owned_by(world.BANK_A))


BANKS = (None, world.BANK_A, world.BANK_B)
OWNERSHIP_CASES = [
    (kind, payer, payee)
    for kind in TransactionKind
    for payer, payee in itertools.product(BANKS, BANKS)
]
"""Every kind with every pair of banks, even pairs a valid transaction does not have (a
deposit with a payer's bank): the SQL must agree with the rule on any row."""


def test_the_sql_owner_is_the_domains_owner_on_every_row(uow_factory: Uow) -> None:
    expected = {
        f"O{n}": owner_of(kind, payer, payee)
        for n, (kind, payer, payee) in enumerate(OWNERSHIP_CASES)
    }
    with uow_factory() as uow:
        for n, (kind, payer, payee) in enumerate(OWNERSHIP_CASES):
            # Each bank's account is named after it, so the owner's account follows the owner.
            uow.session.add(
                TransactionRow(
                    tx_id=f"O{n}",
                    ts=datetime(2024, 3, 5, tzinfo=UTC),
                    kind=kind.value,
                    payer_account=payer and f"ACC-{payer}",
                    payee_account=payee and f"ACC-{payee}",
                    payer_bank=payer,
                    payee_bank=payee,
                    amount_fen=1,
                    channel="mobile",
                )
            )
        uow.commit()
        owners = {
            tx_id: owner
            for tx_id, owner in uow.session.execute(select(TransactionRow.tx_id, owner_bank()))
        }
        owned = {
            member: set(uow.session.scalars(select(TransactionRow.tx_id).where(owned_by(member))))
            for member in (world.BANK_A, world.BANK_B)
        }
        through = {
            member: set(
                uow.session.scalars(
                    select(TransactionRow.tx_id).where(owned_through(f"ACC-{member}"))
                )
            )
            for member in (world.BANK_A, world.BANK_B)
        }
    assert owners == expected
    for member, tx_ids in owned.items():
        assert tx_ids == {tx_id for tx_id, owner in expected.items() if owner == member}, member
        assert through[member] == tx_ids, member


def test_roles_hold_the_documented_rights() -> None:
    member_roles = {Role.MEMBER_ADMIN, Role.MEMBER_ANALYST, Role.MEMBER_SYSTEM}
    police_roles = {Role.POLICE_OFFICER, Role.POLICE_SYSTEM}
    assert ROLE_PERMISSIONS[Role.OPERATOR] == frozenset(Permission)
    assert not Role.OPERATOR.assignable and not Role.OPERATOR.needs_member
    for role, rights in ROLE_PERMISSIONS.items():
        if role is Role.OPERATOR:
            continue
        customer_data = role in member_roles | police_roles
        assert (Permission.VIEW_CUSTOMER_DATA in rights) == customer_data, role
        assert (Permission.ISSUE_ORDERS in rights) == (role in police_roles), role
        # Reading a member's cases is its own people's and its systems'; working them, people's.
        assert (Permission.VIEW_CASES in rights) == (role in member_roles), role
        assert (Permission.WORK_CASES in rights) == (role in member_roles - {Role.MEMBER_SYSTEM})
        assert role.is_police == (role in police_roles), role
        assert (Permission.PROMOTE_RULE_PACKS in rights) == (role is Role.HUB_SUPERVISOR), role
        assert (Permission.VIEW_AUDIT_LOG in rights) == (role is Role.AUDITOR), role
        assert (Permission.SUBMIT_TRANSACTIONS in rights) == (role is Role.MEMBER_SYSTEM), role
        assert role.needs_member == (role in member_roles | police_roles), role
    assert set(ROLE_PERMISSIONS) == set(Role)
    with pytest.raises(PermissionDenied, match="unmask_personal_data"):
        HUB.require(Permission.UNMASK_PERSONAL_DATA)
    assert ANALYST_A.audit_id == f"user:a@{world.BANK_A}" and HUB.audit_id == "user:hub"
