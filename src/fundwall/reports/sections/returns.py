"""The return of frozen money (资金返还): what the banks paid back to victims under approved
return plans, and the plans approved."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window, numbers, scoped, within
from fundwall.store.return_tables import ReturnAllocationRow, ReturnPlanRow

_PLANS = (Link("/returns", Permission.VIEW_CUSTOMER_DATA),)


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    plan, share = ReturnPlanRow, ReturnAllocationRow
    mine = scoped(scope, plan.bank_code, plan.police_unit)
    paid = session.execute(
        select(func.sum(share.amount_fen), func.count())
        .select_from(share)
        .join(plan, plan.id == share.plan_id)
        .where(share.executed_at.is_not(None), within(share.executed_at, window), mine)
    ).one()
    approved = session.scalar(
        select(func.count()).select_from(plan).where(within(plan.approved_at, window), mine)
    )
    return {**numbers(paid, ("returned_fen", "victims_paid")), "plans_approved": int(approved or 0)}


SECTION = Section(
    key="returns",
    zh="资金返还",
    en="Money returned to victims",
    figures=(
        Figure("returned_fen", "返还被害人资金", "Amount returned", Unit.FEN, _PLANS),
        Figure("victims_paid", "返还笔数", "Returns paid to victims", Unit.COUNT, _PLANS),
        Figure("plans_approved", "批准返还方案", "Return plans approved", Unit.COUNT, _PLANS),
    ),
    scopes=frozenset(ScopeKind),
    compute=each_window(_figures),
)
