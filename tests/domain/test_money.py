from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import INT64_MAX, MAX_FEN, Money


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.56", 123456),
        ("1,234.56", 123456),
        ("¥1,234.56", 123456),
        ("￥1234.56", 123456),
        ("1234.5元", 123450),
        ("1234元", 123400),
        ("  ¥12.30 \t", 1230),
        ("\u3000100\u3000", 10000),
        ("0.01", 1),
        ("0", 0),
        ("007.5", 750),
        ("1,234,567", 123456700),
        ("9,999,999,999,999.99", MAX_FEN),
    ],
)
def test_parse_accepts_the_grammar(text: str, fen: int) -> None:
    assert Money.parse(text) == Money(fen)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.234", "more than two decimals: '1.234'"),
        ("¥1,234.567", "more than two decimals: '¥1,234.567'"),
        ("-5", "negative amount not allowed: '-5'"),
        ("-¥1,234.56", "negative amount not allowed: '-¥1,234.56'"),
        ("", "empty amount"),
        ("   ", "empty amount"),
        ("abc", "not an amount: 'abc'"),
        (".5", "not an amount: '.5'"),
        ("+5", "not an amount: '+5'"),
        ("1 234", "not an amount: '1 234'"),
        ("1e5", "not an amount: '1e5'"),
        ("NaN", "not an amount: 'NaN'"),
        ("¥-5", "not an amount: '¥-5'"),
        ("５", "not an amount: '５'"),
        ("5.", "no digits after the decimal point: '5.'"),
        ("¥5元", "give either a currency sign or 元, not both: '¥5元'"),
        ("1,23", "thousands separators must split the yuan into groups of three: '1,23'"),
        ("12,3456.00", "thousands separators must split the yuan into groups of three: "),
        ("0,123", "thousands separators must split the yuan into groups of three: '0,123'"),
        ("1234,567", "thousands separators must split the yuan into groups of three: "),
        ("10,000,000,000,000", "amount too large: '10,000,000,000,000' exceeds "),
        ("10000000000000.00", "amount too large: "),
        ("9" * 5000, "amount too large: "),
    ],
)
def test_parse_rejects_with_a_clear_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money.parse(text)
    assert caught.value.reason.startswith(reason)
    assert caught.value.field == "amount"


def test_too_large_names_the_maximum() -> None:
    with pytest.raises(InvalidInput, match=r"exceeds ¥9,999,999,999,999\.99"):
        Money.parse("10000000000000")


def test_long_input_is_cut_in_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money.parse("x" * 500)
    assert len(caught.value.reason) < 80


def test_parse_names_the_given_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money.parse("abc", field="daily_limit")
    assert caught.value.field == "daily_limit"


def test_parse_allows_negatives_on_request() -> None:
    assert Money.parse("-¥1,234.56", allow_negative=True) == Money(-123456)
    assert Money.parse("-0.05", allow_negative=True) == Money(-5)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(InvalidInput, match="expected the amount as text, got float"):
        Money.parse(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (123456, "¥1,234.56"),
        (0, "¥0.00"),
        (5, "¥0.05"),
        (-123456, "-¥1,234.56"),
        (-5, "-¥0.05"),
        (MAX_FEN, "¥9,999,999,999,999.99"),
    ],
)
def test_str_shows_yuan_with_separators(fen: int, shown: str) -> None:
    assert str(Money(fen)) == shown


def test_constructors() -> None:
    assert Money.yuan(50_000) == Money(5_000_000)
    assert Money.of_fen(123) == Money(123)
    assert Money.of_fen(-123, allow_negative=True) == Money(-123)
    assert Money.yuan(-2, allow_negative=True) == Money(-200)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: Money.of_fen(-1), "negative amount not allowed: -1 fen"),
        (lambda: Money.of_fen(MAX_FEN + 1), "amount too large"),
        (lambda: Money.of_fen(12.0), "expected a whole number of fen, got float"),  # type: ignore[arg-type]
        (lambda: Money.of_fen(True), "expected a whole number of fen, got bool"),
        (lambda: Money.of_fen("12"), "expected a whole number of fen, got str"),  # type: ignore[arg-type]
        (lambda: Money.yuan(-1), "negative amount not allowed"),
        (lambda: Money.yuan(MAX_FEN), "amount too large"),
        (lambda: Money.yuan(1.5), "expected a whole number of yuan, got float"),  # type: ignore[arg-type]
        (lambda: Money(1.5), "an amount is a whole number of fen, got float"),  # type: ignore[arg-type]
        (lambda: Money(False), "an amount is a whole number of fen, got bool"),
        (lambda: Money(INT64_MAX + 1), "amount out of range: 9223372036854775808 fen"),
    ],
)
def test_constructors_refuse_bad_values(call: Callable[[], Money], reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.reason.startswith(reason)


def test_arithmetic_and_order() -> None:
    a, b = Money(150), Money(50)
    assert a + b == Money(200)
    assert a - b == Money(100)
    assert b - a == Money(-100)
    assert -a == Money(-150)
    assert b < a <= Money(150) and a > b >= Money(50)
    assert sorted([a, Money(-1), b]) == [Money(-1), b, a]
    assert sum([a, b, b], Money(0)) == Money(250)


def test_arithmetic_with_numbers_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Money(1) + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Money(1) < 2  # type: ignore[operator]


def test_sums_that_leave_int64_are_refused() -> None:
    with pytest.raises(InvalidInput, match="64-bit"):
        _ = Money(INT64_MAX) + Money(1)


def test_the_maximum_leaves_room_for_sums() -> None:
    assert MAX_FEN * 9_000 < INT64_MAX


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_str_parses_back(fen: int) -> None:
    assert Money.parse(str(Money(fen)), allow_negative=True) == Money(fen)


@given(
    whole=st.integers(min_value=0, max_value=MAX_FEN // 100),
    frac=st.sampled_from(["", "0", "5", "00", "07", "99"]),
    grouped=st.booleans(),
    decoration=st.sampled_from(["", "¥", "￥", "元"]),
)
def test_parse_reads_digits_exactly(whole: int, frac: str, grouped: bool, decoration: str) -> None:
    digits = f"{whole:,}" if grouped else str(whole)
    number = f"{digits}.{frac}" if frac else digits
    text = number + decoration if decoration == "元" else decoration + number
    parsed = Money.parse(text)
    assert type(parsed.fen) is int
    assert parsed.fen == whole * 100 + int(frac.ljust(2, "0"))


@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789,.¥￥元- \t"),
        st.from_regex(r"-?[¥￥]?[0-9,]{0,30}(\.[0-9]{0,4})?元?", fullmatch=True),
    ),
    st.booleans(),
)
def test_junk_raises_only_invalid_input(text: str, allow_negative: bool) -> None:
    try:
        parsed = Money.parse(text, allow_negative=allow_negative)
    except InvalidInput:
        return
    assert type(parsed.fen) is int
    assert abs(parsed.fen) <= MAX_FEN
