"""Simplified account opening (简易开户): the decisions made and the accounts opened for
flexible workers and micro-firms."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from fundwall.accounts.onboarding import Applicant
from fundwall.auth.roles import Permission
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window, numbers, scoped, within
from fundwall.store.governance_tables import OnboardingDecisionRow

_PAGE = (Link("/onboarding", Permission.ONBOARD_CUSTOMERS),)


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    decision = OnboardingDecisionRow
    opened = decision.account_no.is_not(None)

    def opened_for(applicant: Applicant) -> ColumnElement[int]:
        return func.count(case((opened & (decision.applicant == applicant.value), decision.id)))

    row = session.execute(
        select(
            func.count(),
            func.count(case((opened, decision.id))),
            opened_for(Applicant.FLEXIBLE_WORKER),
            opened_for(Applicant.MICRO_FIRM),
        ).where(within(decision.decided_at, window), scoped(scope, decision.member))
    ).one()
    return numbers(row, ("decisions", "opened", "opened_workers", "opened_firms"))


SECTION = Section(
    key="onboarding",
    zh="简易开户",
    en="Simplified account opening",
    figures=(
        Figure("decisions", "简易开户申请", "Applications decided", Unit.COUNT, _PAGE),
        Figure("opened", "开立账户", "Accounts opened", Unit.COUNT, _PAGE),
        Figure(
            "opened_workers", "灵活就业人员账户", "Accounts for flexible workers", Unit.COUNT, _PAGE
        ),
        Figure("opened_firms", "小微企业基本户", "Micro-firms' basic accounts", Unit.COUNT, _PAGE),
    ),
    scopes=frozenset({ScopeKind.REGION, ScopeKind.MEMBER}),
    compute=each_window(_figures),
)
