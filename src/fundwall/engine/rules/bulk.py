"""Bulk execution: an expression evaluated over whole columns with numpy, no per-row Python.

Same semantics as the online closures (64-bit floats, division and remainder by zero give 0,
flags are true when non-zero); the parity is a property test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce

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

    Columns may be int64, float64 or bool: numbers combine as float64 inside each operation,
    without converting whole columns first. `shared` memoises sub-expressions across calls,
    so the conditions of a pack that repeat a test (e.g. `payer_class != 0`) compute it once.
    """
    with np.errstate(all="ignore"):
        result = _Evaluator(columns, {} if shared is None else shared).evaluate(node)
    if node.type is Type.NUMBER:
        result = result.astype(np.float64, copy=False)
    if result.ndim == 0:
        return result.repeat(rows)
    return result


class _Evaluator:
    def __init__(self, columns: Columns, memo: dict[Node, Array]) -> None:
        self._columns = columns
        self._memo = memo

    def evaluate(self, node: Node) -> Array:
        known = self._memo.get(node)
        if known is None:
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
                return np.not_equal(column, 0) if kind is Type.BOOLEAN else column
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
