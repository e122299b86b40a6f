"""The export formats of the official statistics, for every entrypoint alike: what each
writes and its media type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fundwall.domain.errors import InvalidInput
from fundwall.reports.excel import to_xlsx
from fundwall.reports.model import OfficialFigures
from fundwall.reports.pdf import to_pdf

Writer = Callable[[OfficialFigures, str], bytes]
EXPORTS: Final[dict[str, tuple[Writer, str]]] = {
    "xlsx": (to_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (to_pdf, "application/pdf"),
}


def export_format(text: str | None, field: str = "format") -> str:
    """The export format named (xlsx or pdf, any case); InvalidInput naming `field`."""
    chosen = (text or "").strip().lower()
    if chosen not in EXPORTS:
        shown = (text or "nothing")[:20]
        raise InvalidInput(f"one of {', '.join(EXPORTS)}, not {shown!r}", field)
    return chosen


def exported(report: OfficialFigures, chosen: str, language: str) -> tuple[bytes, str]:
    """The report written as `chosen`, and its media type."""
    write, media_type = EXPORTS[export_format(chosen)]
    return write(report, language), media_type


def export_name(report: OfficialFigures, chosen: str) -> str:
    """A file name saying what the export holds: `fundwall-report-2024-03-301.xlsx`."""
    return f"fundwall-report-{report.period.label}-{report.scope.code or 'region'}.{chosen}"
