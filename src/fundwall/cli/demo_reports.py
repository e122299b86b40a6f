"""The demo's official statistics (统计报表), from the simulated region's own records.

Once the region is decided and the banks, the police and the hub have worked on it, the demo
prints the region's figures for a range of days from the region's first day to today (Beijing):
the interceptions fall in the simulated month, the clues, orders, returns, sharing, screening
and openings on the days the demo ran. Then it writes the same figures to
`<data_dir>/demo/reports/report.xlsx` and `report.pdf`. Running the demo again counts
again and rewrites both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from fundwall.bootstrap import Platform
from fundwall.cli.report import figure_lines, write_export
from fundwall.region import read_table
from fundwall.reports import official_figures
from fundwall.reports.period import BEIJING

Say = Callable[[str], None]


def demo_period(first: date, today: date, max_months: int) -> str:
    """The range from `first` to `today`, or its last `max_months` calendar months."""
    months = (today.year - first.year) * 12 + today.month - first.month + 1
    if months > max_months:
        back = today.year * 12 + today.month - 1 - (max_months - 1)
        first = date(back // 12, back % 12 + 1, 1)
    return f"{first.isoformat()}..{today.isoformat()}"


def report_figures(folder: Path, platform: Platform, say: Say) -> None:
    """Step 14 of the demo: the region's figures, printed and exported."""
    transactions = read_table(folder, "transactions", columns=["ts"])
    now = platform.clock.now().astimezone(BEIJING).date()
    first = transactions["ts"][0].as_py().astimezone(BEIJING).date() if len(transactions) else now
    period = demo_period(first, now, platform.settings.reports.max_range_months)
    with platform.unit_of_work() as uow:
        report = official_figures(
            uow, platform.operator, period, settings=platform.settings.reports
        )
    say("14. official statistics (统计报表) of the region, as the hub publishes them:")
    for line in figure_lines(report, "en"):
        say(f"   {line}")
    out = platform.settings.data_dir / "demo" / "reports"
    for chosen in ("xlsx", "pdf"):
        write_export(report, chosen, out / f"report.{chosen}", "zh")
    say(f"   written to {out / 'report.xlsx'} and {out / 'report.pdf'}; the console's")
    say(f"   /reports?period={period} shows the same figures with their trends")
