"""Online closures and bulk numpy evaluation give identical results on random expressions, and
a condition evaluated on the rows still standing gives those of its evaluation on every row."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.engine.rules.bulk import Array, evaluate_columns, rows_where
from fundwall.engine.rules.nodes import Node, Type
from fundwall.engine.rules.online import compile_online
from fundwall.engine.rules.parser import parse

from .strategies import CATALOGUE, FLAGS, INTEGERS, NUMBERS, boolean, integers, numeric, values

ROWS = 12


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


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, dict[str, list[float]], int]:
    """A chain of `and` over columns of many rows, most of them zero, so that the chain's
    first tests leave few rows standing and the later ones run on those rows alone."""
    tests = draw(st.lists(boolean(1), min_size=1, max_size=5))
    rows = draw(st.integers(1, 64))
    columns: dict[str, list[float]] = {}
    for name in NUMBERS + FLAGS:
        drawn = st.integers(0, 1) if name in FLAGS else integers if name in INTEGERS else values
        columns[name] = draw(st.lists(st.one_of(st.just(0), drawn), min_size=rows, max_size=rows))
    return " and ".join(f"({test})" for test in tests), columns, rows


@settings(max_examples=300, deadline=None)
@given(chains(), st.booleans())
def test_the_rows_where_a_chain_holds_are_those_of_its_whole_evaluation(
    case: tuple[str, dict[str, list[float]], int], shared_first: bool
) -> None:
    text, columns, rows = case
    node = parse(text, CATALOGUE)
    arrays = {
        name: np.array(column, np.int64 if name in INTEGERS else np.float64)
        for name, column in columns.items()
    }
    shared: dict[Node, Array] = {}
    if shared_first:  # another condition evaluated before fills the memo it shares
        evaluate_columns(node, arrays, rows, shared)
    expected = np.flatnonzero(evaluate_columns(node, arrays, rows))
    assert rows_where(node, arrays, rows, shared).tolist() == expected.tolist(), text
