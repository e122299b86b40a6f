"""Reason templates: `{feature}` placeholders rendered in the analyst's language.

A template is parsed once, when the pack loads, by a small parser of its own (never
`str.format`, which would let a template reach attributes). Values read with their units:
money as ¥1,234.56, ratios as percentages (a ratio without history, -1, as none), hours,
days and years with their unit (-1 as none or unknown), the hour as a clock time, an account
class by its name. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money
from fundwall.engine.features.catalog import Kind
from fundwall.engine.languages import LANGUAGES as LANGUAGES
from fundwall.engine.languages import Language as Language
from fundwall.engine.rules.vocabulary import Catalogue

_PIECE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_CLASS_NAMES = {
    0: ("对公账户", "a corporate account"),
    1: ("Ⅰ类户", "class I"),
    2: ("Ⅱ类户", "class II"),
    3: ("Ⅲ类户", "class III"),
}
_UNKNOWN = {"zh": "未知", "en": "unknown"}
_NONE = {"zh": "无", "en": "none"}


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed reason: literal text and feature names, in order."""

    text: str
    pieces: tuple[str | Placeholder, ...]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pieces if isinstance(p, Placeholder))

    def render(self, values: Mapping[str, float], kinds: Catalogue, language: Language) -> str:
        return "".join(
            piece
            if isinstance(piece, str)
            else format_value(values[piece.name], kinds[piece.name], language)
            for piece in self.pieces
        )


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str


def parse_template(text: str, catalogue: Catalogue) -> Template:
    """Parse `text`; raises InvalidInput naming the first bad placeholder or stray brace."""
    pieces: list[str | Placeholder] = []
    literal: list[str] = []
    position = 0
    for match in _PIECE.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match.group()
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        name = match.group(1)
        if name is None:
            raise InvalidInput(
                f"stray '{token}' at character {match.start() + 1}: a placeholder is "
                "{feature_name}; write '{{' or '}}' for a literal brace"
            )
        if name not in catalogue:
            raise InvalidInput(f"unknown feature '{{{name}}}' in the reason")
        pieces.extend(_flush(literal))
        pieces.append(Placeholder(name))
    literal.append(text[position:])
    pieces.extend(_flush(literal))
    return Template(text, tuple(pieces))


def _flush(literal: list[str]) -> list[str]:
    joined = "".join(literal)
    literal.clear()
    return [joined] if joined else []


def format_money(fen: int) -> str:
    """¥1,234.56 for 123456 fen (the domain's own formatting)."""
    return str(Money(int(fen)))


def format_value(value: float, kind: Kind, language: Language) -> str:
    """A feature value as an analyst reads it."""
    zh = language == "zh"
    match kind:
        case Kind.MONEY:
            return format_money(round(value))
        case Kind.RATIO:
            if value < 0:
                return _NONE[language]
            percent = f"{value * 100:.1f}".removesuffix(".0")
            return f"{percent}%"
        case Kind.FLAG:
            if zh:
                return "是" if value else "否"
            return "yes" if value else "no"
        case Kind.HOUR:
            return f"{round(value):02d}:00"
        case Kind.CLASS:
            names = _CLASS_NAMES.get(round(value))
            if names is None:
                return _UNKNOWN[language]
            return names[0] if zh else names[1]
        case Kind.HOURS | Kind.DAYS | Kind.YEARS:
            return _with_unit(round(value), kind, language)
        case _:
            return f"{round(value):,}"


_UNITS = {Kind.HOURS: ("小时", "hour"), Kind.DAYS: ("天", "day"), Kind.YEARS: ("岁", "year")}


def _with_unit(number: int, kind: Kind, language: Language) -> str:
    if number < 0:
        return _UNKNOWN[language] if kind is Kind.YEARS else _NONE[language]
    zh, en = _UNITS[kind]
    if language == "zh":
        return f"{number:,}{zh}"
    return f"{number:,} {en}{'' if number == 1 else 's'}"
