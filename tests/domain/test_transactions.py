from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import MAX_FEN, Money
from fundwall.domain.spec import FieldKind, FieldSpec
from fundwall.domain.transactions import (
    COLUMNS,
    REQUIRED,
    TRANSACTION_FIELDS,
    Channel,
    Transaction,
    TransactionKind,
    is_non_counter,
)

BEIJING = timezone(timedelta(hours=8))
TS = datetime(2024, 5, 1, 9, 30, tzinfo=BEIJING)


def json_record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "tx_id": "TX-2024.05.01:0001",
        "ts": "2024-05-01T09:30:00+08:00",
        "kind": "transfer",
        "payer_account": "6222021234561234",
        "payee_account": "6228480012345678901",
        "payer_bank": "XMBANK01",
        "payee_bank": "ABC0001",
        "amount_fen": 123456,
        "channel": "mobile",
        "device_id": "IMEI:861234567890123",
        "ip": "10.0.0.8",
        "city": "厦门",
        "purpose": "房租",
    }
    record.update(changes)
    return {key: value for key, value in record.items() if value is not ...}


def transaction(**changes: object) -> Transaction:
    values: dict[str, Any] = {
        "tx_id": "T1",
        "ts": TS,
        "kind": TransactionKind.TRANSFER,
        "payer_account": "A1",
        "payee_account": "A2",
        "payer_bank": "B1",
        "payee_bank": "B2",
        "amount": Money(100),
        "channel": Channel.MOBILE,
    }
    return Transaction(**(values | changes))


def test_from_json_record() -> None:
    tx = Transaction.from_mapping(json_record())
    assert tx.tx_id == "TX-2024.05.01:0001"
    assert tx.ts == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert tx.ts.tzinfo is UTC
    assert tx.kind is TransactionKind.TRANSFER
    assert tx.amount == Money(123456)
    assert tx.channel is Channel.MOBILE
    assert (tx.device_id, tx.ip, tx.city, tx.purpose) == (
        "IMEI:861234567890123",
        "10.0.0.8",
        "厦门",
        "房租",
    )


def test_from_csv_record_where_everything_is_text() -> None:
    record = {key: str(value) for key, value in json_record().items()}
    record.update({"device_id": "", "ip": " ", "purpose": "", "ts": "2024-05-01T01:30:00Z"})
    tx = Transaction.from_mapping(record)
    assert tx.amount == Money(123456)
    assert (tx.device_id, tx.ip, tx.purpose) == (None, None, None)
    assert tx.ts == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)


def test_from_parquet_record_with_datetimes_and_nulls() -> None:
    record = json_record(ts=TS, device_id=None, ip=None, city=None, purpose=None)
    assert Transaction.from_mapping(record).ts == TS


def test_amount_in_yuan_text_or_money() -> None:
    by_text = Transaction.from_mapping(json_record(amount_fen=..., amount="¥1,234.56"))
    by_money = Transaction.from_mapping(json_record(amount_fen=..., amount=Money(123456)))
    assert by_text.amount == by_money.amount == Money(123456)


def test_deposit_and_withdrawal() -> None:
    deposit = Transaction.from_mapping(
        json_record(kind="deposit", payer_account=None, payer_bank=None, channel="counter")
    )
    assert deposit.payer_account is None and deposit.payee_account is not None
    withdrawal = Transaction.from_mapping(
        json_record(kind="withdrawal", payee_account=..., payee_bank=..., channel="atm")
    )
    assert withdrawal.payee_account is None and withdrawal.payer_account is not None


def test_row_round_trip() -> None:
    tx = Transaction.from_mapping(json_record())
    row = tx.as_row()
    assert tuple(row) == COLUMNS
    assert row["amount_fen"] == 123456 and row["kind"] == "transfer"
    assert Transaction.from_mapping(row) == tx


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"tx_id": ...}, "tx_id", "missing"),
        ({"tx_id": ""}, "tx_id", "missing"),
        ({"tx_id": "T" * 65}, "tx_id", "longer than 64 characters (65)"),
        ({"tx_id": "TX/1"}, "tx_id", "may hold only letters, digits and . _ : -"),
        ({"tx_id": 17}, "tx_id", "expected text, got int"),
        ({"ts": ...}, "ts", "missing"),
        ({"ts": "2024-05-01T09:30:00"}, "ts", "time has no UTC offset; give one, e.g. +08:00"),
        ({"ts": "2024-05-01"}, "ts", "time has no UTC offset; give one, e.g. +08:00"),
        (
            {"ts": "yesterday"},
            "ts",
            "not an ISO-8601 date and time, e.g. 2024-05-01T09:30:00+08:00",
        ),
        ({"ts": 1714526400}, "ts", "expected a date and time, got int"),
        ({"ts": datetime(2024, 5, 1)}, "ts", "time has no UTC offset; give one, e.g. +08:00"),
        (
            {"kind": "refund"},
            "kind",
            "unknown value 'refund'; expected one of transfer, withdrawal, deposit",
        ),
        ({"kind": None}, "kind", "missing"),
        (
            {"channel": "wechat"},
            "channel",
            "unknown value 'wechat'; expected one of counter, atm, mobile, online, pos",
        ),
        (
            {"channel": 3},
            "channel",
            "unknown value int; expected one of counter, atm, mobile, online, pos",
        ),
        ({"payer_account": None}, "payer_account", "a transfer needs a payer account"),
        ({"payer_account": 6222021234561234}, "payer_account", "expected text, got int"),
        ({"payee_account": "A B"}, "payee_account", "may hold only letters, digits and . _ : -"),
        ({"payer_bank": ...}, "payer_bank", "a transfer needs the payer's bank"),
        ({"payee_bank": ""}, "payee_bank", "a transfer needs the payee's bank"),
        (
            {"payee_account": "6222021234561234", "payee_bank": "XMBANK01"},
            "payee_account",
            "the payer and the payee are the same account",
        ),
        ({"kind": "deposit"}, "payer_account", "a deposit has no payer"),
        ({"kind": "deposit", "payer_account": None}, "payer_bank", "a deposit has no payer bank"),
        ({"kind": "withdrawal"}, "payee_account", "a withdrawal has no payee"),
        (
            {"kind": "withdrawal", "payee_account": None},
            "payee_bank",
            "a withdrawal has no payee bank",
        ),
        (
            {"amount_fen": ...},
            "amount_fen",
            "missing: give amount_fen (fen) or amount (yuan as text)",
        ),
        ({"amount_fen": 0}, "amount_fen", "the amount must be more than zero, got ¥0.00"),
        ({"amount_fen": -5}, "amount_fen", "negative amount not allowed: -5 fen"),
        ({"amount_fen": 12.5}, "amount_fen", "expected a whole number of fen, got float: 12.5"),
        ({"amount_fen": 100.0}, "amount_fen", "expected a whole number of fen, got float: 100.0"),
        ({"amount_fen": True}, "amount_fen", "expected a whole number of fen, got bool: True"),
        ({"amount_fen": "12.50"}, "amount_fen", "amount_fen is a whole number of fen, digits only"),
        (
            {"amount_fen": "9" * 400},
            "amount_fen",
            "amount_fen is a whole number of fen, digits only",
        ),
        (
            {"amount_fen": MAX_FEN + 1},
            "amount_fen",
            "amount too large: 1000000000000000 fen exceeds ¥9,999,999,999,999.99",
        ),
        ({"amount_fen": ..., "amount": "1.234"}, "amount", "more than two decimals: '1.234'"),
        (
            {"amount_fen": ..., "amount": "0.00"},
            "amount",
            "the amount must be more than zero, got ¥0.00",
        ),
        (
            {"amount_fen": ..., "amount": 1234},
            "amount",
            'amount is yuan written as text, e.g. "1234.56", got int; send whole fen as amount_fen',
        ),
        ({"amount": "12.00"}, "amount", "give either amount_fen or amount, not both"),
        (
            {"device_id": "with space"},
            "device_id",
            "may hold only visible ASCII characters, no spaces",
        ),
        ({"ip": "10.0.0.256"}, "ip", "not an IPv4 or IPv6 address"),
        ({"city": "x" * 65}, "city", "longer than 64 characters (65)"),
        ({"purpose": "rent\x00"}, "purpose", "contains control characters"),
        ({"purpose": "租" * 201}, "purpose", "longer than 200 characters (201)"),
        ({"amout_fen": 5}, "amout_fen", "unknown field"),
    ],
)
def test_bad_records_name_the_field(changes: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Transaction.from_mapping(json_record(**changes))
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_record_must_be_a_mapping() -> None:
    with pytest.raises(InvalidInput, match="expected a record of named fields, got list") as caught:
        Transaction.from_mapping([("tx_id", "T1")])  # type: ignore[arg-type]
    assert caught.value.field is None


def test_error_can_be_located_by_the_caller() -> None:
    with pytest.raises(InvalidInput) as caught:
        Transaction.from_mapping(json_record(ip="nope"))
    assert str(caught.value.at(17)) == "record 17, field 'ip': not an IPv4 or IPv6 address"


def test_constructor_validates_the_same_rules() -> None:
    assert transaction().amount == Money(100)
    assert transaction(kind="TRANSFER", channel="Counter").channel is Channel.COUNTER
    with pytest.raises(InvalidInput) as caught:
        transaction(amount=123)
    assert (caught.value.field, caught.value.reason) == ("amount", "expected Money, got int")
    with pytest.raises(InvalidInput) as caught:
        transaction(amount=Money(MAX_FEN + 1))
    assert caught.value.field == "amount"
    with pytest.raises(InvalidInput) as caught:
        transaction(ts=datetime(2024, 5, 1))
    assert caught.value.field == "ts"


def test_same_account_number_at_different_banks_is_allowed() -> None:
    tx = transaction(payee_account="A1", payee_bank="B2")
    assert tx.payer_account == tx.payee_account


def test_non_counter_channels() -> None:
    assert [c.value for c in Channel if not is_non_counter(c.value)] == ["counter"]
    assert not is_non_counter(None)
    assert TransactionKind.DEPOSIT.has_payee and not TransactionKind.DEPOSIT.has_payer
    assert TransactionKind.WITHDRAWAL.has_payer and not TransactionKind.WITHDRAWAL.has_payee


def test_first_problem_in_column_order_is_reported() -> None:
    with pytest.raises(InvalidInput) as caught:
        Transaction.from_mapping(json_record(channel=..., kind=..., tx_id=...))
    assert caught.value.field == "tx_id"


# The declaration of the transaction: the domain enforces exactly what it declares.

_VALID_TEXT = {
    FieldKind.REFERENCE: "A",
    FieldKind.DEVICE: "D",
    FieldKind.TEXT: "厦",
}


def _declared(*kinds: FieldKind) -> list[FieldSpec]:
    return [field for field in TRANSACTION_FIELDS if field.kind in kinds]


def test_the_declaration_is_the_record_in_column_order() -> None:
    assert list(Transaction.from_mapping(json_record()).as_row()) == list(COLUMNS)
    assert REQUIRED == ("tx_id", "ts", "kind", "channel")


@pytest.mark.parametrize("field", _declared(*_VALID_TEXT), ids=lambda field: field.name)
def test_text_fields_hold_up_to_their_declared_length(field: FieldSpec) -> None:
    assert field.max_len is not None
    longest = _VALID_TEXT[field.kind] * field.max_len
    kept = Transaction.from_mapping(json_record(**{field.name: longest})).as_row()[field.name]
    assert kept == longest
    with pytest.raises(InvalidInput, match=f"longer than {field.max_len}") as error:
        Transaction.from_mapping(json_record(**{field.name: longest + _VALID_TEXT[field.kind]}))
    assert error.value.field == field.name


def test_an_ip_address_fits_its_declared_length() -> None:
    (field,) = _declared(FieldKind.IP)
    widest = "0000:0000:0000:0000:0000:ffff:255.255.255.255"
    assert field.max_len == len(widest)
    assert Transaction.from_mapping(json_record(ip=widest)).ip is not None


@pytest.mark.parametrize("field", _declared(FieldKind.CHOICE), ids=lambda field: field.name)
def test_choice_fields_take_exactly_their_declared_values(field: FieldSpec) -> None:
    for choice in field.choices:
        record = json_record(**{field.name: choice})
        if field.name == "kind" and choice != "transfer":
            side = "payee" if choice == "withdrawal" else "payer"
            record = json_record(
                **{field.name: choice, f"{side}_account": ..., f"{side}_bank": ...}
            )
        assert Transaction.from_mapping(record).as_row()[field.name] == choice
    with pytest.raises(InvalidInput, match="unknown value") as error:
        Transaction.from_mapping(json_record(**{field.name: "other"}))
    assert error.value.field == field.name


@pytest.mark.parametrize(
    "field",
    [f for f in TRANSACTION_FIELDS if not f.nullable and f.kind != FieldKind.FEN],
    ids=lambda field: field.name,
)
def test_fields_declared_not_null_are_required(field: FieldSpec) -> None:
    with pytest.raises(InvalidInput, match="missing") as error:
        Transaction.from_mapping(json_record(**{field.name: None}))
    assert error.value.field == field.name


@pytest.mark.parametrize(
    "field",
    [f for f in TRANSACTION_FIELDS if f.nullable],
    ids=lambda field: field.name,
)
def test_fields_declared_nullable_may_be_left_out(field: FieldSpec) -> None:
    if field.name.startswith(("payer_", "payee_")):
        side = field.name.partition("_")[0]
        kind = "deposit" if side == "payer" else "withdrawal"
        record = json_record(kind=kind, **{f"{side}_account": ..., f"{side}_bank": ...})
    else:
        record = json_record(**{field.name: ...})
    assert Transaction.from_mapping(record).as_row()[field.name] is None


def test_the_amount_is_declared_as_fen_up_to_the_largest_amount() -> None:
    (field,) = _declared(FieldKind.FEN)
    assert (field.name, field.nullable, field.python_type) == ("amount_fen", False, int)
    assert Transaction.from_mapping(json_record(amount_fen=MAX_FEN)).amount == Money(MAX_FEN)
    for wrong in (0, MAX_FEN + 1):
        with pytest.raises(InvalidInput):
            Transaction.from_mapping(json_record(amount_fen=wrong))


def test_a_declaration_states_its_limits_consistently() -> None:
    assert FieldSpec("x", FieldKind.REFERENCE).max_len == 64
    assert FieldSpec("x", FieldKind.CHOICE, choices=("ab", "abc")).max_len == 3
    for wrong in (
        lambda: FieldSpec("x", FieldKind.TEXT),
        lambda: FieldSpec("x", FieldKind.REFERENCE, max_len=10),
        lambda: FieldSpec("x", FieldKind.CHOICE),
        lambda: FieldSpec("x", FieldKind.TEXT, max_len=5, choices=("a",)),
        lambda: FieldSpec("x", FieldKind.TIME, max_len=5),
    ):
        with pytest.raises(ValueError):
            wrong()
