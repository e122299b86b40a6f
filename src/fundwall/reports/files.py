"""The export formats of the official statistics, for every entrypoint alike: what each
writes and its media type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fundwall.domain.errors import InvalidInput
from fundwall.reports.model import OfficialFigures

Writer = Callable[[OfficialFigures, str], bytes]


# The writers load openpyxl and reportlab's charts when a file is written, not when the
# console is built: every `fundwall serve` start would otherwise pay for them.
def _xlsx(report: OfficialFigures, language: str) -> bytes:
    from fundwall.reports.excel import to_xlsx

    return to_xlsx(report, language)


def _pdf(report: OfficialFigures, language: str) -> bytes:
    from fundwall.reports.pdf import to_pdf

    return to_pdf(report, language)


EXPORTS: Final[dict[str, tuple[Writer, str]]] = {
    "xlsx": (_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (_pdf, "application/pdf"),
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
