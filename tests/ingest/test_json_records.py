"""JSON transactions: types checked by the request model, values by the domain, batches whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import Channel, Transaction
from fundwall.ingest.errors import MAX_ERRORS, InvalidRecords
from fundwall.ingest.json_api import (
    MAX_BATCH,
    TransactionBatchIn,
    TransactionIn,
    parse_batch,
    parse_transaction,
)


def record(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "tx_id": "T1",
        "ts": "2024-05-01T09:30:00+08:00",
        "kind": "transfer",
        "payer_account": "6222020200112233445",
        "payee_account": "6228480010203040506",
        "payer_bank": "ICBC",
        "payee_bank": "ABC",
        "amount_fen": 123456,
        "channel": "mobile",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_a_transaction_with_amount_in_fen() -> None:
    transaction = parse_transaction(record(device_id="D-1", ip="203.0.113.7", city="Xiamen"))
    assert transaction.amount.fen == 123456
    assert transaction.ts == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert transaction.channel is Channel.MOBILE
    assert (transaction.device_id, transaction.ip, transaction.city) == (
        "D-1",
        "203.0.113.7",
        "Xiamen",
    )


def test_a_transaction_with_amount_in_yuan_text() -> None:
    transaction = parse_transaction(record(amount_fen=None, amount="1,234.56"))
    assert transaction.amount.fen == 123456


def test_a_request_model_instance_is_accepted() -> None:
    model = TransactionIn.model_validate(record())
    assert parse_transaction(model) == parse_transaction(record())


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"tx_id": 7}, "tx_id", "expected text, got a number"),
        ({"amount_fen": 12.5}, "amount_fen", "expected a whole number, got a number"),
        ({"amount_fen": True}, "amount_fen", "expected a whole number, got a boolean"),
        ({"amount_fen": "100"}, "amount_fen", "expected a whole number, got a string"),
        ({"amount": 12}, "amount", "expected text, got a number"),
        ({"channel": None}, "channel", "missing"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_wrong_json_types_are_refused_by_the_model(
    changes: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_transaction(record(**changes))
    assert (caught.value.field, caught.value.reason) == (field, words)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": -5}, "amount_fen"),
        ({"amount_fen": None, "amount": "12.345"}, "amount"),
        ({"amount": "1.00"}, "amount"),
        ({"ts": "2024-05-01T09:30:00"}, "ts"),
        ({"kind": "refund"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"kind": "deposit"}, "payer_account"),
        ({"payee_account": None}, "payee_account"),
        ({"ip": "300.1.1.1"}, "ip"),
        ({"tx_id": "has space"}, "tx_id"),
    ],
)
def test_value_rules_are_the_domains(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_transaction(record(**changes))
    assert caught.value.field == field
    with pytest.raises(InvalidInput) as direct:
        Transaction.from_mapping(record(**changes))
    assert caught.value.message() == direct.value.message()


@pytest.mark.parametrize(
    ("obj", "words"), [([1], "got an array"), ("T1", "got a string"), (None, "got null")]
)
def test_a_transaction_must_be_a_json_object(obj: object, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_transaction(obj)


def test_batch_returns_every_transaction_in_order() -> None:
    batch = [record(tx_id=f"T{i}") for i in range(3)]
    assert [item.tx_id for item in parse_batch(batch)] == ["T0", "T1", "T2"]
    model = TransactionBatchIn.model_validate({"transactions": batch})
    assert parse_batch(model) == parse_batch(batch)


def test_one_bad_record_fails_the_batch_and_names_its_index() -> None:
    batch = [record(tx_id="T0"), record(tx_id="T1", amount_fen=0), record(tx_id="T2")]
    with pytest.raises(InvalidInput) as caught:
        parse_batch(batch)
    assert (caught.value.record, caught.value.field) == ("1", "amount_fen")
    assert str(caught.value).startswith("record 1, field 'amount_fen': ")


def test_several_bad_records_are_listed_in_one_error() -> None:
    batch = [record(tx_id="T0", kind="x"), record(tx_id="T1"), record(tx_id="T2", ip="x")]
    with pytest.raises(InvalidRecords) as caught:
        parse_batch(batch)
    assert [(e.record, e.field) for e in caught.value.errors] == [("0", "kind"), ("2", "ip")]
    assert not caught.value.more


def test_error_list_stops_at_the_limit() -> None:
    batch = [record(tx_id=f"T{i}", amount_fen=0) for i in range(MAX_ERRORS + 5)]
    with pytest.raises(InvalidRecords) as caught:
        parse_batch(batch)
    assert len(caught.value.errors) == MAX_ERRORS
    assert caught.value.more
    assert f"{MAX_ERRORS} or more invalid records" in str(caught.value)


def test_duplicate_tx_id_in_a_batch_is_an_error_at_the_later_record() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_batch([record(tx_id="T1"), record(tx_id="T2"), record(tx_id="T1")])
    assert (caught.value.record, caught.value.field) == ("2", "tx_id")
    assert "duplicate of record 0" in caught.value.reason


@pytest.mark.parametrize(
    ("objs", "words"),
    [
        ([], "empty batch"),
        ({"tx_id": "T1"}, "expected a JSON array"),
        ("[]", "expected a JSON array"),
    ],
)
def test_batch_shape_is_checked(objs: object, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_batch(objs)


def test_batch_limit_is_enforced_before_reading_records() -> None:
    with pytest.raises(InvalidInput, match="at most 10,000"):
        parse_batch([{}] * (MAX_BATCH + 1))


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=999_999_999_999_999))
def test_fen_and_yuan_text_give_the_same_amount(fen: int) -> None:
    as_fen = parse_transaction(record(amount_fen=fen))
    as_text = parse_transaction(record(amount_fen=None, amount=f"{fen // 100}.{fen % 100:02d}"))
    assert as_fen == as_text


_FIELD_VALUES = {
    "kind": st.sampled_from(["transfer", "withdrawal", "deposit", "TRANSFER", "refund", ""]),
    "payer_account": st.one_of(st.none(), st.sampled_from(["6222020200112233445", "", " "])),
    "payee_account": st.one_of(st.none(), st.sampled_from(["6228480010203040506", "x y"])),
    "payer_bank": st.one_of(st.none(), st.sampled_from(["ICBC", "ABC"])),
    "payee_bank": st.one_of(st.none(), st.sampled_from(["ABC", "ICBC"])),
    "amount_fen": st.one_of(st.none(), st.integers(min_value=-2, max_value=10**19)),
    "amount": st.one_of(st.none(), st.sampled_from(["12.34", "1,234.56", "0", "1.234", " "])),
    "channel": st.sampled_from(["mobile", "atm", "Counter", "fax"]),
    "device_id": st.one_of(st.none(), st.sampled_from(["D-1", "", "a b"])),
    "ip": st.one_of(st.none(), st.sampled_from(["203.0.113.7", "::1", "300.1.1.1", "2001:DB8::1"])),
    "city": st.one_of(st.none(), st.sampled_from(["Xiamen", "  ", " Fuzhou ", "a\nb"])),
    "purpose": st.one_of(st.none(), st.sampled_from(["rent", ""])),
}


def _outcome(read: object) -> object:
    try:
        return Transaction.from_mapping(read)  # type: ignore[arg-type]
    except InvalidInput as error:
        return ("refused", error.field, error.reason)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=_FIELD_VALUES))
def test_the_request_models_fields_read_as_the_model_dump_would(
    changes: dict[str, object],
) -> None:
    # `parse_transaction` hands the model's fields to the domain as they are, nulls
    # included; the domain must read them exactly as it reads the dump without the nulls.
    model = TransactionIn.model_validate({**record(), **changes})
    dumped = _outcome(model.model_dump(exclude_none=True))
    assert _outcome(vars(model)) == dumped
    try:
        assert parse_transaction(model) == dumped
    except InvalidInput as error:
        assert ("refused", error.field, error.reason) == dumped
