"""The official statistics through the API (`/v1/reports`): the figures of a period for the
caller's scope, or (the hub) a member's, each with its trend.

    GET /v1/reports/figures?period=2024-03&member=301

Rights and scope are the use case's (`fundwall.reports.official_figures`): a member's key
reads its member, a police unit's key its unit's part; another member named is a 404
problem, a bad period a 422 naming `period`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.config import ReportSettings
from fundwall.reports import official_figures
from fundwall.reports.model import OfficialFigures, ScopeKind, SectionFigures, Unit

TAG: Final = "reports"
PREFIX: Final = "/v1/reports"
PeriodText = Annotated[
    str,
    Query(
        min_length=4,
        max_length=22,
        description="a month (2024-03), a quarter (2024Q1), a year (2024) or a range of days "
        "(2024-03-01..2024-03-15), on the Beijing calendar",
    ),
]
MemberCode = Annotated[
    str | None,
    Query(max_length=64, description="a member's code (the hub; others: their own or none)"),
]


class FigureOut(BaseModel):
    key: str
    label_zh: str
    label_en: str
    unit: Unit = Field(description="count, fen (money in fen) or people")
    value: int = Field(description="the period's total")
    trend: list[int] = Field(description="the figure in each bucket of `buckets`")
    link: str | None = Field(description="the console list of the records behind it")


class SectionOut(BaseModel):
    key: str
    title_zh: str
    title_en: str
    figures: list[FigureOut]

    @classmethod
    def of(cls, computed: SectionFigures) -> SectionOut:
        section = computed.section
        return cls(
            key=section.key,
            title_zh=section.zh,
            title_en=section.en,
            figures=[
                FigureOut(
                    key=value.figure.key,
                    label_zh=value.figure.zh,
                    label_en=value.figure.en,
                    unit=value.figure.unit,
                    value=value.value,
                    trend=list(value.trend),
                    link=value.link,
                )
                for value in computed.figures
            ],
        )


class FiguresOut(BaseModel):
    period: str
    first_day: date
    last_day: date = Field(description="included")
    scope: ScopeKind
    member: str | None = Field(description="the member or police unit counted (None: region)")
    scope_zh: str
    scope_en: str
    buckets: list[str] = Field(description="the trend's months (2024-03) or days (2024-03-05)")
    generated_at: datetime
    sections: list[SectionOut]

    @classmethod
    def of(cls, report: OfficialFigures) -> FiguresOut:
        return cls(
            period=report.period.label,
            first_day=report.period.first,
            last_day=report.period.last,
            scope=report.scope.kind,
            member=report.scope.code,
            scope_zh=report.scope_name[0],
            scope_en=report.scope_name[1],
            buckets=[bucket.label for bucket in report.buckets],
            generated_at=report.generated_at,
            sections=[SectionOut.of(computed) for computed in report.sections],
        )


def reports_router(settings: ReportSettings) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=[TAG])

    @router.get(
        "/figures", response_model=FiguresOut,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def get_figures(
        actor: ApiActor, uow: UnitOfWorkDep, period: PeriodText, member: MemberCode = None
    ) -> FiguresOut:
        """The figures officials publish for the period, section by section, with their
        trend: the caller's own scope, or the member the hub names."""
        return FiguresOut.of(official_figures(uow, actor, period, member, settings=settings))

    return router
