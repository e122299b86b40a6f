"""The typed syntax tree of a rule expression.

Two types only: numbers (evaluated as 64-bit floats) and booleans. Flag features are
booleans. Columns are kept for messages but take no part in equality, so two expressions
that differ only in spacing compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Type(Enum):
    NUMBER = "number"
    BOOLEAN = "yes/no"


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    text: str = field(compare=False)
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.NUMBER


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOLEAN


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    type: Type
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.NUMBER


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """`+ - * / %`; division and remainder by zero give 0."""

    op: str
    left: Node
    right: Node
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.NUMBER


@dataclass(frozen=True, slots=True)
class Compare:
    """`< <= > >= == !=`; `==` and `!=` also compare a flag with 0 or 1."""

    op: str
    left: Node
    right: Node
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOLEAN


@dataclass(frozen=True, slots=True)
class Logic:
    """`and` / `or`, short-circuit."""

    op: str
    left: Node
    right: Node
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOLEAN


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOLEAN


@dataclass(frozen=True, slots=True)
class InList:
    """`x in [a, b, …]` and `x not in [a, b, …]` over number literals."""

    operand: Node
    items: tuple[Number, ...]
    negated: bool
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOLEAN


@dataclass(frozen=True, slots=True)
class Call:
    """One of the whitelisted functions in FUNCTIONS."""

    function: str
    args: tuple[Node, ...]
    column: int = field(default=0, compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOLEAN if self.function == "between" else Type.NUMBER


Node = Number | Boolean | Feature | Negate | Arithmetic | Compare | Logic | Not | InList | Call

FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "between": (3, 3),
}
"""The only callable names, with their (least, most) argument counts; None means no limit."""


def children(node: Node) -> tuple[Node, ...]:
    match node:
        case Negate(operand=operand) | Not(operand=operand) | InList(operand=operand):
            return (operand,)
        case Arithmetic(left=left, right=right) | Compare(left=left, right=right):
            return (left, right)
        case Logic(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return args
        case _:
            return ()


def features_of(node: Node) -> tuple[str, ...]:
    """Feature names the expression reads, in first-use order, without repeats."""
    seen: dict[str, None] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Feature):
            seen.setdefault(current.name)
        stack.extend(reversed(children(current)))
    return tuple(seen)


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}


def unparse(node: Node) -> str:
    """Canonical text of an expression: single spaces, only the parentheses it needs."""
    return _unparse(node, 0)


def _unparse(node: Node, outer: int) -> str:
    match node:
        case Number(text=text):
            return text
        case Boolean(value=value):
            return "true" if value else "false"
        case Feature(name=name):
            return name
        case Negate(operand=operand):
            return f"-{_unparse(operand, 7)}"
        case Call(function=function, args=args):
            return f"{function}({', '.join(_unparse(arg, 0) for arg in args)})"
        case Arithmetic(op=op, left=left, right=right):
            level = _PRECEDENCE[op]
            text = f"{_unparse(left, level)} {op} {_unparse(right, level + 1)}"
        case Compare(op=op, left=left, right=right):
            level = _PRECEDENCE["compare"]
            text = f"{_unparse(left, level + 1)} {op} {_unparse(right, level + 1)}"
        case Logic(op=op, left=left, right=right):
            level = _PRECEDENCE[op]
            text = f"{_unparse(left, level)} {op} {_unparse(right, level + 1)}"
        case Not(operand=operand):
            level = _PRECEDENCE["not"]
            text = f"not {_unparse(operand, level)}"
        case InList(operand=operand, items=items, negated=negated):
            level = _PRECEDENCE["compare"]
            keyword = "not in" if negated else "in"
            listed = ", ".join(item.text for item in items)
            text = f"{_unparse(operand, level + 1)} {keyword} [{listed}]"
    return f"({text})" if level < outer else text
