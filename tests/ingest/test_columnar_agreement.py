"""One rule, two executions: the columnar validator and Transaction.from_mapping agree.

Every value is checked both ways, as a one-row table and as a mapping, and the outcomes must
match: the same normal row when valid, the same field and reason when not.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import Transaction
from fundwall.ingest.batches import transactions_of
from fundwall.ingest.columnar import validate_table

BASE: dict[str, str | None] = {
    "tx_id": "T-1",
    "ts": "2024-05-01T09:30:00+08:00",
    "kind": "transfer",
    "payer_account": "6222020200112233445",
    "payee_account": "6228480010203040506",
    "payer_bank": "ICBC",
    "payee_bank": "ABC",
    "amount_fen": "12345",
    "amount": None,
    "channel": "mobile",
    "device_id": "IMEI-1",
    "ip": "203.0.113.7",
    "city": "Xiamen",
    "purpose": "rent",
}

Outcome = dict[str, object] | tuple[str | None, str]


def columnar(row: dict[str, str | None]) -> Outcome:
    table = pa.table({name: pa.array([value], pa.string()) for name, value in row.items()})
    try:
        rows: list[dict[str, object]] = validate_table(table, lambda i: f"line {i + 2}").to_pylist()
    except InvalidInput as error:
        assert error.record == "line 2"
        return error.field, error.reason
    (result,) = rows
    return result


def domain(row: dict[str, str | None]) -> Outcome:
    try:
        return Transaction.from_mapping(row).as_row()
    except InvalidInput as error:
        return error.field, error.reason


def assert_agree(**changes: str | None) -> None:
    row = {**BASE, **changes}
    assert columnar(row) == domain(row), row


FIELD_SAMPLES: dict[str, list[str | None]] = {
    "tx_id": ["T", "a.b_c:d-9", "x" * 64, "x" * 65, "has space", " T1", "", "   ", None, "订单"],
    "ts": [
        "2024-05-01T09:30:00Z",
        "2024-05-01 09:30:00+0800",
        "2024-05-01T09:30+08:00",
        "2024-05-01T09:30:00.123456-05:00",
        "2024-05-01T09:30:00.1234567+08:00",
        "2024-05-01T09:30:00",
        "2024-05-01",
        "2024-02-30T09:30:00+08:00",
        "2024-05-01T24:00:00+08:00",
        "2024-05-01T09:30:00+24:00",
        " 2024-05-01T09:30:00+08:00 ",
        "20240501T093000+0800",
        "May 1st",
        None,
    ],
    "kind": ["transfer", "TRANSFER", " Withdrawal ", "deposit", "refund", "", None, "transfér"],
    "channel": ["counter", "ATM", " pos", "Mobile", "online", "fax", "", None, "ｍobile"],
    "payer_account": ["12345678", "x" * 65, "acc no", "", None, "6228480010203040506"],
    "payee_bank": ["ICBC", "ABC", "银行", "", None],
    "device_id": ["D", "x" * 128, "x" * 129, "with space", "é", "", None],
    "ip": ["1.2.3.4", "255.255.255.255", "256.1.1.1", "01.2.3.4", "2001:DB8::1", "::1", "x"],
    "city": ["厦门", "Xiamen", " Xiamen ", "a\tb", "x" * 64, "x" * 65, "São Paulo", "", None],
    "purpose": ["rent", "salary 五月", "p" * 200, "p" * 201, "line\nbreak", "\u200b", None],
}


@pytest.mark.parametrize(
    ("field", "value"),
    [(field, value) for field, values in FIELD_SAMPLES.items() for value in values],
)
def test_each_field_agrees_on_valid_and_invalid_values(field: str, value: str | None) -> None:
    assert_agree(**{field: value})


@pytest.mark.parametrize(
    ("amount_fen", "amount"),
    [
        ("1", None),
        ("0", None),
        ("000123", None),
        ("999999999999999", None),
        ("1000000000000000", None),
        ("99999999999999999999", None),
        ("-5", None),
        ("1.5", None),
        (" 12 ", None),
        ("١٢", None),
        (None, "12"),
        (None, "12.3"),
        (None, "0.01"),
        (None, "0.00"),
        (None, "1,234.56"),
        (None, "¥12.00"),
        (None, "12元"),
        (None, "12.345"),
        (None, "9999999999999.99"),
        (None, "10000000000000.00"),
        (None, "-1"),
        (None, "abc"),
        ("100", "1.00"),
        (None, None),
        ("", ""),
    ],
)
def test_amount_columns_agree(amount_fen: str | None, amount: str | None) -> None:
    assert_agree(amount_fen=amount_fen, amount=amount)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "deposit"},
        {"kind": "deposit", "payer_account": None, "payer_bank": None},
        {"kind": "withdrawal"},
        {"kind": "withdrawal", "payee_account": None, "payee_bank": None},
        {"kind": "transfer", "payer_bank": None},
        {"payee_account": "6222020200112233445", "payee_bank": "ICBC"},
        {"payee_account": "6222020200112233445"},
    ],
)
def test_party_rules_agree(changes: dict[str, str | None]) -> None:
    assert_agree(**changes)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["tx_id", "ts", "amount_fen", "device_id", "ip", "city", "kind"]),
    st.one_of(
        st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?[Z+-]"),
        st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){3}\Z"),
        st.from_regex(r"\A[0-9]{1,17}\Z"),
        st.text(min_size=0, max_size=70),
        st.text(alphabet="aZ09._:- \t厦门\u3000", max_size=70),
    ),
)
def test_random_values_agree(field: str, value: str) -> None:
    assert_agree(**{field: value})


@settings(max_examples=50, deadline=None)
@given(
    st.from_regex(
        r"\A[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
        r":[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])\Z"
    )
)
def test_well_shaped_timestamps_agree(value: str) -> None:
    assert_agree(ts=value)


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"\A[0-9]{1,14}(\.[0-9]{0,3})?\Z"))
def test_decimal_amounts_agree(value: str) -> None:
    assert_agree(amount_fen=None, amount=value)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={field: st.sampled_from(values) for field, values in FIELD_SAMPLES.items()},
        ),
        min_size=1,
        max_size=8,
    )
)
def test_a_batch_table_gives_the_transactions_the_domain_reads(
    changes: list[dict[str, str | None]],
) -> None:
    """`transactions_of`, which builds a batch's transactions column by column without
    checking them again, gives the very transactions `Transaction.from_mapping` reads from
    the records the table vouched for."""
    records = [{**BASE, **change, "tx_id": f"T-{index}"} for index, change in enumerate(changes)]
    rows = [row for row in records if isinstance(domain(row), dict)]
    table = pa.table({name: pa.array([row[name] for row in rows], pa.string()) for name in BASE})
    built = transactions_of(validate_table(table, str))
    assert built == [Transaction.from_mapping(row) for row in rows]
    assert [hash(tx) for tx in built] == [hash(Transaction.from_mapping(row)) for row in rows]
