"""Bulk execution: an expression evaluated over whole columns with numpy, no per-row Python.

Same semantics as the online closures (64-bit floats, division and remainder by zero give 0,
flags are true when non-zero); the parity is a property test.

A rule's condition is mostly a chain of `and` whose first tests leave few rows standing
(`rows_where`): once fewer than one row in `SPARSE` is left, the tests after are evaluated on
those rows alone, their columns gathered, instead of on every row. Every operation works row
by row, so a row's value does not depend on which other rows are evaluated beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import reduce
from typing import Final

import numpy as np
import numpy.typing as npt

from fundwall.engine.rules.nodes import (
    Arithmetic,
    Boolean,
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
)

Array = npt.NDArray[np.float64] | npt.NDArray[np.int64] | npt.NDArray[np.bool_]
Columns = Mapping[str, Array]
Rows = npt.NDArray[np.intp]

SPARSE: Final = 8
"""A condition's remaining tests run on the rows still standing once fewer than one row in
SPARSE is: below that, gathering their columns costs less than testing every row."""

_COMPARE: dict[str, Callable[[Array, Array], Array]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def _guarded(
    function: Callable[..., npt.NDArray[np.float64]],
) -> Callable[[Array, Array], Array]:
    def apply(a: Array, b: Array) -> Array:
        left, right = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
        out = np.zeros(left.shape, np.float64)
        function(left, right, out=out, where=right != 0)
        return out

    return apply


def _as_float(function: np.ufunc) -> Callable[[Array, Array], Array]:
    def apply(a: Array, b: Array) -> Array:
        result: Array = function(a, b, dtype=np.float64)
        return result

    return apply


_ARITHMETIC: dict[str, Callable[[Array, Array], Array]] = {
    "+": _as_float(np.add),
    "-": _as_float(np.subtract),
    "*": _as_float(np.multiply),
    "/": _guarded(np.divide),
    "%": _guarded(np.remainder),
}


def evaluate_columns(
    node: Node, columns: Columns, rows: int, shared: dict[Node, Array] | None = None
) -> Array:
    """Evaluate `node` over feature columns of `rows` rows; returns one value a row.

    Columns may be int64, float64 or bool: a column read as a number is converted to float64
    once (numpy's operations on an int64 and a float64 array convert inside every operation,
    at several times the cost of the operation itself). `shared` memoises sub-expressions
    across calls, so the conditions of a pack that repeat a test (e.g. `payer_class != 0`)
    compute it once, and each column is converted once.
    """
    with np.errstate(all="ignore"):
        result = _Evaluator(columns, {} if shared is None else shared).evaluate(node)
    if node.type is Type.NUMBER:
        result = result.astype(np.float64, copy=False)
    if result.ndim == 0:
        return result.repeat(rows)
    return result


def rows_where(node: Node, columns: Columns, rows: int, shared: dict[Node, Array]) -> Rows:
    """The rows (ascending) of `rows` where the yes/no expression `node` holds.

    The tests of a chain of `and` are evaluated one after the other: on every row (memoised
    in `shared`, as `evaluate_columns` does) while at least one row in `SPARSE` still holds,
    then on the rows that still do, each test's columns gathered at those rows (a test that
    `shared` already holds for every row is read from there).
    """
    tests = list(_conjuncts(node))
    held = evaluate_columns(tests[0], columns, rows, shared)
    k = 1
    while k < len(tests) and np.count_nonzero(held) * SPARSE >= rows:
        held = np.logical_and(held, evaluate_columns(tests[k], columns, rows, shared))
        k += 1
    standing: Rows = np.flatnonzero(held)
    for test in tests[k:]:
        if standing.size == 0:
            break
        with np.errstate(all="ignore"):
            result = _Evaluator(_Gathered(columns, standing), {}, shared, standing).evaluate(test)
        standing = standing[np.broadcast_to(result, standing.shape)]
    return standing


def _conjuncts(node: Node) -> Iterator[Node]:
    """The tests of a chain of `and`, left to right (the node itself when it is no `and`)."""
    if isinstance(node, Logic) and node.op == "and":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


class _Gathered(Mapping[str, Array]):
    """Columns taken at some rows, each gathered when first read."""

    def __init__(self, columns: Columns, rows: Rows) -> None:
        self._columns = columns
        self._rows = rows
        self._taken: dict[str, Array] = {}

    def __getitem__(self, name: str) -> Array:
        taken = self._taken.get(name)
        if taken is None:
            taken = self._taken[name] = self._columns[name][self._rows]
        return taken

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


class _Evaluator:
    """Evaluates nodes over `columns`; over gathered columns, `whole` holds what was already
    evaluated on every row, read at `rows`."""

    def __init__(
        self,
        columns: Columns,
        memo: dict[Node, Array],
        whole: dict[Node, Array] | None = None,
        rows: Rows | None = None,
    ) -> None:
        self._columns = columns
        self._memo = memo
        self._whole = whole
        self._rows = rows

    def evaluate(self, node: Node) -> Array:
        known = self._memo.get(node)
        if known is None:
            if self._whole is not None and self._rows is not None:
                everywhere = self._whole.get(node)
                if everywhere is not None and everywhere.ndim:
                    known = self._memo[node] = everywhere[self._rows]
                    return known
            known = self._memo[node] = self._compute(node)
        return known

    def _compute(self, node: Node) -> Array:
        match node:
            case Number(value=value):
                return np.asarray(value, np.float64)
            case Boolean(value=flag):
                return np.asarray(flag, np.bool_)
            case Feature(name=name, type=kind):
                column = self._columns[name]
                if kind is Type.BOOLEAN:
                    return np.not_equal(column, 0)
                return np.asarray(column, np.float64)
            case Negate(operand=operand):
                return np.negative(self.evaluate(operand), dtype=np.float64)
            case Not(operand=operand):
                return np.logical_not(self.evaluate(operand))
            case Arithmetic(op=op, left=left, right=right):
                return _ARITHMETIC[op](self.evaluate(left), self.evaluate(right))
            case Compare(op=op, left=left, right=right):
                return _COMPARE[op](self.evaluate(left), self.evaluate(right))
            case Logic(op=op, left=left, right=right):
                combine = np.logical_and if op == "and" else np.logical_or
                return combine(self.evaluate(left), self.evaluate(right))
            case InList(operand=operand, items=items, negated=negated):
                members = np.array([item.value for item in items], np.float64)
                found = np.isin(self.evaluate(operand), members)
                return np.logical_not(found) if negated else found
            case Call(function=function, args=args):
                return _call(function, [self.evaluate(arg) for arg in args])


def _call(function: str, values: list[Array]) -> Array:
    if function == "abs":
        return np.abs(values[0], dtype=np.float64)
    if function == "between":
        x, low, high = values
        return np.logical_and(np.less_equal(low, x), np.less_equal(x, high))
    chooser = _as_float(np.minimum if function == "min" else np.maximum)
    return reduce(chooser, values)
