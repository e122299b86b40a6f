"""Money as integer fen (分). Never a float: amounts are parsed from their digits as text.

`Money(fen)` is the raw constructor: any whole number of fen that fits a signed 64-bit column,
which is what sums and differences need. The doors for amounts coming from outside are
`Money.parse` (text a person typed or a file held), `Money.of_fen` (a whole number of fen from
a column or a JSON number) and `Money.yuan` (whole yuan in code); they accept one amount of at
most `MAX_FEN` and refuse negatives unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from fundwall.domain.errors import InvalidInput

MAX_FEN: Final = 999_999_999_999_999
"""Largest single amount: ¥9,999,999,999,999.99, just under ten trillion yuan.

A signed 64-bit integer holds 9,223,372,036,854,775,807 fen, so more than 9,000 amounts of
this size can be summed in an int64 column before it could overflow.
"""

INT64_MAX: Final = 2**63 - 1

_MAX_YUAN_DIGITS: Final = len(str(MAX_FEN // 100))
_SIGNS: Final = ("¥", "￥")
_UNIT: Final = "元"
_NUMBER: Final = re.compile(r"(?P<whole>[0-9][0-9,]*)(?:\.(?P<frac>[0-9]*))?", re.ASCII)
_GROUPED: Final = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+", re.ASCII)
_SHOWN_CHARS: Final = 40


def _quote(text: str) -> str:
    """The offending input as an error message shows it: quoted, and cut if very long."""
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "…"
    return repr(text)


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount in fen (1 yuan = 100 fen). Compares, adds and subtracts as integers do."""

    fen: int

    def __post_init__(self) -> None:
        if type(self.fen) is not int:
            raise InvalidInput(
                f"an amount is a whole number of fen, got {type(self.fen).__name__}", "amount_fen"
            )
        if not -INT64_MAX <= self.fen <= INT64_MAX:
            raise InvalidInput(
                f"amount out of range: {self.fen} fen does not fit a 64-bit column", "amount_fen"
            )

    @classmethod
    def parse(cls, text: str, *, allow_negative: bool = False, field: str = "amount") -> Money:
        """Read an amount in yuan written as text.

        Grammar, after surrounding whitespace is removed: an optional `-`, an optional `¥` or
        `￥`, whole yuan as plain digits or in well-formed groups of three (`1,234,567`), an
        optional `.` with one or two digits of jiao and fen, an optional `元` (not together
        with a currency sign). Examples: `1234.56`, `1,234.56`, `¥1,234.56`, `1234.5元`.
        """
        if not isinstance(text, str):
            raise InvalidInput(f"expected the amount as text, got {type(text).__name__}", field)
        body = text.strip()
        shown = _quote(body)
        if not body:
            raise InvalidInput("empty amount", field)
        negative = body.startswith("-")
        if negative:
            body = body[1:]
        has_sign = body[:1] in _SIGNS
        if has_sign:
            body = body[1:]
        has_unit = body.endswith(_UNIT)
        if has_unit:
            body = body[: -len(_UNIT)]
        if has_sign and has_unit:
            raise InvalidInput(f"give either a currency sign or 元, not both: {shown}", field)
        match = _NUMBER.fullmatch(body)
        if match is None:
            raise InvalidInput(f"not an amount: {shown}", field)
        whole, frac = match["whole"], match["frac"]
        if frac == "":
            raise InvalidInput(f"no digits after the decimal point: {shown}", field)
        if frac is not None and len(frac) > 2:
            raise InvalidInput(f"more than two decimals: {shown}", field)
        if "," in whole and _GROUPED.fullmatch(whole) is None:
            raise InvalidInput(
                f"thousands separators must split the yuan into groups of three: {shown}", field
            )
        if negative and not allow_negative:
            raise InvalidInput(f"negative amount not allowed: {shown}", field)
        yuan_digits = whole.replace(",", "").lstrip("0")
        # Checked on the digits before int() so a thousand-digit input costs nothing.
        if len(yuan_digits) > _MAX_YUAN_DIGITS:
            raise InvalidInput(f"amount too large: {shown} exceeds {cls(MAX_FEN)}", field)
        fen = int(yuan_digits or "0") * 100 + int((frac or "").ljust(2, "0"))
        if fen > MAX_FEN:
            raise InvalidInput(f"amount too large: {shown} exceeds {cls(MAX_FEN)}", field)
        return cls(-fen if negative else fen)

    @classmethod
    def of_fen(cls, fen: int, *, allow_negative: bool = False, field: str = "amount_fen") -> Money:
        """One amount given as a whole number of fen, e.g. from an `amount_fen` column."""
        if type(fen) is not int:
            raise InvalidInput(
                f"expected a whole number of fen, got {type(fen).__name__}: {fen!r}", field
            )
        if fen < 0 and not allow_negative:
            raise InvalidInput(f"negative amount not allowed: {fen} fen", field)
        if abs(fen) > MAX_FEN:
            raise InvalidInput(f"amount too large: {fen} fen exceeds {cls(MAX_FEN)}", field)
        return cls(fen)

    @classmethod
    def yuan(cls, amount: int, *, allow_negative: bool = False, field: str = "amount") -> Money:
        """Whole yuan, as limits are written in code: `Money.yuan(50_000)` is ¥50,000.00."""
        if type(amount) is not int:
            raise InvalidInput(
                f"expected a whole number of yuan, got {type(amount).__name__}: {amount!r}", field
            )
        if abs(amount) > MAX_FEN // 100:
            raise InvalidInput(f"amount too large: {amount} yuan exceeds {cls(MAX_FEN)}", field)
        return cls.of_fen(amount * 100, allow_negative=allow_negative, field=field)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, fen = divmod(abs(self.fen), 100)
        return f"{sign}¥{whole:,}.{fen:02d}"
