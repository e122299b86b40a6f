"""Working days (工作日) in mainland China: Monday to Friday, less the public holidays the
State Council announces each year, plus the make-up working days (调休) on weekends.

The calendar is the PyPI package `chinesecalendar` (pinned in requirements.lock), which
carries the State Council's notices year by year (docs/returns.md). A date outside the years
it knows is refused rather than guessed: next year's holidays are published late each year,
and a deadline counted over a weekend that turns out to be a make-up working day would be
wrong by days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from chinese_calendar import is_workday
from chinese_calendar.constants import holidays

from fundwall.domain.errors import Conflict

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
FIRST_YEAR: Final = min(holidays).year
LAST_YEAR: Final = max(holidays).year
"""The years the installed calendar knows."""
MOST_WORKING_DAYS: Final = 366


def is_working_day(day: date) -> bool:
    """Whether banks work on `day` (a weekday not a public holiday, or a make-up day)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Conflict(
            f"the public-holiday calendar covers {FIRST_YEAR} to {LAST_YEAR}, not "
            f"{day.isoformat()}: update the package chinesecalendar to count working days there"
        )
    return bool(is_workday(day))


def add_working_days(day: date, n: int) -> date:
    """The `n`th working day after `day` (`day` itself does not count, working or not):
    a Friday plus 1 is the next Monday, unless that is a holiday."""
    if not 0 <= n <= MOST_WORKING_DAYS:
        raise ValueError(f"0 to {MOST_WORKING_DAYS} working days, not {n}")
    found = day
    while n:
        found += timedelta(days=1)
        if is_working_day(found):
            n -= 1
    return found


def working_deadline(moment: datetime, n: int) -> datetime:
    """The end (24:00 Beijing time) of the `n`th working day after `moment`'s Beijing date."""
    last = add_working_days(moment.astimezone(SHANGHAI).date(), n)
    return datetime.combine(last + timedelta(days=1), time(), SHANGHAI)
