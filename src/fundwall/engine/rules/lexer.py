"""Tokenizer of the rule expression language.

Hand-written so that nothing of the user's text ever reaches Python's own parser. Columns
are 1-based positions within the expression text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from fundwall.engine.rules.errors import ExpressionError

MAX_EXACT_INTEGER = 2**53
"""Numbers are evaluated as 64-bit floats; integers beyond this would silently round."""

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})


class TokenKind(Enum):
    NUMBER = "number"
    NAME = "name"
    KEYWORD = "keyword"
    OPERATOR = "operator"
    END = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    column: int

    def describe(self) -> str:
        return "end of expression" if self.kind is TokenKind.END else f"'{self.text}'"


_NUMBER = re.compile(r"[0-9]+(?:_[0-9]+)*(?:\.[0-9]+(?:_[0-9]+)*)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",")
_HINTS = {
    "=": "use '==' to compare",
    "!": "use 'not' to negate",
    "&": "use 'and'",
    "|": "use 'or'",
    ".": "attribute access is not part of the language",
    "'": "the language has no strings",
    '"': "the language has no strings",
    "*": "there is no power operator",
}


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; the last token is always END."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in " \t\r\n":
            position += 1
            continue
        column = position + 1
        if number := _NUMBER.match(text, position):
            position = number.end()
            _check_number_end(text, position, number.group(), column)
            tokens.append(Token(TokenKind.NUMBER, number.group(), column))
            continue
        if name := _NAME.match(text, position):
            word = name.group()
            kind = TokenKind.KEYWORD if word in KEYWORDS else TokenKind.NAME
            tokens.append(Token(kind, word, column))
            position = name.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
        if operator is None or text.startswith("**", position):
            hint = _HINTS.get(char)
            suffix = f": {hint}" if hint else ""
            raise ExpressionError(f"unexpected character '{char}'{suffix}", column=column)
        tokens.append(Token(TokenKind.OPERATOR, operator, column))
        position += len(operator)
    tokens.append(Token(TokenKind.END, "", len(text) + 1))
    return tokens


def _check_number_end(text: str, end: int, digits: str, column: int) -> None:
    if end < len(text) and (text[end].isalnum() or text[end] in "_."):
        tail = _NAME.match(text, end)
        rest = tail.group() if tail else text[end]
        raise ExpressionError(f"malformed number '{digits}{rest}'", column=column)
    if "." not in digits and int(digits.replace("_", "")) > MAX_EXACT_INTEGER:
        raise ExpressionError(f"number {digits} is too large (at most 2**53)", column=column)


def number_value(text: str) -> float:
    """The value of a NUMBER token; the tokenizer has already checked its shape."""
    return float(text.replace("_", ""))
