"""Every table keeps what it is given, on SQLite and PostgreSQL, and refuses what it must.

Round trips go domain object → row → database → row → domain object, through
`fundwall.store.mapping`, and must give back an equal object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from fundwall.crypto import ID_HASH_KIND, PHONE_HASH_KIND, DecryptionError, Keyring
from fundwall.domain.accounts import Account, AccountClass, AccountStatus, OpeningChannel, RiskTier
from fundwall.domain.decisions import Action, Decision, Reason
from fundwall.domain.devices import Device, DeviceKind, FaceCheck, LoginEvent
from fundwall.domain.identity import (
    CreditCode,
    MobilePhone,
    ResidentId,
    credit_code_check_char,
    organisation_code_check_char,
)
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.money import MAX_FEN, Money
from fundwall.domain.parties import Party, PartyKind
from fundwall.domain.transactions import Channel, Transaction, TransactionKind
from fundwall.store import UnitOfWork
from fundwall.store.mapping import (
    account_of,
    account_row,
    decision_of,
    decision_row,
    device_of,
    device_row,
    institution_of,
    institution_row,
    login_event_of,
    login_event_row,
    party_of,
    party_row,
    transaction_of,
    transaction_row,
)
from fundwall.store.tables import (
    AccountRow,
    DecisionRow,
    DeviceRow,
    InstitutionRow,
    LoginEventRow,
    PartyRow,
    TransactionRow,
)

UowFactory = Callable[[], UnitOfWork]
OPENED = datetime(2023, 3, 1, 2, 30, 15, 123456, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
_FIRM_BODY = "91350203MA312345" + organisation_code_check_char("MA312345")
FIRM_CODE = _FIRM_BODY + credit_code_check_char(_FIRM_BODY)

BANK = Institution("B001", "厦门示例银行", "Xiamen Example Bank", InstitutionKind.BANK, "350200")
PERSON = Party(
    "P1",
    PartyKind.PERSON,
    "张三",
    ResidentId("11010519491231002X"),
    MobilePhone("13812345678"),
    "350203",
)
FIRM = Party("F1", PartyKind.FIRM, "厦门示例贸易有限公司", CreditCode(FIRM_CODE), None, "350203")
ACCOUNT = Account(
    account_no="6222020000000001",
    institution_code="B001",
    party_id="P1",
    account_class=AccountClass.CLASS_II,
    status=AccountStatus.NON_COUNTER_SUSPENDED,
    risk_tier=RiskTier.MEDIUM,
    opened_at=OPENED,
    opening_channel=OpeningChannel.MOBILE,
    bound_account="6222020000000099",
)
DEVICE = Device("IMEI-356938035643809", DeviceKind.MOBILE, OPENED)


def seed(uow_factory: UowFactory, keyring: Keyring, balance_fen: int = 0) -> None:
    with uow_factory() as uow:
        uow.session.add(institution_row(BANK))
        uow.session.add(party_row(PERSON, keyring))
        uow.session.add(device_row(DEVICE))
        uow.session.flush()
        uow.session.add(account_row(ACCOUNT, balance_fen=balance_fen))
        uow.commit()


def test_institution_party_account_and_device_round_trip(
    uow_factory: UowFactory, keyring: Keyring
) -> None:
    seed(uow_factory, keyring, balance_fen=123_456_789_012_345)
    with uow_factory() as uow:
        assert institution_of(uow.session.get_one(InstitutionRow, "B001")) == BANK
        assert party_of(uow.session.get_one(PartyRow, "P1"), keyring) == PERSON
        stored = uow.session.get_one(AccountRow, "6222020000000001")
        assert account_of(stored) == ACCOUNT
        assert stored.balance_fen == 123_456_789_012_345
        assert device_of(uow.session.get_one(DeviceRow, DEVICE.device_id)) == DEVICE


def test_firm_without_phone_round_trips(uow_factory: UowFactory, keyring: Keyring) -> None:
    with uow_factory() as uow:
        uow.session.add(party_row(FIRM, keyring))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.session.get_one(PartyRow, "F1")
        assert (stored.phone_enc, stored.phone_hash, stored.birth_year) == (None, None, None)
        assert party_of(stored, keyring) == FIRM


def test_an_unknown_opening_is_stored_as_unknown(uow_factory: UowFactory, keyring: Keyring) -> None:
    """Imported accounts' openings are unknown: null in the store, None again when read."""
    seed(uow_factory, keyring)
    imported = dataclasses.replace(ACCOUNT, account_no="6222020000000002", opened_at=None)
    with uow_factory() as uow:
        uow.session.add(account_row(imported))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.session.get_one(AccountRow, imported.account_no)
        assert stored.opened_at is None
        assert account_of(stored) == imported


def test_personal_data_is_stored_encrypted_and_found_by_keyed_hash(
    uow_factory: UowFactory, keyring: Keyring
) -> None:
    seed(uow_factory, keyring)
    with uow_factory() as uow:
        stored = uow.session.get_one(PartyRow, "P1")
        for field in (stored.name_enc, stored.id_number_enc, stored.phone_enc):
            assert field is not None
            assert b"11010519491231002X" not in field
            assert "张三".encode() not in field
        assert stored.birth_year == 1949
        by_id = select(PartyRow.party_id).where(
            PartyRow.id_number_hash == keyring.keyed_hash(ID_HASH_KIND, "110105 19491231 002x")
        )
        by_phone = select(PartyRow.party_id).where(
            PartyRow.phone_hash == keyring.keyed_hash(PHONE_HASH_KIND, "+86 138-1234-5678")
        )
        assert uow.session.scalars(by_id).all() == ["P1"]
        assert uow.session.scalars(by_phone).all() == ["P1"]


def test_party_encrypted_under_another_key_does_not_open(
    uow_factory: UowFactory, keyring: Keyring
) -> None:
    seed(uow_factory, keyring)
    with uow_factory() as uow, pytest.raises(DecryptionError):
        party_of(uow.session.get_one(PartyRow, "P1"), Keyring(bytes(16), bytes(32)))


def test_login_events_round_trip_and_list_by_account_in_time_order(
    uow_factory: UowFactory, keyring: Keyring
) -> None:
    seed(uow_factory, keyring)
    events = [
        LoginEvent(
            event_id=f"L{minute}",
            account_no=ACCOUNT.account_no,
            ts=OPENED + timedelta(minutes=minute),
            device_id=DEVICE.device_id if minute != 3 else None,
            ip="2001:db8::1" if minute != 3 else None,
            city="厦门" if minute != 3 else None,
            face_check=FaceCheck.PASSED if minute == 2 else FaceCheck.MISMATCH,
        )
        for minute in (3, 1, 2)
    ]
    with uow_factory() as uow:
        uow.session.add_all(login_event_row(event) for event in events)
        uow.commit()
    with uow_factory() as uow:
        rows = uow.session.scalars(
            select(LoginEventRow)
            .where(LoginEventRow.account_no == ACCOUNT.account_no)
            .order_by(LoginEventRow.ts)
        )
        assert [login_event_of(row) for row in rows] == sorted(events, key=lambda e: e.ts)


def test_transactions_round_trip_and_are_found_by_payer_and_time(
    uow_factory: UowFactory,
) -> None:
    transfers = [
        Transaction(
            tx_id=f"T{i}",
            ts=OPENED + timedelta(seconds=i),
            kind=TransactionKind.TRANSFER,
            payer_account="6222020000000001",
            payee_account="6222030000000002",
            payer_bank="B001",
            payee_bank="B999",
            amount=Money.of_fen(5_000_000_00 + i),
            channel=Channel.MOBILE,
            device_id="never-seen-device",
            ip="10.0.0.1",
            city="厦门",
            purpose="房租 rent",
        )
        for i in range(3)
    ]
    withdrawal = Transaction(
        tx_id="W1",
        ts=OPENED,
        kind=TransactionKind.WITHDRAWAL,
        payer_account="6222020000000001",
        payee_account=None,
        payer_bank="B001",
        payee_bank=None,
        amount=Money.of_fen(MAX_FEN),
        channel=Channel.ATM,
    )
    with uow_factory() as uow:
        uow.session.add_all(transaction_row(t) for t in [*transfers, withdrawal])
        uow.commit()
    with uow_factory() as uow:
        recent = uow.session.scalars(
            select(TransactionRow)
            .where(TransactionRow.payer_account == "6222020000000001")
            .where(TransactionRow.ts >= OPENED + timedelta(seconds=1))
            .order_by(TransactionRow.ts)
        )
        assert [transaction_of(row) for row in recent] == transfers[1:]
        assert transaction_of(uow.session.get_one(TransactionRow, "W1")) == withdrawal


def test_decisions_round_trip_with_their_reasons(uow_factory: UowFactory) -> None:
    reason = Reason(
        rule_id="R012",
        text_zh="1小时内转入¥50,000.00后转出¥49,000.00",
        text_en="received ¥50,000.00 and sent out ¥49,000.00 within an hour",
        values={"in_amount_1h": 5_000_000, "ratio": 0.98, "typology": "mule"},
    )
    live = Decision("T1", Action.DELAY, 72, (reason,), "pack-2024.06", "lgbm-7", 850)
    shadow = Decision("T1", Action.PASS, 10, (), "pack-2024.07", shadow=True)
    decided = datetime(2024, 6, 1, 16, 0, 0, 5, tzinfo=BEIJING)
    with uow_factory() as uow:
        uow.session.add_all(decision_row(d, decided_at=decided) for d in (live, shadow))
        uow.commit()
    with uow_factory() as uow:
        rows = uow.session.scalars(
            select(DecisionRow).where(DecisionRow.tx_id == "T1").order_by(DecisionRow.id)
        ).all()
        assert [decision_of(row) for row in rows] == [live, shadow]
        assert rows[0].decided_at == decided
        assert rows[0].decided_at.utcoffset() == timedelta(0)


def test_times_are_stored_as_utc_whatever_zone_they_arrive_in(uow_factory: UowFactory) -> None:
    local = datetime(2024, 6, 1, 0, 30, tzinfo=BEIJING)
    with uow_factory() as uow:
        uow.session.add(DeviceRow(device_id="D1", kind="desktop", first_seen=local))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.session.get_one(DeviceRow, "D1").first_seen
        assert stored == local
        assert (stored.tzinfo, stored.hour, stored.day) == (UTC, 16, 31)


def test_naive_times_are_refused(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.session.add(DeviceRow(device_id="D1", kind="desktop", first_seen=datetime(2024, 6, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            uow.session.flush()


def test_foreign_keys_are_enforced(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.session.add(account_row(ACCOUNT))
        with pytest.raises(IntegrityError):
            uow.session.flush()


@pytest.mark.parametrize(("kind", "amount"), [("transfer", 0), ("transfer", -5), ("refund", 1)])
def test_transactions_need_a_positive_amount_and_a_known_kind(
    uow_factory: UowFactory, kind: str, amount: int
) -> None:
    with uow_factory() as uow:
        uow.session.add(
            TransactionRow(tx_id="T1", ts=OPENED, kind=kind, amount_fen=amount, channel="online")
        )
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_longest_domain_values_fit_their_columns(uow_factory: UowFactory, keyring: Keyring) -> None:
    # PostgreSQL enforces VARCHAR lengths, so this fails there if a column is too short.
    code, number = "B" * 64, "6" * 64
    with uow_factory() as uow:
        uow.session.add(
            institution_row(
                Institution(
                    code, "行" * 100, "b" * 100, InstitutionKind.PAYMENT_INSTITUTION, "100000"
                )
            )
        )
        uow.session.add(party_row(PERSON, keyring))
        uow.session.add(device_row(Device("d" * 128, DeviceKind.OTHER, OPENED)))
        uow.session.flush()
        uow.session.add(
            account_row(
                Account(
                    number,
                    code,
                    "P1",
                    AccountClass.CLASS_III,
                    AccountStatus.NON_COUNTER_SUSPENDED,
                    RiskTier.HIGH,
                    OPENED,
                    OpeningChannel.AGENT,
                    "7" * 64,
                )
            )
        )
        uow.session.add(
            login_event_row(
                LoginEvent("e" * 64, number, OPENED, "d" * 128, None, "城" * 64, FaceCheck.NOT_DONE)
            )
        )
        uow.commit()


def test_lookups_have_indexes(database: Engine) -> None:
    inspector = inspect(database)

    def indexed(table: str) -> set[tuple[str, ...]]:
        return {
            tuple(str(c) for c in index["column_names"]) for index in inspector.get_indexes(table)
        }

    assert ("party_id", "institution_code") in indexed("accounts")
    assert {("payer_account", "ts"), ("payee_account", "ts"), ("ts",)} <= indexed("transactions")
    assert {("id_number_hash",), ("phone_hash",)} <= indexed("parties")
    assert {("tx_id",), ("decided_at",)} <= indexed("decisions")
    assert ("account_no", "ts") in indexed("login_events")
