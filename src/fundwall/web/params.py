"""Reading filters from a query string politely: a bad value is reported, never raised.

Console search forms send whatever a person typed (or a URL someone edited). Each reader
returns the value, or None after noting a `Problem` in `problems`, which the page shows
(translated) beside the form while the search runs without that filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money
from fundwall.store.paging import MAX_PAGE
from fundwall.web.i18n import N_

LOCAL_ZONE: Final = ZoneInfo("Asia/Shanghai")
"""Times are entered and shown in Beijing time; stored UTC."""
MAX_TEXT: Final = 64
MAX_DIGITS: Final = 9
"""The longest whole number read (longer ones are out of every range asked)."""

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Problem:
    """A bad parameter: `message` is English with %(name)s placeholders filled by `values`."""

    param: str
    message: str
    values: Mapping[str, object] = field(default_factory=dict)

    def english(self) -> str:
        return self.message % self.values if self.values else self.message

    def error(self) -> InvalidInput:
        return InvalidInput(self.english(), self.param)


class Params:
    """The query parameters of one request, read field by field."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def _given(self, name: str) -> str | None:
        value = self.raw.get(name, "").strip()
        return value or None

    def _bad(self, name: str, message: str, **values: object) -> None:
        self.problems.append(Problem(name, message, values))

    def text(self, name: str, max_len: int = MAX_TEXT) -> str | None:
        value = self._given(name)
        if value is not None and len(value) > max_len:
            self._bad(name, N_("at most %(count)s characters"), count=max_len)
            return None
        return value

    def money_fen(self, name: str) -> int | None:
        value = self._given(name)
        if value is None:
            return None
        try:
            return Money.parse(value, field=name).fen
        except InvalidInput:
            self._bad(name, N_("an amount in yuan, such as 1234.56"))
            return None

    def moment(self, name: str, *, end_of_day: bool = False) -> datetime | None:
        """A Beijing date (2024-03-05) or date and time (2024-03-05T14:30) as UTC; a bare
        date read with `end_of_day` means the end of that day."""
        value = self._given(name)
        if value is None:
            return None
        try:
            if len(value) == len("2024-03-05"):
                day = date.fromisoformat(value)
                local = datetime.combine(day, time(), LOCAL_ZONE)
                return local + timedelta(days=1) if end_of_day else local
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self._bad(name, N_("a date such as 2024-03-05, or 2024-03-05T14:30 with a time"))
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LOCAL_ZONE)
        return parsed

    def choice(self, name: str, kind: type[E]) -> E | None:
        value = self._given(name)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            self._bad(name, N_("one of %(allowed)s"), allowed=allowed)
            return None

    def page(self, name: str = "page") -> int:
        value = self._given(name)
        if value is None:
            return 1
        number = _whole(value, 1, MAX_PAGE)
        if number is None:
            self._bad(name, N_("a page number from 1 to %(last)s"), last=MAX_PAGE)
            return 1
        return number

    def whole(self, name: str, low: int, high: int) -> int | None:
        """A whole number from `low` to `high` (a threshold, a number of days)."""
        value = self._given(name)
        if value is None:
            return None
        number = _whole(value, low, high)
        if number is None:
            self._bad(name, N_("a whole number from %(low)s to %(high)s"), low=low, high=high)
        return number


def _whole(value: str, low: int, high: int) -> int | None:
    """`value` as a whole number from `low` to `high`; None when it is not one."""
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS):
        return None
    number = int(value)
    return number if low <= number <= high else None
