"""The exports hold the dashboard's figures: the Excel workbook read back with openpyxl (a
cover sheet, a sheet per section, numbers as numbers, money in yuan to two decimals) and the
PDF read back with pypdf (Chinese titles, every figure's value, its charts drawn)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from fundwall.domain.errors import InvalidInput
from fundwall.reports import official_figures
from fundwall.reports.excel import to_xlsx
from fundwall.reports.files import export_format
from fundwall.reports.model import OfficialFigures, Unit
from fundwall.reports.pdf import to_pdf

from .conftest import HUB, RECOVERED, Seeded, Uow


@pytest.fixture
def june(stocked: Uow, seeded: Seeded) -> OfficialFigures:
    with stocked() as uow:
        return official_figures(uow, HUB, "2024-06")


def test_the_workbook_holds_every_figure_as_a_number_and_money_in_yuan(
    june: OfficialFigures,
) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(june, "zh")))
    cover = book.worksheets[0]
    lines = {row[0]: row[1] for row in cover.iter_rows(min_row=2, values_only=True)}
    assert lines["统计期间"] == "2024-06" and lines["统计范围"] == "全辖区"
    assert lines["生成时间"].startswith("2024-07-20 16:00:00")  # the clock, in Beijing
    assert book.sheetnames[1:] == [computed.section.zh for computed in june.sections]
    for computed in june.sections:
        sheet = book[computed.section.zh]
        header = next(sheet.iter_rows(max_row=1, values_only=True))
        assert header[3:] == tuple(bucket.label for bucket in june.buckets)
        rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
        for value in computed.figures:
            cells = rows[value.figure.zh]
            row = [cell.value for cell in cells]
            if value.figure.unit is Unit.FEN:
                assert round(Decimal(str(row[2])) * 100) == value.value
                assert cells[2].number_format == "#,##0.00"
            else:
                assert row[2] == value.value and isinstance(row[2], int)
            assert [round(Decimal(str(each)) * (100 if value.figure.unit is Unit.FEN else 1))
                    for each in row[3:]] == list(value.trend)  # fmt: skip
    clues = {row[0]: row[2] for row in book["线索移送"].iter_rows(min_row=2, values_only=True)}
    assert clues["挽回损失"] == pytest.approx(RECOVERED / 100) and clues["抓获嫌疑人"] == 3


def test_the_pdf_holds_every_section_and_figure_in_chinese_with_its_charts(
    june: OfficialFigures,
) -> None:
    pdf = PdfReader(io.BytesIO(to_pdf(june, "zh")))
    words = "".join(page.extract_text() for page in pdf.pages)
    assert "统计期间：2024-06" in words and "统计范围：全辖区" in words
    for computed in june.sections:
        assert computed.section.zh in words
        for value in computed.figures:
            shown = (
                f"{Decimal(value.value).scaleb(-2):,.2f}"
                if value.figure.unit is Unit.FEN
                else f"{value.value:,}"
            )
            assert f"{value.figure.zh}" in words and shown in words
    assert "1,500.00" in words  # the money recovered, in yuan
    assert "数量趋势" in words and "金额趋势（元）" in words
    # the trend's days label the charts' axes, every third of June's 30 (at most 12 labels)
    assert "2024-06-04" in words and "2024-06-28" in words and "2024-06-05" not in words
    assert (
        pdf.metadata is not None
        and pdf.metadata.title == "反电信网络诈骗资金链治理统计报表 2024-06"
    )


def test_english_exports_speak_english(june: OfficialFigures) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(june, "en")))
    assert book.sheetnames[1] == "Fraud transactions intercepted"
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(to_pdf(june, "en"))).pages)
    assert "Suspects caught" in words and "Period: 2024-06" in words


@pytest.mark.parametrize("bad", ["docx", "", "x" * 100, None])
def test_an_unknown_format_is_refused_naming_it(bad: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        export_format(bad)
    assert refused.value.field == "format" and "xlsx, pdf" in refused.value.reason
