"""Online closures and bulk numpy evaluation give identical results on random expressions."""

from __future__ import annotations

from functools import cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.engine.features.catalog import Kind
from fundwall.engine.rules.bulk import evaluate_columns
from fundwall.engine.rules.nodes import Type
from fundwall.engine.rules.online import compile_online
from fundwall.engine.rules.parser import parse

NUMBERS = ("amount", "payer_balance", "balance_share", "hour")
INTEGERS = ("amount", "hour", "is_night", "new_payee")
"""Passed to bulk evaluation as int64 columns, as the feature table stores them."""
FLAGS = ("is_night", "new_payee")
CATALOGUE = {name: Kind.COUNT for name in NUMBERS} | {name: Kind.FLAG for name in FLAGS}
ROWS = 12

literals = st.one_of(
    st.integers(0, 10**6).map(str),
    st.integers(0, 10**7).map(lambda n: f"{n:_}"),
    st.integers(0, 10**4).map(lambda n: f"{n // 100}.{n % 100:02d}"),
    st.sampled_from(["0", "1", "0.5"]),
)


@cache
def numeric(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NUMBERS), literals)
    if depth == 0:
        return leaves
    inner = numeric(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from("+-*/%"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda a: f"-{a}"),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(inner, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        inner.map(lambda a: f"abs({a})"),
    )


@cache
def boolean(depth: int) -> st.SearchStrategy[str]:
    comparisons = st.tuples(
        numeric(2), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numeric(2)
    ).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    leaves = st.one_of(
        st.sampled_from(FLAGS),
        st.sampled_from(["true", "false"]),
        comparisons,
        st.tuples(st.sampled_from(FLAGS), st.sampled_from(["==", "!="]), st.sampled_from("01")).map(
            " ".join
        ),
        st.tuples(numeric(1), st.lists(literals, min_size=1, max_size=4), st.booleans()).map(
            lambda t: f"{t[0]} {'not in' if t[2] else 'in'} [{', '.join(t[1])}]"
        ),
        st.tuples(numeric(1), numeric(0), numeric(0)).map(lambda t: f"between({', '.join(t)})"),
    )
    if depth == 0:
        return leaves
    inner = boolean(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda a: f"not {a}"),
    )


integers = st.one_of(st.sampled_from([0, 0, 1, -1, 2]), st.integers(-(10**12), 10**12))
values = st.one_of(integers, st.integers(-(10**6), 10**6).map(lambda n: n / 100))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, dict[str, list[float]]]:
    text = draw(st.one_of(boolean(2), numeric(3)))
    columns: dict[str, list[float]] = {}
    for name in NUMBERS + FLAGS:
        drawn = integers if name in INTEGERS else values
        if name in FLAGS:
            drawn = st.integers(0, 1)
        columns[name] = draw(st.lists(drawn, min_size=ROWS, max_size=ROWS))
    return text, columns


@settings(max_examples=300, deadline=None)
@given(cases())
def test_online_and_bulk_agree_on_random_expressions(
    case: tuple[str, dict[str, list[float]]],
) -> None:
    text, columns = case
    node = parse(text, CATALOGUE)
    names = tuple(columns)
    evaluator = compile_online(node, {name: i for i, name in enumerate(names)})
    online = [evaluator([float(columns[name][row]) for name in names]) for row in range(ROWS)]
    arrays = {
        name: np.array(column, np.int64 if name in INTEGERS else np.float64)
        for name, column in columns.items()
    }
    bulk = evaluate_columns(node, arrays, ROWS)
    expected = bool if node.type is Type.BOOLEAN else float
    assert bulk.dtype == (np.bool_ if expected is bool else np.float64)
    assert bulk.shape == (ROWS,)
    assert all(type(value) is expected for value in online)
    assert bulk.tolist() == online, text
