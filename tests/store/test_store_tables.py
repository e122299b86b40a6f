"""Every table keeps what it is given, on SQLite and PostgreSQL, and refuses what it must."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from fundwall.crypto import Keyring
from fundwall.store import UnitOfWork
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


def party(keyring: Keyring, party_id: str = "P1", phone: str | None = "13812345678") -> PartyRow:
    return PartyRow(
        party_id=party_id,
        kind="person",
        name_enc=keyring.encrypt("张三"),
        id_number_enc=keyring.encrypt("35020319900101123X"),
        id_number_hash=keyring.keyed_hash("id", "35020319900101123X"),
        phone_enc=keyring.encrypt(phone) if phone else None,
        phone_hash=keyring.keyed_hash("phone", phone) if phone else None,
        home_region="350203",
        birth_year=1990,
    )


def account(account_no: str = "6222020000000001", party_id: str = "P1") -> AccountRow:
    return AccountRow(
        account_no=account_no,
        institution_code="B001",
        party_id=party_id,
        account_class="II",
        status="normal",
        risk_tier="low",
        opened_at=OPENED,
        opening_channel="mobile",
        bound_account="6222020000000099",
        balance_fen=123_456_789_012_345,
    )


def seed(uow_factory: UowFactory, keyring: Keyring) -> None:
    with uow_factory() as uow:
        uow.session.add(InstitutionRow(code="B001", name="Xiamen Example Bank", kind="bank"))
        uow.session.add(party(keyring))
        uow.session.flush()
        uow.session.add(account())
        uow.commit()


def test_party_round_trip_decrypts_and_is_found_by_keyed_hash(
    uow_factory: UowFactory, keyring: Keyring
) -> None:
    seed(uow_factory, keyring)
    with uow_factory() as uow:
        found = uow.session.scalars(
            select(PartyRow).where(
                PartyRow.id_number_hash == keyring.keyed_hash("id", "350203 19900101 123x")
            )
        ).one()
        assert keyring.decrypt(found.name_enc) == "张三"
        assert keyring.decrypt(found.id_number_enc) == "35020319900101123X"
        assert found.phone_enc is not None
        assert keyring.decrypt(found.phone_enc) == "13812345678"
        assert (found.kind, found.home_region, found.birth_year) == ("person", "350203", 1990)
        by_phone = uow.session.scalars(
            select(PartyRow.party_id).where(
                PartyRow.phone_hash == keyring.keyed_hash("phone", "+86 138 1234 5678")
            )
        ).all()
        assert by_phone == ["P1"]


def test_party_without_phone(uow_factory: UowFactory, keyring: Keyring) -> None:
    with uow_factory() as uow:
        uow.session.add(party(keyring, "P2", phone=None))
        uow.commit()
    with uow_factory() as uow:
        found = uow.session.get(PartyRow, "P2")
        assert found is not None
        assert (found.phone_enc, found.phone_hash) == (None, None)


def test_institution_and_account_round_trip(uow_factory: UowFactory, keyring: Keyring) -> None:
    seed(uow_factory, keyring)
    with uow_factory() as uow:
        bank = uow.session.get(InstitutionRow, "B001")
        assert bank is not None
        assert (bank.name, bank.kind) == ("Xiamen Example Bank", "bank")
        row = uow.session.get(AccountRow, "6222020000000001")
        assert row is not None
        assert row.balance_fen == 123_456_789_012_345
        assert row.opened_at == OPENED
        assert row.opened_at.tzinfo is not None
        assert (row.account_class, row.status, row.risk_tier) == ("II", "normal", "low")
        assert (row.opening_channel, row.bound_account) == ("mobile", "6222020000000099")
        by_party = uow.session.scalars(
            select(AccountRow.account_no).where(AccountRow.party_id == "P1")
        ).all()
        assert by_party == ["6222020000000001"]


def test_device_and_login_event_round_trip(uow_factory: UowFactory, keyring: Keyring) -> None:
    seed(uow_factory, keyring)
    with uow_factory() as uow:
        uow.session.add(
            DeviceRow(device_id="D1", kind="phone", os="Android 14", first_seen_at=OPENED)
        )
        uow.session.flush()
        for minute in (1, 2):
            uow.session.add(
                LoginEventRow(
                    account_no="6222020000000001",
                    ts=OPENED + timedelta(minutes=minute),
                    device_id="D1",
                    ip="2001:db8::1",
                    city="Xiamen",
                    channel="mobile",
                    success=minute == 2,
                )
            )
        uow.commit()
    with uow_factory() as uow:
        device = uow.session.get(DeviceRow, "D1")
        assert device is not None
        assert (device.kind, device.os, device.first_seen_at) == ("phone", "Android 14", OPENED)
        logins = uow.session.scalars(select(LoginEventRow).order_by(LoginEventRow.ts)).all()
        assert [(e.id > 0, e.success, e.ip) for e in logins] == [
            (True, False, "2001:db8::1"),
            (True, True, "2001:db8::1"),
        ]
        assert logins[0].id != logins[1].id


def test_transaction_round_trip_and_lookup_by_payer_and_time(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.session.add_all(
            [
                TransactionRow(
                    tx_id=f"T{i}",
                    ts=OPENED + timedelta(seconds=i),
                    kind="transfer",
                    payer_account="6222020000000001",
                    payee_account="6222030000000002",
                    payer_bank="B001",
                    payee_bank="B999",
                    amount_fen=5_000_000_00 + i,
                    channel="mobile",
                    device_id="D-unknown",
                    ip="10.0.0.1",
                    city="Xiamen",
                    purpose="rent",
                )
                for i in range(3)
            ]
            + [
                TransactionRow(
                    tx_id="W1",
                    ts=OPENED,
                    kind="withdrawal",
                    payer_account="6222020000000001",
                    payer_bank="B001",
                    amount_fen=1,
                    channel="atm",
                )
            ]
        )
        uow.commit()
    with uow_factory() as uow:
        recent = uow.session.scalars(
            select(TransactionRow)
            .where(TransactionRow.payer_account == "6222020000000001")
            .where(TransactionRow.ts >= OPENED + timedelta(seconds=1))
            .order_by(TransactionRow.ts)
        ).all()
        assert [(t.tx_id, t.amount_fen) for t in recent] == [
            ("T1", 500_000_001),
            ("T2", 500_000_002),
        ]
        withdrawal = uow.session.get(TransactionRow, "W1")
        assert withdrawal is not None
        assert (withdrawal.payee_account, withdrawal.payee_bank, withdrawal.purpose) == (
            None,
            None,
            None,
        )


def test_decision_round_trip_keeps_reasons_json(uow_factory: UowFactory) -> None:
    reasons = [
        {"rule": "R012", "score": 40, "text": {"zh": "快进快出", "en": "quick in, quick out"}}
    ]
    decided = datetime(2024, 6, 1, 16, 0, 0, 5, tzinfo=BEIJING)
    with uow_factory() as uow:
        for shadow in (False, True):
            uow.session.add(
                DecisionRow(
                    tx_id="T1",
                    action="delay",
                    score=72.5,
                    reasons=reasons,
                    pack_version="pack-2024.06",
                    model_version=None if shadow else "lgbm-7",
                    latency_us=850,
                    shadow=shadow,
                    decided_at=decided,
                )
            )
        uow.commit()
    with uow_factory() as uow:
        rows = uow.session.scalars(
            select(DecisionRow).where(DecisionRow.tx_id == "T1").order_by(DecisionRow.id)
        ).all()
        assert [(d.shadow, d.model_version) for d in rows] == [(False, "lgbm-7"), (True, None)]
        assert rows[0].reasons == reasons
        assert (rows[0].action, rows[0].score, rows[0].latency_us) == ("delay", 72.5, 850)
        assert rows[0].decided_at == decided
        assert rows[0].decided_at.utcoffset() == timedelta(0)


def test_times_are_stored_as_utc_whatever_zone_they_arrive_in(uow_factory: UowFactory) -> None:
    local = datetime(2024, 6, 1, 0, 30, tzinfo=BEIJING)
    with uow_factory() as uow:
        uow.session.add(DeviceRow(device_id="D1", kind="pc", first_seen_at=local))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.session.scalar(select(DeviceRow.first_seen_at))
        assert stored == local
        assert stored is not None
        assert (stored.tzinfo, stored.hour, stored.day) == (UTC, 16, 31)


def test_naive_times_are_refused(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.session.add(DeviceRow(device_id="D1", kind="pc", first_seen_at=datetime(2024, 6, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            uow.session.flush()


def test_foreign_keys_are_enforced(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.session.add(account(party_id="nobody"))
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


def test_lookups_have_indexes(engine: Engine) -> None:
    inspector = inspect(engine)

    def indexed(table: str) -> set[tuple[str, ...]]:
        return {
            tuple(str(c) for c in index["column_names"]) for index in inspector.get_indexes(table)
        }

    assert ("party_id", "institution_code") in indexed("accounts")
    assert {("payer_account", "ts"), ("payee_account", "ts"), ("ts",)} <= indexed("transactions")
    assert {("id_number_hash",), ("phone_hash",)} <= indexed("parties")
    assert {("tx_id",), ("decided_at",)} <= indexed("decisions")
    assert ("account_no", "ts") in indexed("login_events")
