"""Police orders executed (止付冻结): emergency stop-payments and freezes the banks carried
out with the amounts they held, and the police cases the banks assisted with any order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from fundwall.auth.roles import Permission
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window, numbers, scoped, within
from fundwall.store.police_tables import PoliceOrderRow


def _link(kind: OrderKind | None) -> tuple[Link, ...]:
    of_kind = f"kind={kind.value}&" if kind is not None else ""
    answered = "answered_from={first}&answered_to={last}"
    return (Link(f"/orders?{of_kind}{answered}", Permission.VIEW_CUSTOMER_DATA),)


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    order = PoliceOrderRow

    def of(
        kind: OrderKind, value: ColumnElement[Any] | InstrumentedAttribute[Any]
    ) -> ColumnElement[Any]:
        return case((order.kind == kind.value, value))

    row = session.execute(
        select(
            func.count(of(OrderKind.STOP_PAYMENT, order.id)),
            func.sum(of(OrderKind.STOP_PAYMENT, order.held_fen)),
            func.count(of(OrderKind.FREEZE, order.id)),
            func.sum(of(OrderKind.FREEZE, order.held_fen)),
            func.count(distinct(order.police_case_no)),
        ).where(
            # executed: answered and not refused (it may have expired or been released since)
            order.answered_at.is_not(None),
            order.status != OrderStatus.REFUSED.value,
            within(order.answered_at, window),
            scoped(scope, order.bank_code, order.police_unit),
        )
    ).one()
    return numbers(row, ("stop_payments", "stop_paid_fen", "freezes", "frozen_fen", "police_cases"))


SECTION = Section(
    key="orders",
    zh="紧急止付与冻结",
    en="Stop-payments and freezes",
    figures=(
        Figure(
            "stop_payments",
            "紧急止付",
            "Stop-payments executed",
            Unit.COUNT,
            _link(OrderKind.STOP_PAYMENT),
        ),
        Figure(
            "stop_paid_fen",
            "止付金额",
            "Amount stop-paid",
            Unit.FEN,
            _link(OrderKind.STOP_PAYMENT),
        ),
        Figure("freezes", "冻结", "Freezes executed", Unit.COUNT, _link(OrderKind.FREEZE)),
        Figure("frozen_fen", "冻结金额", "Amount frozen", Unit.FEN, _link(OrderKind.FREEZE)),
        Figure(
            "police_cases", "协助公安办理案件", "Police cases assisted", Unit.COUNT, _link(None)
        ),
    ),
    scopes=frozenset(ScopeKind),
    compute=each_window(_figures),
)
