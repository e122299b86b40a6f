"""What both exports write the same way: the texts of a report's cover, its units, and a
figure's value as it is shown (yuan for fen, to two decimals)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

from fundwall.reports.model import OfficialFigures, Unit
from fundwall.reports.period import BEIJING

UNIT_LABEL: Final = {
    Unit.COUNT: ("数量", "count"),
    Unit.FEN: ("金额（元）", "amount (yuan)"),
    Unit.PEOPLE: ("人数", "people"),
}
TEXTS: Final = {
    "title": ("反电信网络诈骗资金链治理统计报表", "Official statistics of the fight against fraud"),
    "period": ("统计期间", "Period"),
    "scope": ("统计范围", "Scope"),
    "generated": ("生成时间", "Generated at"),
    "figure": ("指标", "Figure"),
    "unit": ("单位", "Unit"),
    "total": ("本期合计", "Period total"),
    "trend": ("趋势", "Trend"),
    "days": ("起止日期", "Days"),
    "counts": ("数量趋势", "Counts over time"),
    "amounts": ("金额趋势（元）", "Amounts over time (yuan)"),
}
LANGUAGES: Final = ("zh", "en")


def text(key: str, language: str) -> str:
    zh, en = TEXTS[key]
    return zh if language == "zh" else en


def unit_label(unit: Unit, language: str) -> str:
    zh, en = UNIT_LABEL[unit]
    return zh if language == "zh" else en


def yuan(fen: int) -> Decimal:
    """Fen as yuan, exactly, to two decimals (`Decimal`: no binary rounding on the way)."""
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def shown(value: int, unit: Unit) -> Decimal | int:
    """A figure's value as exported: yuan for money, the count itself otherwise."""
    return yuan(value) if unit is Unit.FEN else value


def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def cover(report: OfficialFigures, language: str) -> list[tuple[str, str]]:
    """The cover's lines: the period (named and its days), the scope, when it was made."""
    period = report.period
    return [
        (text("period", language), period.label),
        (text("days", language), f"{period.first.isoformat()} – {period.last.isoformat()}"),
        (text("scope", language), report.scope_label(language)),
        (text("generated", language), f"{beijing(report.generated_at)} (UTC+8)"),
    ]
