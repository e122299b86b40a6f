"""The official statistics (统计报表): every section's figures for a period and a scope, with
their trend, computed from the records each time they are asked for.

    report = official_figures(uow, actor, "2024-03", member="301")
    report.value("orders", "frozen_fen")

Scope, enforced here and in each section's query: the hub (and the operator) reads the region
and any member; a member reads itself; a police unit reads what it was party to (the clues
sent to it, the orders it issued, the returns it drew up) and none of the banks' internal
figures. Any other member asked for is not found, as another member's record is.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import ReportSettings, get_settings
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.domain.institutions import InstitutionKind
from fundwall.reports.model import (
    FigureValue,
    MemberChoice,
    OfficialFigures,
    Scope,
    ScopeKind,
    Section,
    SectionFigures,
    Window,
)
from fundwall.reports.period import Period
from fundwall.reports.sections import SECTIONS
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

REGION_NAME = ("全辖区", "The whole region")
_HOLDERS = (InstitutionKind.BANK.value, InstitutionKind.PAYMENT_INSTITUTION.value)


@use_case(Permission.VIEW_REPORTS)
def official_figures(
    uow: UnitOfWork,
    actor: Actor,
    period: str,
    member: str | None = None,
    *,
    settings: ReportSettings | None = None,
) -> OfficialFigures:
    """The figures officials publish for `period` (`2024-03`, `2024Q1`, `2024`,
    `2024-03-01..2024-03-15`) and `member` (a member's code; None: the actor's own scope,
    the region for the hub), every section that speaks for the scope, each figure with its
    trend and the console list behind it. InvalidInput naming `period`; NotFound for a
    member the actor may not read."""
    settings = settings or get_settings().reports
    chosen = Period.parse(period, max_months=settings.max_range_months)
    session = uow.session
    scope = _scope(session, actor, member)
    names = _names(session, scope)
    buckets = chosen.trend(settings.trend_months)
    # Nothing is counted after now: a period still running is counted up to now (an appeal
    # is overdue when its deadline has passed by then), and a record a client stamped in
    # the future waits for its time.
    now = uow.clock.now()
    until = now + timedelta(microseconds=1)  # a window's end is excluded; now is counted
    whole = Window(chosen.start, min(chosen.end, until))
    windows = [Window(bucket.start, min(bucket.end, until)) for bucket in buckets]
    computed = tuple(
        _section(session, actor, section, scope, chosen, whole, windows)
        for section in SECTIONS
        if scope.kind in section.scopes
    )
    return OfficialFigures(
        period=chosen,
        scope=scope,
        scope_name=names,
        buckets=buckets,
        sections=computed,
        generated_at=now,
        members=_members(session, actor),
    )


def _scope(session: Session, actor: Actor, member: str | None) -> Scope:
    """The scope the actor may read for `member`; NotFound for anything else."""
    asked = member.strip() if member is not None else None
    asked = asked or None
    if actor.member is not None:
        if asked is not None and asked != actor.member:
            raise NotFound("member", asked)
        kind = ScopeKind.POLICE if actor.role.is_police else ScopeKind.MEMBER
        return Scope(kind, actor.member)
    if not actor.can(Permission.VIEW_REGION):
        raise PermissionDenied(f"{Permission.VIEW_REGION.value} (role {actor.role.value})")
    if asked is None:
        return Scope(ScopeKind.REGION)
    row = session.get(InstitutionRow, asked) if len(asked) <= 64 else None
    if row is None or row.kind not in _HOLDERS:
        raise NotFound("member", asked[:64])
    return Scope(ScopeKind.MEMBER, row.code)


def _names(session: Session, scope: Scope) -> tuple[str, str]:
    if scope.code is None:
        return REGION_NAME
    row = session.get(InstitutionRow, scope.code)
    if row is None:
        return (scope.code, scope.code)
    return (f"{row.name_zh}（{row.code}）", f"{row.name_en} ({row.code})")


def _members(session: Session, actor: Actor) -> tuple[MemberChoice, ...]:
    """The members the actor may pick: every bank and payment institution for the hub, its
    own institution otherwise."""
    where = (
        InstitutionRow.kind.in_(_HOLDERS)
        if actor.member is None
        else InstitutionRow.code == actor.member
    )
    rows = session.scalars(select(InstitutionRow).where(where).order_by(InstitutionRow.code))
    return tuple(MemberChoice(row.code, row.name_zh, row.name_en) for row in rows)


def _section(
    session: Session,
    actor: Actor,
    section: Section,
    scope: Scope,
    period: Period,
    whole: Window,
    windows: list[Window],
) -> SectionFigures:
    (totals,) = section.compute(session, scope, [whole])
    trends = section.compute(session, scope, windows) if windows else []
    fill = {
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "member": scope.code if scope.kind is ScopeKind.MEMBER and scope.code else "",
    }
    values = []
    for figure in section.figures:
        link = next((each for each in figure.links if actor.can(each.permission)), None)
        path = link.path.format(**fill) if link is not None else None
        values.append(
            FigureValue(
                figure=figure,
                value=int(totals[figure.key]),
                trend=tuple(int(bucket[figure.key]) for bucket in trends),
                link=path,
            )
        )
    return SectionFigures(section, tuple(values))
