"""The official statistics on the console (统计报表): the figures of a period for the
actor's scope (the hub: the region or a member it picks), each linked to the list of its
records, their trends drawn, and the Excel and PDF exports of the same figures.

A period the use case refuses is named beside the form and the current month shown instead;
an export of a bad period or of a member the actor may not read is refused as the page is.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.domain.errors import InvalidInput
from fundwall.reports import official_figures
from fundwall.reports.files import export_format, export_name, exported
from fundwall.reports.model import OfficialFigures, Unit
from fundwall.reports.period import BEIJING
from fundwall.web.i18n import request_language
from fundwall.web.params import Params, Problem
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)


def _charts(report: OfficialFigures, language: str) -> dict[str, Any]:
    """Per section, what app.js draws: the buckets and each figure's trend (money in yuan,
    on an axis of its own)."""
    return {
        computed.section.key: {
            "buckets": [bucket.label for bucket in report.buckets],
            "series": [
                {
                    "name": value.figure.label(language),
                    "money": value.figure.unit is Unit.FEN,
                    "data": list(value.trend),
                }
                for value in computed.figures
            ],
        }
        for computed in report.sections
    }


@router.get("/reports")
def reports_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    params = Params(request.query_params)
    period = params.text("period", 22)
    member = params.text("member")
    this_month = f"{uow.clock.now().astimezone(BEIJING):%Y-%m}"
    try:
        report = official_figures(uow, actor, period or this_month, member)
    except InvalidInput as refused:
        params.problems.append(Problem(refused.field or "period", refused.reason))
        report = official_figures(uow, actor, this_month, member)
    language = request_language(request)
    return page(
        request,
        "reports.html",
        {
            "report": report,
            "charts": _charts(report, language),
            "Unit": Unit,
            "problems": params.problems,
            "form": request.query_params,
            "export_query": {"period": report.period.label, "member": member or ""},
        },
        session=session,
    )


@router.get("/reports/export")
def report_export(request: Request, actor: ConsoleActor, uow: UnitOfWorkDep) -> Response:
    """The figures as an Excel workbook or a PDF (`format`), in the console's language."""
    params = Params(request.query_params)
    chosen = export_format(params.text("format", 8) or "xlsx")
    report = official_figures(uow, actor, params.text("period", 22) or "", params.text("member"))
    content, media_type = exported(report, chosen, request_language(request))
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{export_name(report, chosen)}"'},
    )
