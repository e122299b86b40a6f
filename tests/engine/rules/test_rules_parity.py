"""Online closures and bulk numpy evaluation give identical results on random expressions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.engine.rules.bulk import evaluate_columns
from fundwall.engine.rules.nodes import Type
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
