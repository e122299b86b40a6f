"""The official statistics as a PDF (reportlab), in Chinese by default: a cover with the
period, the scope and when it was made, then per section its table (each figure, its unit,
the period's total) and its trend drawn with reportlab's own graphics: one line chart of the
counts, one of the amounts in yuan. The built-in CID font STSong-Light prints the Chinese
(as the police documents do, `fundwall.police.documents`), so nothing is downloaded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from fundwall.police.documents import FONT
from fundwall.reports.exports import cover, shown, text, unit_label
from fundwall.reports.model import FigureValue, OfficialFigures, SectionFigures, Unit

CHART_WIDTH: Final = 440
CHART_HEIGHT: Final = 150
MOST_LABELS: Final = 12
"""At most this many bucket labels under a chart (every other day of a month, say)."""
PALETTE: Final = ("#2f6fb5", "#a61b1b", "#f7813f", "#3c8d5a", "#7a4fa3", "#5b6770")
_TITLE = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=24, spaceAfter=12)
_HEADING = ParagraphStyle("heading", fontName=FONT, fontSize=13, leading=18, spaceBefore=12)
_BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)


def _number(value: int, unit: Unit) -> str:
    amount = shown(value, unit)
    return f"{amount:,.2f}" if unit is Unit.FEN else f"{amount:,}"


def _table(computed: SectionFigures, language: str) -> Table:
    rows = [[text("figure", language), text("unit", language), text("total", language)]]
    rows += [
        [
            value.figure.label(language),
            unit_label(value.figure.unit, language),
            _number(value.value, value.figure.unit),
        ]
        for value in computed.figures
    ]
    table = Table(rows, colWidths=[220, 100, 120], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
            ]
        )
    )
    return table


def _chart(labels: Sequence[str], values: Sequence[FigureValue], language: str) -> Drawing:
    """A line chart of `values`' trends over `labels` (money in yuan), with its legend."""
    drawing = Drawing(CHART_WIDTH, CHART_HEIGHT + 40)
    chart = HorizontalLineChart()
    chart.x, chart.y = 40, 40
    chart.width, chart.height = CHART_WIDTH - 60, CHART_HEIGHT - 30
    chart.data = [
        [float(shown(each, value.figure.unit)) for each in value.trend] for value in values
    ]
    step = max(1, -(-len(labels) // MOST_LABELS))
    chart.categoryAxis.categoryNames = [
        label if index % step == 0 else "" for index, label in enumerate(labels)
    ]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    for index in range(len(values)):
        chart.lines[index].strokeColor = colors.HexColor(PALETTE[index % len(PALETTE)])
        chart.lines[index].strokeWidth = 1.5
    drawing.add(chart)
    legend = Legend()
    legend.fontName = FONT
    legend.fontSize = 8
    legend.x, legend.y = 40, CHART_HEIGHT + 30
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 8
    legend.deltax = 110
    legend.colorNamePairs = [
        (colors.HexColor(PALETTE[index % len(PALETTE)]), value.figure.label(language))
        for index, value in enumerate(values)
    ]
    drawing.add(legend)
    return drawing


def _section(report: OfficialFigures, computed: SectionFigures, language: str) -> list[Flowable]:
    labels = [bucket.label for bucket in report.buckets]
    parts: list[Flowable] = [
        Paragraph(computed.section.title(language), _HEADING),
        Spacer(1, 6),
        _table(computed, language),
    ]
    counts = [value for value in computed.figures if value.figure.unit is not Unit.FEN]
    amounts = [value for value in computed.figures if value.figure.unit is Unit.FEN]
    for key, group in (("counts", counts), ("amounts", amounts)):
        if group and labels:
            parts += [
                Spacer(1, 8),
                Paragraph(text(key, language), _BODY),
                _chart(labels, group, language),
            ]
    return parts


def to_pdf(report: OfficialFigures, language: str = "zh") -> bytes:
    buffer = io.BytesIO()
    title = text("title", language)
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{title} {report.period.label}",
        invariant=True,
        leftMargin=56,
        rightMargin=56,
    )
    story: list[Flowable] = [Paragraph(title, _TITLE)]
    colon = "：" if language == "zh" else ": "
    story += [
        Paragraph(f"{label}{colon}{value}", _BODY) for label, value in cover(report, language)
    ]
    for computed in report.sections:
        story += _section(report, computed, language)
    document.build(story)
    return buffer.getvalue()
