"""The risk list (and the orders on accounts) in force through the running decision service,
and the hub's database free of raw identifiers, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from fundwall.accounts import AccountOpening, Holder, open_account
from fundwall.accounts.controls import lift_restriction, restrict
from fundwall.bootstrap import Platform
from fundwall.clock import FixedClock
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountClass, OpeningChannel
from fundwall.domain.decisions import Action
from fundwall.domain.identity import AccountNumber, CreditCode, MobilePhone, ResidentId
from fundwall.domain.money import Money
from fundwall.domain.parties import PartyKind
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.engine.controls import Evidence, ListKind, RestrictionKind, RiskCategory
from fundwall.engine.service import DecisionService
from fundwall.sharing.files import TableFile
from fundwall.sharing.hashing import hash_identifiers
from fundwall.sharing.index import RiskIndex
from fundwall.sharing.keys import rotate_sharing_key
from fundwall.sharing.matching import match_identifiers
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import (
    entries_of,
    list_risk,
    publish_entries,
    query_identifier,
    retract_entry,
)
from fundwall.store import UnitOfWork
from fundwall.store.tables import Base
from sharing.hub import BANK_A, BANK_B, CREDIT_CODE, OPERATOR, phone, resident_id, sharing

Uow = Callable[[], UnitOfWork]
VICTIM, VERIFIED = RiskCategory.AT_RISK_VICTIM, Evidence.MEMBER_VERIFIED
PAYER, PAYEE, OTHER = "6222020000000000018", "6222020000000000026", "6222020000000000034"


def _open(uow: UnitOfWork, keyring: Keyring, number: str, holder: Holder, actor=BANK_A) -> None:  # type: ignore[no-untyped-def]
    opening = AccountOpening(
        AccountNumber.parse(number),
        AccountClass.CLASS_I,
        uow.clock.now() - timedelta(days=400),
        OpeningChannel.COUNTER,
        holder,
        balance_fen=10_000_00,
    )
    open_account(uow, actor, opening, keyring)


def _person(n: int) -> Holder:
    return Holder(PartyKind.PERSON, ResidentId.parse(resident_id(n)), f"客户{n}",
                  MobilePhone.parse(phone(n)))  # fmt: skip


@pytest.fixture
def world(institutions: Uow, platform: Platform, tmp_path: Path) -> Iterator[DecisionService]:
    """Sharing key v1, the payer at B001, two payees at B002, a running service."""
    with institutions() as uow:
        rotate_sharing_key(uow, OPERATOR, tmp_path / "keys")
        _open(uow, platform.keyring, PAYER, _person(1))
    with institutions() as uow:
        _open(uow, platform.keyring, PAYEE, _person(2), BANK_B)
    with institutions() as uow:
        firm = Holder(PartyKind.FIRM, CreditCode.parse(CREDIT_CODE), "某公司", None)
        _open(uow, platform.keyring, OTHER, firm, BANK_B)
    service = platform.decision_service()
    try:
        yield service
    finally:
        service.close()


def _pay(clock: FixedClock, n: int, payee: str = PAYEE) -> Transaction:
    clock.advance(timedelta(seconds=30))
    return Transaction(
        tx_id=f"T{n}", ts=clock.now(), kind=TransactionKind.TRANSFER, payer_account=PAYER,
        payee_account=payee, payer_bank="B001", payee_bank="B002", amount=Money.of_fen(100_00),
        channel=Channel.MOBILE,
    )  # fmt: skip


def test_an_entry_blocks_at_once_and_its_retraction_lifts_the_block_at_once(
    world: DecisionService, institutions: Uow, clock: FixedClock, tmp_path: Path
) -> None:
    assert world.decide(_pay(clock, 1), member="B001").action is Action.PASS
    with institutions() as uow:
        fraud = NewEntry(ListKind.ACCOUNT, PAYEE, RiskCategory.FRAUD_ACCOUNT,
                         Evidence.POLICE_CONFIRMED, bank="B002")  # fmt: skip
        (entry,) = publish_entries(uow, BANK_B, [fraud]).ids
    blocked = world.decide(_pay(clock, 2), member="B001")
    assert (blocked.action, blocked.reasons[0].rule_id) == (Action.BLOCK, "HC22")
    assert "B002" not in blocked.reasons[0].text_zh + blocked.reasons[0].text_en
    with institutions() as uow:
        retract_entry(uow, BANK_B, entry, "the account was misreported")
    assert world.decide(_pay(clock, 3), member="B001").action is Action.PASS
    # A firm payee listed by the shared hash of its credit code, published by another member.
    shared = sharing(tmp_path / "keys", 1).hash("credit_code", CREDIT_CODE)
    with institutions() as uow:
        mule = NewEntry(ListKind.CREDIT_CODE_HASH, shared, RiskCategory.MULE, VERIFIED)
        publish_entries(uow, BANK_B, [mule])
    firm = world.decide(_pay(clock, 4, OTHER), member="B001")
    assert (firm.action, firm.reasons[0].rule_id) == (Action.BLOCK, "HC26")


def test_the_list_in_force_when_the_service_decides_applies_whatever_the_payments_stamp(
    world: DecisionService, institutions: Uow, clock: FixedClock
) -> None:
    """A payment is decided against the list as it stands when the service decides, not as
    it stood at the payment's own stamp: one stamped a second before an entry's publication
    (or an hour, as the API lets a member send late) but decided after it is blocked, and one
    stamped before a retraction but decided after it is not."""
    late = _pay(clock, 1)  # stamped now, decided once the entry is published
    much_later = _pay(clock, 2)
    clock.advance(timedelta(hours=1))
    with institutions() as uow:
        fraud = NewEntry(ListKind.ACCOUNT, PAYEE, RiskCategory.FRAUD_ACCOUNT,
                         Evidence.POLICE_CONFIRMED, bank="B002")  # fmt: skip
        (entry,) = publish_entries(uow, BANK_B, [fraud]).ids
    for payment in (late, much_later):
        blocked = world.decide(payment, member="B001")
        assert (blocked.action, blocked.reasons[0].rule_id) == (Action.BLOCK, "HC22")
    before_retraction = _pay(clock, 3)
    clock.advance(timedelta(seconds=1))
    with institutions() as uow:
        retract_entry(uow, BANK_B, entry, "the account was misreported")
    assert world.decide(before_retraction, member="B001").action is Action.PASS


def test_a_stop_payment_holds_from_when_it_is_made_whatever_the_payments_stamp(
    world: DecisionService, institutions: Uow, clock: FixedClock
) -> None:
    """As the list: a payment dated before a stop-payment but decided after it is stopped
    (dating a payment back does not slip it under an order), and one dated before the order
    was lifted but decided after it is not."""
    dated_back = _pay(clock, 1)
    clock.advance(timedelta(minutes=1))
    with institutions() as uow:
        order = restrict(uow, OPERATOR, PAYER, RestrictionKind.STOP_PAYMENT, reason="紧急止付")
    stopped = world.decide(dated_back, member="B001")
    assert stopped.action is Action.BLOCK, stopped
    before_lifting = _pay(clock, 2)
    clock.advance(timedelta(seconds=1))
    with institutions() as uow:
        lift_restriction(uow, OPERATOR, order, "解除止付")
    assert world.decide(before_lifting, member="B001").action is Action.PASS


def test_an_entry_under_an_older_key_version_still_matches_after_a_rotation(
    world: DecisionService, institutions: Uow, clock: FixedClock, tmp_path: Path
) -> None:
    victim = sharing(tmp_path / "keys", 1).hash("phone", phone(1))
    with institutions() as uow:
        publish_entries(uow, BANK_A, [NewEntry(ListKind.PHONE_HASH, victim, VICTIM, VERIFIED)])
        rotate_sharing_key(uow, OPERATOR, tmp_path / "keys")
    warned = world.decide(_pay(clock, 1), member="B001")
    assert (warned.action, warned.reasons[0].rule_id) == (Action.WARN, "HC25")


def test_a_recycled_number_alerts_when_its_holder_pays_not_when_they_are_paid(
    world: DecisionService, institutions: Uow, clock: FixedClock, tmp_path: Path
) -> None:
    keys = sharing(tmp_path / "keys", 1)
    recycled = RiskCategory.RECYCLED_PHONE
    with institutions() as uow:
        payee = NewEntry(ListKind.PHONE_HASH, keys.hash("phone", phone(2)), recycled, VERIFIED)
        publish_entries(uow, BANK_B, [payee])
    assert world.decide(_pay(clock, 1), member="B001").action is Action.PASS
    with institutions() as uow:
        payer = NewEntry(ListKind.PHONE_HASH, keys.hash("phone", phone(1)), recycled, VERIFIED)
        publish_entries(uow, BANK_A, [payer])
    alerted = world.decide(_pay(clock, 2), member="B001")
    assert alerted.action is Action.ALERT
    assert "二次号" in alerted.reasons[0].text_zh


def test_the_hubs_database_holds_no_raw_id_phone_or_credit_code(
    world: DecisionService, institutions: Uow, platform: Platform, tmp_path: Path
) -> None:
    """Publish through every path (one entry, a file of many, the hub's listing), query and
    match, then read every column of every table but the encrypted ones (text, JSON)."""
    keys = sharing(tmp_path / "keys", 1)
    raw = {"value": [resident_id(n) for n in range(5)], "ref": [f"C{n}" for n in range(5)]}
    hashed = hash_identifiers(TableFile(pa.table(raw), "csv"), "id", keys, skip_bad=False)
    phones = hash_identifiers(
        TableFile(pa.table({"value": [phone(n) for n in range(3)]}), "csv"), "phone", keys,
        skip_bad=False,
    )  # fmt: skip
    records = [
        {"kind": row["kind"], "key": row["key"], "category": "mule",
         "evidence": "member_verified", "reference": row["ref"]}
        for row in hashed.table.to_pylist()
    ]  # fmt: skip
    with institutions() as uow:
        publish_entries(uow, BANK_A, entries_of(records))
        (one,) = phones.table.slice(0, 1).to_pylist()
        publish_entries(uow, BANK_B, [NewEntry(ListKind.PHONE_HASH, one["key"], VICTIM, VERIFIED)])
        list_risk(uow, OPERATOR, ListKind.CREDIT_CODE_HASH, keys.hash("credit_code", CREDIT_CODE),
                  RiskCategory.CARD_DEALER, Evidence.POLICE_CONFIRMED, "B002")  # fmt: skip
        query_identifier(uow, BANK_B, ListKind.ID_HASH, records[0]["key"])
        match_identifiers(uow, BANK_B, RiskIndex(), TableFile(phones.table, "csv"))
    raw_values = {*raw["value"], *(phone(n) for n in range(3)), CREDIT_CODE}
    found = []
    with institutions() as uow:
        for table in Base.metadata.sorted_tables:
            for row in uow.session.execute(select(table)):
                shown = [str(v) for v in row if v is not None and not isinstance(v, bytes)]
                found += [(table.name, v) for v in shown if any(r in v for r in raw_values)]
    assert found == []
