"""Account-base screening (存量账户排查): accounts screened, found, and cleaned up, as the
screening workflow figures them (`fundwall.screening.queries.member_figures`)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window
from fundwall.screening.queries import member_figures

_FIGURES = (Link("/screening?since={first}&until={last}", Permission.VIEW_SCREENING),)
_KEYS = ("screened", "found", "notified", "cleaned", "closed")


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    member = scope.code if scope.kind is ScopeKind.MEMBER else None
    figures = member_figures(session, member, window.start, window.end)
    return {key: sum(getattr(line, key) for line in figures) for key in _KEYS}


SECTION = Section(
    key="screening",
    zh="存量账户排查",
    en="Accounts screened and cleaned",
    figures=(
        Figure("screened", "排查账户", "Accounts screened", Unit.COUNT, _FIGURES),
        Figure("found", "发现可疑账户", "Accounts found", Unit.COUNT, _FIGURES),
        Figure("notified", "告知持有人", "Holders notified", Unit.COUNT, _FIGURES),
        Figure("cleaned", "清理账户", "Accounts cleaned", Unit.COUNT, _FIGURES),
        Figure("closed", "销户", "Accounts closed", Unit.COUNT, _FIGURES),
    ),
    scopes=frozenset({ScopeKind.REGION, ScopeKind.MEMBER}),
    compute=each_window(_figures),
)
