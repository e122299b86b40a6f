"""Appeals (异议申诉): filed in the period, by outcome, still open and overdue, as the appeals
workflow figures them (`fundwall.appeals.queries.appeal_figures`)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from fundwall.appeals.queries import appeal_figures
from fundwall.auth.roles import Permission
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window

_QUEUE = (Link("/appeals", Permission.REVIEW_APPEALS),)
_OVERDUE = (
    Link("/appeals/overdue", Permission.OVERSEE_APPEALS),
    Link("/appeals", Permission.REVIEW_APPEALS),
)
_KEYS = ("filed", "lifted", "maintained", "open", "overdue")


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    member = scope.code if scope.kind is ScopeKind.MEMBER else None
    # Overdue as of the window's end (never after now): a past period's figure does not
    # change as time goes on.
    lines = appeal_figures(session, window.start, window.end, window.end, member)
    return {key: sum(getattr(line, key) for line in lines) for key in _KEYS}


SECTION = Section(
    key="appeals",
    zh="异议申诉",
    en="Appeals",
    figures=(
        Figure("filed", "受理申诉", "Appeals filed", Unit.COUNT, _QUEUE),
        Figure("lifted", "解除管控", "Lifted", Unit.COUNT, _QUEUE),
        Figure("maintained", "维持管控", "Maintained", Unit.COUNT, _QUEUE),
        Figure("open", "办理中", "Still open", Unit.COUNT, _QUEUE),
        Figure("overdue", "超期办理", "Overdue", Unit.COUNT, _OVERDUE),
    ),
    scopes=frozenset({ScopeKind.REGION, ScopeKind.MEMBER}),
    compute=each_window(_figures),
)
