"""`fundwall report`: the official statistics of a period from the command line, printed and
optionally exported to Excel or PDF.

    fundwall report --period 2024-03 [--member CODE] [--format xlsx|pdf --out FILE]

It reads the configured store as the operator (`system:cli`): the region, or one member's
figures. A bad period, member or format is one line naming it, exit 2, and no file written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from fundwall.domain.errors import InvalidInput

if TYPE_CHECKING:
    from fundwall.reports.model import OfficialFigures


console = Console(highlight=False, soft_wrap=True)
LANGUAGES: Final = ("zh", "en")
Say = Callable[[str], None]


def figure_lines(report: OfficialFigures, language: str = "en") -> list[str]:
    """The report as lines of text: its scope and period, then each section's figures."""
    from fundwall.reports.model import Unit
    from fundwall.reports.period import BEIJING

    lines = [
        f"{report.scope_label(language)}, {report.period.label} "
        f"({report.period.first.isoformat()} – {report.period.last.isoformat()}); "
        f"generated {report.generated_at.astimezone(BEIJING):%Y-%m-%d %H:%M} Beijing time"
    ]
    for computed in report.sections:
        lines.append(f"  {computed.section.title(language)}")
        for value in computed.figures:
            amount = value.value
            shown = (
                f"¥{amount // 100:,}.{amount % 100:02d}"
                if value.figure.unit is Unit.FEN
                else f"{amount:,}"
            )
            lines.append(f"    {value.figure.label(language):<34} {shown:>18}")
    return lines


def write_export(report: OfficialFigures, chosen: str, out: Path, language: str) -> int:
    """Write the report as `chosen` (xlsx or pdf) to `out`; the bytes written."""
    from fundwall.reports.files import exported

    content, _ = exported(report, chosen, language)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    return len(content)


def report(
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="A month (2024-03), quarter (2024Q1), year (2024) or range of days "
            "(2024-03-01..2024-03-15), Beijing calendar.",
        ),
    ],
    member: Annotated[
        str | None, typer.Option("--member", help="One member's figures (default: the region).")
    ] = None,
    export_format: Annotated[
        str | None,
        typer.Option("--format", help="Export as xlsx or pdf (default: the --out file's suffix)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="The file to export to.", dir_okay=False)
    ] = None,
    language: Annotated[str, typer.Option("--lang", help="zh or en (exports and lines).")] = "zh",
) -> None:
    """Print the official statistics of a period, and export them to Excel or PDF."""
    from fundwall.reports.files import export_format as export_format_of

    if language not in LANGUAGES:
        raise InvalidInput(f"one of {', '.join(LANGUAGES)}", "lang")
    given = export_format or (out.suffix.lstrip(".") if out is not None else None)
    chosen = export_format_of(given) if given is not None else None
    if chosen is not None and out is None:
        raise InvalidInput("the file to export to", "out")
    from fundwall import bootstrap
    from fundwall.reports import official_figures

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        figures = official_figures(
            uow, platform.operator, period, member, settings=platform.settings.reports
        )
    for line in figure_lines(figures, language):
        console.print(line)
    if chosen is not None and out is not None:
        size = write_export(figures, chosen, out, language)
        console.print(f"wrote {out} ({size:,} bytes, {chosen})")
