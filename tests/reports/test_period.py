"""Periods on the Beijing calendar: their instants in UTC, their names, their trends; and the
demo's range of days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.cli.demo_reports import demo_period
from fundwall.domain.errors import InvalidInput
from fundwall.reports.period import Period, PeriodKind


def test_a_month_starts_and_ends_at_beijing_midnight_and_trends_by_day() -> None:
    march = Period.parse(" 2024-03 ", max_months=60)
    assert (march.kind, march.label) == (PeriodKind.MONTH, "2024-03")
    assert march.start == datetime(2024, 2, 29, 16, tzinfo=UTC)
    assert march.end == datetime(2024, 3, 31, 16, tzinfo=UTC)
    days = march.trend(12)
    assert len(days) == 31 and days[0].start == march.start and days[-1].end == march.end


def test_a_quarter_and_a_year_trend_by_month_over_the_months_before_their_end() -> None:
    second = Period.parse("2024q2", max_months=60)
    assert (second.first, second.last, second.label) == (
        date(2024, 4, 1),
        date(2024, 6, 30),
        "2024Q2",
    )
    months = second.trend(12)
    assert months[0].label == "2023-07" and months[-1].label == "2024-06"
    assert all(a.end == b.start for a, b in pairwise(months))
    assert [m.label for m in Period.parse("2024", max_months=60).trend(3)] == [
        "2024-10", "2024-11", "2024-12"
    ]  # fmt: skip


def test_a_long_range_trends_by_month_clipped_to_its_days() -> None:
    span = Period.parse("2023-11-05..2024-02-10", max_months=60)
    months = span.trend(12)
    assert [m.label for m in months] == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert months[0].start == span.start and months[-1].end == span.end


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.integers(0, 400))
def test_a_ranges_buckets_cover_it_exactly(first: date, length: int) -> None:
    last = date.fromordinal(min(first.toordinal() + length, date(2099, 12, 31).toordinal()))
    span = Period.parse(f"{first}..{last}", max_months=60)
    buckets = span.trend(12)
    assert buckets[0].start == span.start and buckets[-1].end == span.end
    assert all(a.end == b.start for a, b in pairwise(buckets))


@pytest.mark.parametrize("text", ["2024/03", "2024-3", "Q1 2024", "2024-03-01..", "../etc"])
def test_other_forms_are_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Period.parse(text, max_months=60)
    assert "a quarter (2024Q1)" in refused.value.reason


def test_the_demo_reports_from_the_regions_first_day_within_the_longest_range() -> None:
    assert demo_period(date(2024, 3, 3), date(2026, 12, 6), 60) == "2024-03-03..2026-12-06"
    assert demo_period(date(2018, 3, 3), date(2026, 12, 6), 60) == "2022-01-01..2026-12-06"
    Period.parse(demo_period(date(2018, 3, 3), date(2026, 12, 6), 60), max_months=60)
