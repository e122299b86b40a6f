"""Risk information shared (风险信息共享): the entries members published to the shared risk
list, and those retracted. The hub's own listings for a member count as that member's."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window, scoped, within
from fundwall.store.engine_tables import RiskListEntryRow

_LIST = (
    Link("/share?member={member}", Permission.MANAGE_RISK_LIST),
    Link("/share?own=on", Permission.PUBLISH_RISK),
)


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    entry = RiskListEntryRow
    mine = scoped(scope, entry.reporting_member)
    shared = session.scalar(
        select(func.count())
        .select_from(entry)
        # an entry re-published under a newer sharing key is the same record, not a new one
        .where(entry.replaces.is_(None), within(entry.created_at, window), mine)
    )
    retracted = session.scalar(
        select(func.count()).select_from(entry).where(within(entry.retracted_at, window), mine)
    )
    return {"shared": int(shared or 0), "retracted": int(retracted or 0)}


SECTION = Section(
    key="sharing",
    zh="风险信息共享",
    en="Risk information shared",
    figures=(
        Figure("shared", "共享风险信息", "Risk records shared", Unit.COUNT, _LIST),
        Figure("retracted", "撤回风险信息", "Risk records retracted", Unit.COUNT, _LIST),
    ),
    scopes=frozenset({ScopeKind.REGION, ScopeKind.MEMBER}),
    compute=each_window(_figures),
)
