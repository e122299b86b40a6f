"""Online execution: an expression compiled to a tree of Python closures.

A compiled expression reads a feature vector (a sequence of floats in the pack's slot order)
and returns a number or a bool. Constant sub-expressions are folded at compile time and the
common shapes (`feature op constant`) get closures of their own, because a rule pack is
evaluated for every transfer before it settles. Division and remainder by zero give 0.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence

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

Value = float | bool
Vector = Sequence[float]
Evaluator = Callable[[Vector], Value]

_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

_FEATURE_VS_CONSTANT: dict[str, Callable[[int, Value], Evaluator]] = {
    "<": lambda i, c: lambda v: v[i] < c,
    "<=": lambda i, c: lambda v: v[i] <= c,
    ">": lambda i, c: lambda v: v[i] > c,
    ">=": lambda i, c: lambda v: v[i] >= c,
    "==": lambda i, c: lambda v: v[i] == c,
    "!=": lambda i, c: lambda v: v[i] != c,
}

_GENERIC_COMPARE: dict[str, Callable[[Evaluator, Evaluator], Evaluator]] = {
    "<": lambda a, b: lambda v: a(v) < b(v),
    "<=": lambda a, b: lambda v: a(v) <= b(v),
    ">": lambda a, b: lambda v: a(v) > b(v),
    ">=": lambda a, b: lambda v: a(v) >= b(v),
    "==": lambda a, b: lambda v: a(v) == b(v),
    "!=": lambda a, b: lambda v: a(v) != b(v),
}


def safe_divide(a: Value, b: Value) -> float:
    """`a / b`, and 0 when `b` is 0: a rule must never fail at decision time."""
    return a / b if b != 0 else 0.0


def safe_remainder(a: Value, b: Value) -> float:
    """`a % b` with Python's sign rule, and 0 when `b` is 0."""
    return a % b if b != 0 else 0.0


_ARITHMETIC: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": safe_divide,
    "%": safe_remainder,
}


def compile_online(node: Node, slots: Mapping[str, int]) -> Evaluator:
    """Compile `node`; `slots` gives each feature's index in the vector."""
    return _Compiler(slots).compile(node)[0]


class _Compiler:
    def __init__(self, slots: Mapping[str, int]) -> None:
        self._slots = slots

    def compile(self, node: Node) -> tuple[Evaluator, Value | None]:
        """The evaluator and, when the node reads no feature, its constant value."""
        evaluator = self._build(node)
        if not self._constant(node):
            return evaluator, None
        value = evaluator(())
        return (lambda v: value), value

    def _constant(self, node: Node) -> bool:
        match node:
            case Feature():
                return False
            case Number() | Boolean():
                return True
            case Negate(operand=x) | Not(operand=x) | InList(operand=x):
                return self._constant(x)
            case Arithmetic(left=a, right=b) | Compare(left=a, right=b) | Logic(left=a, right=b):
                return self._constant(a) and self._constant(b)
            case Call(args=args):
                return all(self._constant(arg) for arg in args)

    def _build(self, node: Node) -> Evaluator:
        match node:
            case Number(value=value):
                return lambda v: value
            case Boolean(value=flag):
                return lambda v: flag
            case Feature(name=name, type=kind):
                i = self._slots[name]
                if kind is Type.BOOLEAN:
                    return lambda v: v[i] != 0.0
                return lambda v: v[i]
            case Negate(operand=operand):
                inner = self.compile(operand)[0]
                return lambda v: -inner(v)
            case Not(operand=operand):
                inner = self.compile(operand)[0]
                return lambda v: not inner(v)
            case Arithmetic(op=op, left=left, right=right):
                return self._arithmetic(op, left, right)
            case Compare(op=op, left=left, right=right):
                return self._compare(op, left, right)
            case Logic(op=op, left=left, right=right):
                return self._logic(op, left, right)
            case InList(operand=operand, items=items, negated=negated):
                inner = self.compile(operand)[0]
                members = frozenset(item.value for item in items)
                if negated:
                    return lambda v: inner(v) not in members
                return lambda v: inner(v) in members
            case Call(function=function, args=args):
                return self._call(function, [self.compile(arg)[0] for arg in args])

    def _arithmetic(self, op: str, left: Node, right: Node) -> Evaluator:
        a, _ = self.compile(left)
        b, divisor = self.compile(right)
        if op == "/" and divisor:
            return lambda v: a(v) / divisor
        function = _ARITHMETIC[op]
        return lambda v: function(a(v), b(v))

    def _compare(self, op: str, left: Node, right: Node) -> Evaluator:
        a, a_constant = self.compile(left)
        b, b_constant = self.compile(right)
        if isinstance(left, Feature) and left.type is Type.NUMBER and b_constant is not None:
            return _FEATURE_VS_CONSTANT[op](self._slots[left.name], b_constant)
        if isinstance(right, Feature) and right.type is Type.NUMBER and a_constant is not None:
            return _FEATURE_VS_CONSTANT[_FLIPPED[op]](self._slots[right.name], a_constant)
        return _GENERIC_COMPARE[op](a, b)

    def _logic(self, op: str, left: Node, right: Node) -> Evaluator:
        # A chain `a and b and c` becomes one closure over its terms rather than a nest of
        # two-term closures: one call per term instead of one per level, on every transfer.
        decisive = op == "or"
        terms: list[Evaluator] = []
        for term in _chain(op, left) + _chain(op, right):
            evaluator, constant = self.compile(term)
            if constant is None:
                terms.append(evaluator)
            elif bool(constant) is decisive:
                return lambda v: decisive
        if not terms:
            return lambda v: not decisive
        return _all(terms) if op == "and" else _any(terms)

    def _call(self, function: str, args: list[Evaluator]) -> Evaluator:
        if function == "abs":
            (x,) = args
            return lambda v: abs(x(v))
        if function == "between":
            x, low, high = args
            return lambda v: low(v) <= x(v) <= high(v)
        chooser = min if function == "min" else max
        return lambda v: chooser([arg(v) for arg in args])


def _chain(op: str, node: Node) -> list[Node]:
    """The terms of a chain of one logical operator, left to right."""
    if isinstance(node, Logic) and node.op == op:
        return _chain(op, node.left) + _chain(op, node.right)
    return [node]


def _all(terms: list[Evaluator]) -> Evaluator:
    if len(terms) == 1:
        return terms[0]
    if len(terms) == 2:
        a, b = terms
        return lambda v: a(v) and b(v)
    a, b, c = terms[:3]
    if len(terms) == 3:
        return lambda v: a(v) and b(v) and c(v)
    rest = _all(terms[3:])
    return lambda v: a(v) and b(v) and c(v) and rest(v)


def _any(terms: list[Evaluator]) -> Evaluator:
    if len(terms) == 1:
        return terms[0]
    if len(terms) == 2:
        a, b = terms
        return lambda v: a(v) or b(v)
    a, b, c = terms[:3]
    if len(terms) == 3:
        return lambda v: a(v) or b(v) or c(v)
    rest = _any(terms[3:])
    return lambda v: a(v) or b(v) or c(v) or rest(v)
