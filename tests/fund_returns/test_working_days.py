"""Working days by the State Council's calendar: weekends and public holidays skipped,
make-up working days (调休) counted, years the calendar does not know refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fundwall.domain.errors import Conflict
from fundwall.fund_returns.working_days import (
    LAST_YEAR,
    SHANGHAI,
    add_working_days,
    working_deadline,
)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 6, 3), 3, date(2024, 6, 6)),  # Monday → Thursday
        (date(2024, 6, 7), 1, date(2024, 6, 11)),  # Friday; Monday 10 June is 端午节
        (date(2024, 9, 27), 3, date(2024, 10, 8)),  # National Day week, 8 Oct a working day
        (date(2024, 9, 26), 2, date(2024, 9, 29)),  # Sunday 29 September is a make-up day
        (date(2025, 1, 24), 2, date(2025, 1, 27)),  # Sunday 26 January 2025 (调休) counts
        (date(2024, 6, 1), 0, date(2024, 6, 1)),
    ],
)
def test_working_days_skip_holidays_and_count_make_up_days(
    start: date, n: int, expected: date
) -> None:
    assert add_working_days(start, n) == expected


def test_the_deadline_is_the_end_of_the_last_working_day_in_beijing() -> None:
    # Friday 7 June 2024, 23:30 in Beijing (15:30 UTC): Tue 11, Wed 12, Thu 13 June.
    deadline = working_deadline(datetime(2024, 6, 7, 15, 30, tzinfo=UTC), 3)
    assert deadline == datetime(2024, 6, 14, tzinfo=SHANGHAI)


def test_a_year_the_calendar_does_not_know_is_refused() -> None:
    with pytest.raises(Conflict, match=f"covers 2004 to {LAST_YEAR}"):
        add_working_days(date(LAST_YEAR, 12, 30), 3)
