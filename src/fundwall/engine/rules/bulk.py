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

Array = npt.NDArray[np.float64] | npt.NDArray[np.bool_]
Columns = Mapping[str, npt.NDArray[np.float64]]

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


_ARITHMETIC: dict[str, Callable[[Array, Array], Array]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _guarded(np.divide),
    "%": _guarded(np.remainder),
}


def evaluate_columns(node: Node, columns: Columns, rows: int) -> Array:
    """Evaluate `node` over float64 feature columns of `rows` rows; returns one value a row."""
    with np.errstate(all="ignore"):
        result = _evaluate(node, columns)
    if result.ndim == 0:
        return result.repeat(rows)
    return result


def _evaluate(node: Node, columns: Columns) -> Array:
    match node:
        case Number(value=value):
            return np.asarray(value, np.float64)
        case Boolean(value=flag):
            return np.asarray(flag, np.bool_)
        case Feature(name=name, type=kind):
            column = columns[name]
            return column != 0.0 if kind is Type.BOOLEAN else column
        case Negate(operand=operand):
            return np.negative(_evaluate(operand, columns))
        case Not(operand=operand):
            return np.logical_not(_evaluate(operand, columns))
        case Arithmetic(op=op, left=left, right=right):
            return _ARITHMETIC[op](_evaluate(left, columns), _evaluate(right, columns))
        case Compare(op=op, left=left, right=right):
            return _COMPARE[op](_evaluate(left, columns), _evaluate(right, columns))
        case Logic(op=op, left=left, right=right):
            combine = np.logical_and if op == "and" else np.logical_or
            return combine(_evaluate(left, columns), _evaluate(right, columns))
        case InList(operand=operand, items=items, negated=negated):
            members = np.array([item.value for item in items], np.float64)
            found = np.isin(_evaluate(operand, columns), members)
            return np.logical_not(found) if negated else found
        case Call(function=function, args=args):
            values = [_evaluate(arg, columns) for arg in args]
            return _call(function, values)


def _call(function: str, values: list[Array]) -> Array:
    if function == "abs":
        return np.abs(values[0])
    if function == "between":
        x, low, high = values
        return np.logical_and(np.less_equal(low, x), np.less_equal(x, high))
    chooser = np.minimum if function == "min" else np.maximum
    return reduce(chooser, values)
