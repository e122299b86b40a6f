"""Admission in the decision service over the store: a member acts only on the accounts it
holds, names banks that exist and sends each id once; accounts it reports are known at once.

The store holds the accounts of `engine_fixtures`: A1 and B1 at 301, C2 (class II, bound to
A1) at 302, C3 (class III) at 303, F1 at 304, D1 at 305.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from engine_store import seed, service_opener
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from fundwall.accounts import AccountOpening, Holder, change_account, open_account
from fundwall.accounts.queries import new_party_id
from fundwall.auth import Actor, ActorKind, Role
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountClass, AccountStatus, OpeningChannel
from fundwall.domain.decisions import Action
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import AccountNumber, ResidentId
from fundwall.domain.money import Money
from fundwall.domain.parties import PartyKind
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.admission import ALREADY_USED
from fundwall.engine.service import DecisionService
from fundwall.store import UnitOfWork
from fundwall.store.personal_data import personal_data_in
from fundwall.store.tables import TransactionRow

NEW_ACCOUNT = "6222021234567890128"
"""A card number (Luhn-valid) that 301 opens during a test."""
HOLDER = Holder(PartyKind.PERSON, ResidentId.parse("11010519491231002X"), "张三")


@pytest.fixture
def open_service(
    database: Engine, keyring: Keyring, clock: FixedClock
) -> Iterator[Callable[[], DecisionService]]:
    seed(database, keyring)
    with service_opener(database, clock, keyring) as make:
        yield make


def key_of(member: str) -> Actor:
    return Actor(ActorKind.API_KEY, f"k{member}", Role.MEMBER_SYSTEM, member)


def paid(
    tx_id: str,
    when: datetime,
    payer: tuple[str, str],
    payee: tuple[str, str],
    fen: int,
    kind: TransactionKind = TransactionKind.TRANSFER,
) -> Transaction:
    return Transaction(
        tx_id=tx_id,
        ts=when,
        kind=kind,
        payer_account=payer[0],
        payer_bank=payer[1],
        payee_account=payee[0],
        payee_bank=payee[1],
        amount=Money.of_fen(fen),
        channel=Channel.MOBILE,
    )


def logged(database: Engine) -> int:
    with database.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(TransactionRow)) or 0)


def test_a_member_cannot_spend_another_members_customers_limit(
    open_service: Callable[[], DecisionService], database: Engine, clock: FixedClock
) -> None:
    """The finding: 301 declared itself payer bank of 302's class II account C2 and used up
    its daily limit, so 302's own ¥500 was then blocked (HC11)."""
    service = open_service()
    when = clock.now() - timedelta(hours=1)
    stolen = paid("H-1", when, ("C2", "301"), ("D1", "305"), 9_900_00)
    with pytest.raises(PermissionDenied, match="payer_account: not an account of member 301"):
        service.decide(stolen, member="301")
    assert logged(database) == 0
    own = paid("O-1", when + timedelta(minutes=1), ("C2", "302"), ("D1", "305"), 500_00)
    decision = service.decide(own, member="302")
    assert decision.action is not Action.BLOCK
    assert not [r for r in decision.reasons if r.rule_id == "HC11"]


def test_a_member_deposits_only_into_its_own_accounts(
    open_service: Callable[[], DecisionService], clock: FixedClock
) -> None:
    service = open_service()
    deposit = Transaction(
        tx_id="D-1",
        ts=clock.now() - timedelta(hours=1),
        kind=TransactionKind.DEPOSIT,
        payer_account=None,
        payer_bank=None,
        payee_account="C2",
        payee_bank="301",
        amount=Money.of_fen(100_00),
        channel=Channel.COUNTER,
    )
    with pytest.raises(PermissionDenied, match="payee_account"):
        service.decide(deposit, member="301")
    assert service.decide(dataclasses.replace(deposit, payee_bank="302"), member="302")


@pytest.mark.parametrize(
    ("payee", "field", "reason"),
    [
        (("6222020000000000001", "999"), "payee_bank", "not a bank or payment institution"),
        (("6222020000000000001", "HUB3502"), "payee_bank", "not a bank or payment institution"),
        (("6222020000000000001", "PSB350200"), "payee_bank", "not a bank"),
        (("6222020000000000001", "021000021"), "payee_bank", "CNAPS"),  # a US routing number
        (("D1", "302"), "payee_account", "not an account of bank 302"),
        (("6222020000000000001", "302"), "payee_account", "bank 302 holds no such account"),
        (("123", "ICBKCNBJ"), "payee_account", "8 to 32 digits"),
    ],
)
def test_a_counterparty_is_a_real_account_at_a_real_bank(
    open_service: Callable[[], DecisionService],
    clock: FixedClock,
    payee: tuple[str, str],
    field: str,
    reason: str,
) -> None:
    service = open_service()
    sent = paid("P-1", clock.now() - timedelta(hours=1), ("A1", "301"), payee, 100_00)
    with pytest.raises(InvalidInput) as raised:
        service.decide(sent, member="301")
    assert raised.value.field == field
    assert reason in raised.value.reason


@pytest.mark.parametrize(
    "payee", [("6222020000000000001", "102100099996"), ("88001234567", "BKCHCNBJXXX")]
)
def test_banks_outside_the_region_are_named_by_cnaps_code_or_bic(
    open_service: Callable[[], DecisionService], clock: FixedClock, payee: tuple[str, str]
) -> None:
    service = open_service()
    sent = paid("P-1", clock.now() - timedelta(hours=1), ("A1", "301"), payee, 100_00)
    assert service.decide(sent, member="301").tx_id == "P-1"


def test_an_id_sent_again_with_other_content_is_a_conflict_naming_the_fields(
    open_service: Callable[[], DecisionService], clock: FixedClock
) -> None:
    service = open_service()
    first = paid("R-1", clock.now() - timedelta(hours=1), ("A1", "301"), ("D1", "305"), 100_00)
    decision = service.decide(first, member="301")
    assert service.decide(first, member="301") == decision
    changed = dataclasses.replace(first, amount=Money.of_fen(7_777_00), payee_account="B1")
    changed = dataclasses.replace(changed, payee_bank="301")
    with pytest.raises(Conflict, match="payee_account, payee_bank, amount differ"):
        service.decide(changed, member="301")
    theirs = dataclasses.replace(first, payer_account="C2", payer_bank="302")
    with pytest.raises(InvalidInput, match=ALREADY_USED):
        service.decide(theirs, member="302")
    restarted = open_service()  # the first content is read from the log
    with pytest.raises(Conflict, match="amount differ"):
        restarted.decide(dataclasses.replace(first, amount=Money.of_fen(1)), member="301")
    assert restarted.decide(first, member="301") == decision


def test_a_batch_is_refused_whole_and_names_the_record(
    open_service: Callable[[], DecisionService], database: Engine, clock: FixedClock
) -> None:
    service = open_service()
    when = clock.now() - timedelta(hours=1)
    good = paid("B-0", when, ("A1", "301"), ("D1", "305"), 100_00)
    bad = paid("B-1", when, ("B1", "301"), ("D1", "999"), 100_00)
    with pytest.raises(InvalidInput) as raised:
        service.decide_batch([good, bad], member="301")
    assert (raised.value.record, raised.value.field) == ("1", "payee_bank")
    assert logged(database) == 0
    refused = service.screen("301", [good, bad, paid("B-2", when, ("C2", "301"), ("D1", "305"), 1)])
    assert [r.code if r else None for r in refused] == [None, "RC01", "AG01"]


def opening(account_class: AccountClass = AccountClass.CLASS_III) -> AccountOpening:
    return AccountOpening(
        account_no=AccountNumber.parse(NEW_ACCOUNT),
        account_class=account_class,
        opened_at=datetime.fromisoformat("2024-06-01T07:00:00+00:00"),
        opening_channel=OpeningChannel.MOBILE,
        holder=HOLDER,
        bound_account=AccountNumber.parse("6222020200112233445"),
        balance_fen=3_000_00,
    )


def test_an_account_opened_after_start_up_is_known_at_once(
    open_service: Callable[[], DecisionService],
    uow_factory: Callable[[], UnitOfWork],
    keyring: Keyring,
    clock: FixedClock,
) -> None:
    service = open_service()
    when = clock.now() - timedelta(minutes=30)
    spend = paid("N-1", when, (NEW_ACCOUNT, "301"), ("D1", "305"), 2_500_00)
    with pytest.raises(PermissionDenied):
        service.decide(spend, member="301")
    with uow_factory() as uow:
        open_account(uow, key_of("301"), opening(), keyring)
    decision = service.decide(spend, member="301")  # no rebuild: the next call reads it
    assert decision.action is Action.BLOCK  # class III: at most ¥2,000 out a day (HC13)
    assert "HC13" in [reason.rule_id for reason in decision.reasons]
    assert service.bank_of(NEW_ACCOUNT) == "301"
    restarted = open_service()
    assert restarted.bank_of(NEW_ACCOUNT) == "301"
    assert restarted.decide(spend, member="301") == decision


def test_a_member_changes_and_closes_only_its_own_accounts(
    open_service: Callable[[], DecisionService],
    uow_factory: Callable[[], UnitOfWork],
    keyring: Keyring,
    clock: FixedClock,
) -> None:
    service = open_service()
    with uow_factory() as uow:
        open_account(uow, key_of("301"), opening(), keyring)
    with uow_factory() as uow, pytest.raises(NotFound):
        change_account(uow, key_of("302"), NEW_ACCOUNT, reason="x", status=AccountStatus.CLOSED)
    with uow_factory() as uow:
        change_account(
            uow, key_of("301"), NEW_ACCOUNT, reason="upgraded", account_class=AccountClass.CLASS_I
        )
    when = clock.now() - timedelta(minutes=30)
    spend = paid("N-1", when, (NEW_ACCOUNT, "301"), ("D1", "305"), 2_500_00)
    assert service.decide(spend, member="301").action is not Action.BLOCK  # class I now
    with uow_factory() as uow:
        change_account(uow, key_of("301"), NEW_ACCOUNT, reason="销户", status=AccountStatus.CLOSED)
    closed = service.decide(dataclasses.replace(spend, tx_id="N-2"), member="301")
    assert closed.action is Action.BLOCK
    with uow_factory() as uow, pytest.raises(Conflict, match="final"):
        change_account(uow, key_of("301"), NEW_ACCOUNT, reason="x", status=AccountStatus.NORMAL)


def test_opening_an_account_someone_holds_is_a_conflict(
    open_service: Callable[[], DecisionService],
    uow_factory: Callable[[], UnitOfWork],
    keyring: Keyring,
) -> None:
    open_service()
    with uow_factory() as uow:
        open_account(uow, key_of("301"), opening(), keyring)
    with uow_factory() as uow, pytest.raises(Conflict, match="already in the account directory"):
        open_account(uow, key_of("302"), opening(), keyring)
    analyst = Actor(ActorKind.USER, "a", Role.MEMBER_ANALYST, "301")
    with uow_factory() as uow, pytest.raises(PermissionDenied, match="report_accounts"):
        open_account(uow, analyst, opening(), keyring)


@given(st.binary(min_size=32, max_size=32))
def test_a_new_holders_party_id_never_reads_as_personal_data(digest: bytes) -> None:
    """The audit log refuses records holding what looks like an ID or mobile number; a party
    id made from the ID number's keyed hash must never look like one."""
    assert personal_data_in(new_party_id(digest.hex())) is None
