"""The expression language: precedence, types, canonical text, and errors with columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.engine.rules.errors import ExpressionError
from fundwall.engine.rules.nodes import (
    Arithmetic,
    Call,
    Compare,
    Feature,
    InList,
    Logic,
    Negate,
    Node,
    Not,
    Number,
    Type,
    features_of,
    unparse,
)
from fundwall.engine.rules.parser import MAX_DEPTH, parse, parse_condition

from .strategies import CATALOGUE, boolean, numeric


def shape(node: Node) -> str:
    """Every operation in parentheses, so a test can state how the parser grouped it."""
    match node:
        case Number(text=text):
            return text
        case Feature(name=name):
            return name
        case Negate(operand=x):
            return f"(-{shape(x)})"
        case Not(operand=x):
            return f"(not {shape(x)})"
        case Arithmetic(op=op, left=a, right=b) | Compare(op=op, left=a, right=b):
            return f"({shape(a)} {op} {shape(b)})"
        case Logic(op=op, left=a, right=b):
            return f"({shape(a)} {op} {shape(b)})"
        case InList(operand=x, items=items, negated=negated):
            listed = ", ".join(item.text for item in items)
            return f"({shape(x)} {'not in' if negated else 'in'} [{listed}])"
        case Call(function=function, args=args):
            return f"{function}({', '.join(shape(arg) for arg in args)})"
        case _:
            return unparse(node)


@pytest.mark.parametrize(
    ("text", "grouped"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("-amount * 2", "((-amount) * 2)"),
        ("- -amount", "(-(-amount))"),
        ("amount % 7 + 1", "((amount % 7) + 1)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("amount > 1 + 2", "(amount > (1 + 2))"),
        ("is_night or new_payee and amount > 1", "(is_night or (new_payee and (amount > 1)))"),
        ("not is_night and new_payee", "((not is_night) and new_payee)"),
        ("not amount > 1", "(not (amount > 1))"),
        ("is_night and new_payee and is_night", "((is_night and new_payee) and is_night)"),
        ("amount not in [1, -2]", "(amount not in [1, -2])"),
        ("not amount in [1]", "(not (amount in [1]))"),
        ("max(amount, 1 + 2) >= 3", "(max(amount, (1 + 2)) >= 3)"),
    ],
)
def test_operators_bind_by_precedence(text: str, grouped: str) -> None:
    assert shape(parse(text, CATALOGUE)) == grouped


@pytest.mark.parametrize(
    ("text", "value"),
    [("50_000_00", 5_000_000.0), ("0.9", 0.9), ("1_000.25", 1000.25), ("007", 7.0)],
)
def test_number_literals(text: str, value: float) -> None:
    node = parse(text, CATALOGUE)
    assert isinstance(node, Number)
    assert node.value == value


def test_flags_are_booleans_and_other_features_numbers() -> None:
    assert parse("is_night", CATALOGUE).type is Type.BOOLEAN
    assert parse("amount", CATALOGUE).type is Type.NUMBER
    assert parse("is_night == 1", CATALOGUE).type is Type.BOOLEAN
    assert parse("between(amount, 1, 2)", CATALOGUE).type is Type.BOOLEAN


def test_features_of_lists_each_feature_once_in_order() -> None:
    node = parse("amount > payer_balance and (is_night or amount < 3)", CATALOGUE)
    assert features_of(node) == ("amount", "payer_balance", "is_night")


def test_spacing_and_redundant_parentheses_do_not_change_the_tree() -> None:
    assert parse("(amount>1)and(is_night)", CATALOGUE) == parse(
        "amount > 1 and is_night", CATALOGUE
    )
    assert unparse(parse("((amount))  +(1*2) > 3", CATALOGUE)) == "amount + 1 * 2 > 3"


@settings(max_examples=150, deadline=None)
@given(st.one_of(boolean(2), numeric(3)))
def test_canonical_text_parses_back_to_the_same_tree(text: str) -> None:
    node = parse(text, CATALOGUE)
    assert parse(unparse(node), CATALOGUE) == node


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("amout > 1", 1, "unknown feature 'amout'; did you mean 'amount'?"),
        ("amount > 1 and", 15, "expected a number, a feature, a function or '('"),
        ("amount >", 9, "found end of expression"),
        ("amount > 1 > 2", 12, "comparisons cannot be chained"),
        ("amount = 3", 8, "use '==' to compare"),
        ("amount > 1 && is_night", 12, "use 'and'"),
        ("!is_night", 1, "use 'not'"),
        ("amount ** 2 > 1", 8, "no power operator"),
        ("(amount > 1", 12, "expected ')' to close the '(' at column 1"),
        ("amount > 1)", 11, "unexpected ')' after a complete expression"),
        ("is_night + 1 > 0", 1, "'+' needs numbers but 'is_night' is a yes/no flag"),
        ("amount and is_night", 1, "'and' needs yes/no operands but 'amount' is a number"),
        ("not amount", 5, "'not' needs yes/no operands"),
        ("is_night > 0", 1, "'>' needs numbers"),
        ("50_000_ > 1", 1, "malformed number '50_000_'"),
        ("1.5.2 > 1", 1, "malformed number"),
        ("12abc > 1", 1, "malformed number '12abc'"),
        ("99999999999999999 > 1", 1, "too large"),
        ("min(amount) > 1", 1, "min() takes at least 2 arguments, got 1"),
        ("between(amount, 1) ", 1, "between() takes 3 arguments, got 2"),
        ("abs(is_night) > 1", 5, "'abs()' needs numbers"),
        ("amount in [amount]", 12, "a list after 'in' holds numbers only"),
        ("amount in 1", 11, "expected '[' to open the list after 'in'"),
        ("amount in [1, 2", 16, "expected ']' to close the list"),
        ("   ", 1, "the expression is empty"),
        ("amount 1", 8, "unexpected '1' after a complete expression"),
    ],
)
def test_errors_name_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text, CATALOGUE)
    assert caught.value.column == column
    assert words in caught.value.reason
    assert str(caught.value).startswith(f"column {column}: ")


def test_an_expression_error_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse("amout", CATALOGUE)


def test_a_condition_must_be_yes_or_no() -> None:
    with pytest.raises(ExpressionError, match="a condition must be yes/no") as caught:
        parse_condition("amount + 1", CATALOGUE)
    assert caught.value.column == 1
    assert parse_condition("is_night", CATALOGUE).type is Type.BOOLEAN


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_DEPTH + 1) + "amount" + ")" * (MAX_DEPTH + 1) + " > 1",
        "-" * (MAX_DEPTH + 1) + "amount > 1",
        "not " * (MAX_DEPTH + 1) + "is_night",
        " + ".join(["amount"] * (MAX_DEPTH + 2)) + " > 1",
        "(" * 5000 + "1",
    ],
)
def test_deep_nesting_is_refused_before_it_reaches_python_recursion(text: str) -> None:
    with pytest.raises(ExpressionError, match=f"nests deeper than {MAX_DEPTH} levels"):
        parse(text, CATALOGUE)


def test_nesting_within_the_limit_parses() -> None:
    depth = MAX_DEPTH // 2
    node = parse("(" * depth + "amount" + ")" * depth + " > 1", CATALOGUE)
    assert unparse(node) == "amount > 1"
