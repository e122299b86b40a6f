"""`fundwall report` over the configured store: the figures printed, the Excel and PDF files
written, and bad input as one line naming the field (exit 2) with no file written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.domain.errors import FundwallError

from .conftest import Seeded

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, FundwallError):  # what `main` prints, exit code 2
        return 2, str(result.exception)
    return result.exit_code, result.output


def test_the_regions_figures_are_printed_and_exported(
    configured_store: str, seeded: Seeded, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "report.xlsx"
    code, said = _run("report", "--period", "2024-06", "--out", str(out), "--lang", "en")
    assert code == 0, said
    assert "The whole region, 2024-06" in said and f"wrote {out}" in said
    assert "Suspects caught" in said and "¥1,500.00" in said
    book = load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames[2] == "Clues sent to the police"
    pdf = tmp_path / "report.pdf"
    code, said = _run("report", "--period", "2024Q2", "--member", "B001", "--format", "pdf",
                      "--out", str(pdf))  # fmt: skip
    assert code == 0, said
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "统计期间：2024Q2" in words and "银行B001（B001）" in words


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--period", "2024-3"), "period"),
        (("--period", "2024", "--member", "PSB1"), "member"),
        (("--period", "2024", "--member", "nobody"), "member"),
        (("--period", "2024", "--format", "docx", "--out", "x.docx"), "format"),
        (("--period", "2024", "--out", "report.csv"), "format"),
        (("--period", "2024", "--format", "pdf"), "out"),
        (("--period", "2024", "--lang", "fr"), "lang"),
    ],
)
def test_bad_input_is_one_line_naming_it_and_nothing_is_written(
    configured_store: str, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    code, said = _run("report", *args)
    assert code == 2 and says in said
    assert not any(tmp_path.glob("report.*")) and not (tmp_path / "x.docx").exists()
