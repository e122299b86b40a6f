"""The periods officials report on (统计期间): a month, a quarter, a year or a range of days,
on the Beijing calendar, and the buckets of its trend.

    Period.parse("2024-03")                 # March 2024
    Period.parse("2024Q1")                  # January to March 2024
    Period.parse("2024")                    # the year
    Period.parse("2024-03-01..2024-03-15")  # the 1st to the 15th, both days included

A period starts at Beijing midnight of its first day and ends (exclusive) at Beijing midnight
after its last day; `start` and `end` are those instants in UTC, which is how every record's
time is stored. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from fundwall.domain.errors import InvalidInput

BEIJING: Final = ZoneInfo("Asia/Shanghai")
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2099
"""Years a period may fall in: no record of the platform is older, and a typo such as
`20244` is named rather than read as the year 20244."""
DAILY_UP_TO: Final = 31
"""A range of at most this many days draws its trend per day, a longer one per month."""
FIELD: Final = "period"

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})[Qq]([1-4])")
_YEAR = re.compile(r"(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
FORMS: Final = (
    "a month (2024-03), a quarter (2024Q1), a year (2024) or a range of days "
    "(2024-03-01..2024-03-15)"
)


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a trend: its label (`2024-03` or `2024-03-05`) and its instants (UTC)."""

    label: str
    start: datetime
    end: datetime


def _midnight(day: date) -> datetime:
    """Beijing midnight at the start of `day`, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=BEIJING).astimezone(UTC)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _year(text: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"a year from {FIRST_YEAR} to {LAST_YEAR}, not {year}", FIELD)
    return year


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text} is not a date of the calendar", FIELD) from None
    _year(str(day.year))
    return day


@dataclass(frozen=True, slots=True)
class Period:
    """Days `first` to `last` (both included) on the Beijing calendar."""

    kind: PeriodKind
    first: date
    last: date

    @classmethod
    def parse(cls, text: str, *, max_months: int) -> Period:
        """The period `text` names; InvalidInput naming `period` and the forms accepted, or
        a range longer than `max_months` months."""
        given = text.strip() if isinstance(text, str) else ""
        if match := _MONTH.fullmatch(given):
            year, month = _year(match[1]), int(match[2])
            if not 1 <= month <= 12:
                raise InvalidInput(f"a month from 01 to 12, not {match[2]}", FIELD)
            first = date(year, month, 1)
            return cls(PeriodKind.MONTH, first, _next_month(first) - timedelta(days=1))
        if match := _QUARTER.fullmatch(given):
            year, quarter = _year(match[1]), int(match[2])
            first = date(year, 3 * quarter - 2, 1)
            end = _next_month(_next_month(_next_month(first)))
            return cls(PeriodKind.QUARTER, first, end - timedelta(days=1))
        if match := _YEAR.fullmatch(given):
            year = _year(match[1])
            return cls(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))
        if match := _RANGE.fullmatch(given):
            first, last = _day(match[1]), _day(match[2])
            if last < first:
                raise InvalidInput(f"the range ends ({last}) before it starts ({first})", FIELD)
            months = (last.year - first.year) * 12 + last.month - first.month + 1
            if months > max_months:
                raise InvalidInput(
                    f"a range of at most {max_months} months; this one touches {months}", FIELD
                )
            return cls(PeriodKind.RANGE, first, last)
        shown = given[:40] or "nothing"
        raise InvalidInput(f"{FORMS}, not {shown!r}", FIELD)

    @property
    def label(self) -> str:
        """The period as it was named: `2024-03`, `2024Q1`, `2024`, `2024-03-01..2024-03-15`."""
        if self.kind is PeriodKind.MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}Q{(self.first.month + 2) // 3}"
        if self.kind is PeriodKind.YEAR:
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The instant just after the period (Beijing midnight after its last day)."""
        return _midnight(self.last + timedelta(days=1))

    def trend(self, months: int) -> tuple[Bucket, ...]:
        """The trend's buckets: each day of a month (or of a range of at most
        `DAILY_UP_TO` days); the months of a longer range; the `months` months ending with
        the last month of a quarter or a year."""
        days = (self.last - self.first).days + 1
        if self.kind is PeriodKind.MONTH or (self.kind is PeriodKind.RANGE and days <= DAILY_UP_TO):
            return tuple(
                Bucket(f"{day:%Y-%m-%d}", _midnight(day), _midnight(day + timedelta(days=1)))
                for day in (self.first + timedelta(days=n) for n in range(days))
            )
        if self.kind is PeriodKind.RANGE:
            first = date(self.first.year, self.first.month, 1)
        else:
            last_month = date(self.last.year, self.last.month, 1)
            back = last_month.year * 12 + last_month.month - 1 - (months - 1)
            first = date(back // 12, back % 12 + 1, 1)
        buckets = []
        month = first
        while month <= self.last:
            following = _next_month(month)
            start = max(month, self.first) if self.kind is PeriodKind.RANGE else month
            end = min(following, self.last + timedelta(days=1))
            end = end if self.kind is PeriodKind.RANGE else following
            buckets.append(Bucket(f"{month:%Y-%m}", _midnight(start), _midnight(end)))
            month = following
        return tuple(buckets)
