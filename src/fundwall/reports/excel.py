"""The official statistics as an Excel workbook (openpyxl): a cover sheet with the period, the
scope and when it was made, then one sheet per section: each figure with its unit, the period's
total and its trend, one column per bucket.

Numbers are numbers: counts as integers, money as yuan with two decimals (the value is the
exact `Decimal` of fen / 100, which Excel stores as a double; the cell's number format shows
`#,##0.00`), so a sheet adds up as it is.
"""

from __future__ import annotations

import io
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fundwall.reports.exports import cover, shown, text, unit_label
from fundwall.reports.model import OfficialFigures, Unit

YUAN_FORMAT: Final = "#,##0.00"
COUNT_FORMAT: Final = "#,##0"
SHEET_NAME: Final = 31
"""Excel's longest sheet name."""


def to_xlsx(report: OfficialFigures, language: str = "zh") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = text("title", language)[:SHEET_NAME]
    sheet.append([text("title", language)])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, line in cover(report, language):
        sheet.append([label, line])
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 48
    for computed in report.sections:
        page = book.create_sheet(computed.section.title(language)[:SHEET_NAME])
        header = [
            text("figure", language),
            text("unit", language),
            text("total", language),
            *(bucket.label for bucket in report.buckets),
        ]
        page.append(header)
        for cell in page[1]:
            cell.font = Font(bold=True)
        for value in computed.figures:
            unit = value.figure.unit
            page.append(
                [
                    value.figure.label(language),
                    unit_label(unit, language),
                    shown(value.value, unit),
                    *(shown(each, unit) for each in value.trend),
                ]
            )
            number_format = YUAN_FORMAT if unit is Unit.FEN else COUNT_FORMAT
            for cell in page[page.max_row][2:]:
                cell.number_format = number_format
        page.column_dimensions["A"].width = 28
        page.column_dimensions["B"].width = 14
        for column in range(3, len(header) + 1):
            page.column_dimensions[get_column_letter(column)].width = 14
        page.freeze_panes = "D2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
