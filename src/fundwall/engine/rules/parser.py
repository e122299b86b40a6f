"""Recursive-descent parser of rule expressions into a typed syntax tree.

Grammar, loosest binding first:

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum [ compare-op sum | ["not"] "in" "[" number ("," number)* "]" ]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "%") unary)*
    unary      := "-" unary | primary
    primary    := number | "true" | "false" | feature | function "(" args ")" | "(" expression ")"

Names are looked up in the feature catalogue; the only calls are the whitelisted FUNCTIONS.
Every mistake raises ExpressionError with the 1-based column where it was found.
"""

from __future__ import annotations

from difflib import get_close_matches

from fundwall.engine.rules.errors import ExpressionError
from fundwall.engine.rules.lexer import Token, TokenKind, number_value, tokenize
from fundwall.engine.rules.nodes import (
    FUNCTIONS,
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
    children,
)
from fundwall.engine.rules.vocabulary import Catalogue, is_flag

MAX_DEPTH = 48
"""Deeper trees are rejected: no real rule needs them and evaluation recurses once per level."""

_COMPARE = frozenset({"<", "<=", ">", ">=", "==", "!="})


def parse_condition(text: str, catalogue: Catalogue) -> Node:
    """Parse a rule's `when`: the expression must be yes/no."""
    node = parse(text, catalogue)
    if node.type is not Type.BOOLEAN:
        raise ExpressionError(
            "a condition must be yes/no (a comparison, a flag, and/or/not), not a number",
            column=node.column,
        )
    return node


def parse(text: str, catalogue: Catalogue) -> Node:
    """Parse any expression, number or yes/no."""
    parser = _Parser(tokenize(text), catalogue)
    if parser.peek().kind is TokenKind.END:
        raise ExpressionError("the expression is empty", column=1)
    node = parser.expression()
    rest = parser.peek()
    if rest.kind is not TokenKind.END:
        raise ExpressionError(
            f"unexpected {rest.describe()} after a complete expression", column=rest.column
        )
    _check_depth(node)
    return node


class _Parser:
    def __init__(self, tokens: list[Token], catalogue: Catalogue) -> None:
        self._tokens = tokens
        self._position = 0
        self._catalogue = catalogue
        self._nesting = 0

    def peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._position + ahead, len(self._tokens) - 1)]

    def _advance(self) -> Token:
        token = self.peek()
        self._position += 1
        return token

    def _at(self, kind: TokenKind, *texts: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind is kind and token.text in texts

    def _expect(self, text: str, after: str) -> Token:
        token = self.peek()
        if token.kind is not TokenKind.OPERATOR or token.text != text:
            raise ExpressionError(
                f"expected '{text}' {after}, found {token.describe()}", column=token.column
            )
        return self._advance()

    def expression(self) -> Node:
        return self._or()

    def _nest(self, token: Token) -> None:
        # Parentheses, calls and prefix operators recurse; bound them before Python's stack is.
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise ExpressionError(
                f"the expression nests deeper than {MAX_DEPTH} levels", column=token.column
            )

    def _or(self) -> Node:
        node = self._and()
        while self._at(TokenKind.KEYWORD, "or"):
            self._advance()
            right = self._and()
            node = Logic("or", _boolean(node, "or"), _boolean(right, "or"), node.column)
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._at(TokenKind.KEYWORD, "and"):
            self._advance()
            right = self._not()
            node = Logic("and", _boolean(node, "and"), _boolean(right, "and"), node.column)
        return node

    def _not(self) -> Node:
        if self._at(TokenKind.KEYWORD, "not"):
            token = self._advance()
            self._nest(token)
            node = Not(_boolean(self._not(), "not"), token.column)
            self._nesting -= 1
            return node
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._sum()
        token = self.peek()
        if token.kind is TokenKind.OPERATOR and token.text in _COMPARE:
            self._advance()
            right = self._sum()
            node: Node = _compare(token, left, right)
        elif self._at(TokenKind.KEYWORD, "in") or (
            self._at(TokenKind.KEYWORD, "not") and self._at(TokenKind.KEYWORD, "in", ahead=1)
        ):
            node = self._membership(left)
        else:
            return left
        follow = self.peek()
        if (follow.kind is TokenKind.OPERATOR and follow.text in _COMPARE) or self._at(
            TokenKind.KEYWORD, "in"
        ):
            raise ExpressionError(
                f"comparisons cannot be chained; join them with 'and' (found {follow.describe()})",
                column=follow.column,
            )
        return node

    def _membership(self, operand: Node) -> Node:
        negated = self._advance().text == "not"
        if negated:
            self._advance()
        _number(operand, "in")
        self._expect("[", "to open the list after 'in'")
        items = [self._list_item()]
        while self._at(TokenKind.OPERATOR, ","):
            self._advance()
            items.append(self._list_item())
        self._expect("]", "to close the list")
        return InList(operand, tuple(items), negated, operand.column)

    def _list_item(self) -> Number:
        sign = self._advance() if self._at(TokenKind.OPERATOR, "-") else None
        token = self._advance()
        if token.kind is not TokenKind.NUMBER:
            raise ExpressionError(
                f"a list after 'in' holds numbers only, found {token.describe()}",
                column=token.column,
            )
        if sign is None:
            return Number(number_value(token.text), token.text, token.column)
        return Number(-number_value(token.text), f"-{token.text}", sign.column)

    def _sum(self) -> Node:
        node = self._product()
        while self._at(TokenKind.OPERATOR, "+", "-"):
            token = self._advance()
            right = self._product()
            node = _arithmetic(token, node, right)
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self._at(TokenKind.OPERATOR, "*", "/", "%"):
            token = self._advance()
            right = self._unary()
            node = _arithmetic(token, node, right)
        return node

    def _unary(self) -> Node:
        if self._at(TokenKind.OPERATOR, "-"):
            token = self._advance()
            self._nest(token)
            node = Negate(_number(self._unary(), "-"), token.column)
            self._nesting -= 1
            return node
        return self._primary()

    def _primary(self) -> Node:
        token = self._advance()
        if token.kind is TokenKind.NUMBER:
            return Number(number_value(token.text), token.text, token.column)
        if token.kind is TokenKind.KEYWORD and token.text in ("true", "false"):
            return Boolean(token.text == "true", token.column)
        if token.kind is TokenKind.NAME:
            if self._at(TokenKind.OPERATOR, "("):
                return self._call(token)
            return self._feature(token)
        if token.kind is TokenKind.OPERATOR and token.text == "(":
            self._nest(token)
            node = self._or()
            self._expect(")", f"to close the '(' at column {token.column}")
            self._nesting -= 1
            return node
        raise ExpressionError(
            f"expected a number, a feature, a function or '(', found {token.describe()}",
            column=token.column,
        )

    def _feature(self, token: Token) -> Feature:
        kind_of = self._catalogue.get(token.text)
        if kind_of is None:
            close = get_close_matches(token.text, list(self._catalogue), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ExpressionError(f"unknown feature '{token.text}'{hint}", column=token.column)
        kind = Type.BOOLEAN if is_flag(kind_of) else Type.NUMBER
        return Feature(token.text, kind, token.column)

    def _call(self, name: Token) -> Call:
        arity = FUNCTIONS.get(name.text)
        if arity is None:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"unknown function '{name.text}' (the functions are {allowed})", column=name.column
            )
        self._nest(self._advance())
        args = [] if self._at(TokenKind.OPERATOR, ")") else [self._or()]
        while self._at(TokenKind.OPERATOR, ","):
            self._advance()
            args.append(self._or())
        self._expect(")", f"to close the arguments of {name.text}()")
        self._nesting -= 1
        least, most = arity
        if len(args) < least or (most is not None and len(args) > most):
            wanted = str(least) if least == most else f"at least {least}"
            raise ExpressionError(
                f"{name.text}() takes {wanted} arguments, got {len(args)}", column=name.column
            )
        for arg in args:
            _number(arg, f"{name.text}()")
        return Call(name.text, tuple(args), name.column)


def _describe(node: Node) -> str:
    if isinstance(node, Feature):
        return (
            f"'{node.name}' is a yes/no flag"
            if node.type is Type.BOOLEAN
            else f"'{node.name}' is a number"
        )
    return "this is a yes/no value" if node.type is Type.BOOLEAN else "this is a number"


def _boolean(node: Node, operator: str) -> Node:
    if node.type is not Type.BOOLEAN:
        raise ExpressionError(
            f"'{operator}' needs yes/no operands but {_describe(node)}; compare it, e.g. '> 0'",
            column=node.column,
        )
    return node


def _number(node: Node, operator: str) -> Node:
    if node.type is not Type.NUMBER:
        raise ExpressionError(
            f"'{operator}' needs numbers but {_describe(node)}", column=node.column
        )
    return node


def _arithmetic(token: Token, left: Node, right: Node) -> Arithmetic:
    return Arithmetic(
        token.text, _number(left, token.text), _number(right, token.text), left.column
    )


def _compare(token: Token, left: Node, right: Node) -> Compare:
    if token.text not in ("==", "!="):
        return Compare(
            token.text, _number(left, token.text), _number(right, token.text), left.column
        )
    return Compare(token.text, left, right, left.column)


def _check_depth(root: Node) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression nests deeper than {MAX_DEPTH} levels", column=node.column
            )
        stack.extend((child, depth + 1) for child in children(node))
