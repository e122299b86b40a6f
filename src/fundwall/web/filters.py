"""The console's search forms and the alert and case work forms, read into what the use
cases take.

A search reads politely (`Params`: a bad value is shown beside the form and the search runs
without it); the alert work form strictly (InvalidInput naming the first bad field).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from fundwall.auditing import AuditFilter
from fundwall.cases import (
    AlertChange,
    AlertFilter,
    AlertStatus,
    AssigneeFilter,
    CaseChange,
    CaseFilter,
    CaseKind,
    CaseStatus,
    Disposition,
    Outcome,
    Priority,
)
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.monitoring.transactions import TxFilter
from fundwall.web.params import Params

E = TypeVar("E", bound=StrEnum)


def tx_filter(params: Params) -> TxFilter:
    return TxFilter(
        account=params.text("account"),
        start=params.moment("from"),
        end=params.moment("to", end_of_day=True),
        min_fen=params.money_fen("min"),
        max_fen=params.money_fen("max"),
        action=params.choice("action", Action),
        page=params.page(),
    )


def alert_filter(params: Params) -> AlertFilter:
    return AlertFilter(
        status=params.choice("status", AlertStatus),
        action=params.choice("action", Action),
        assignee=params.choice("assignee", AssigneeFilter) or AssigneeFilter.ANYONE,
        page=params.page(),
    )


def audit_filter(params: Params) -> AuditFilter:
    return AuditFilter(
        actor=params.text("actor", 128),
        action=params.text("action"),
        subject=params.text("subject", 256),
        start=params.moment("from"),
        end=params.moment("to", end_of_day=True),
        page=params.page(),
    )


def alert_change(form: Mapping[str, str]) -> AlertChange:
    """From the alert work form's fields; InvalidInput naming the first bad field."""
    params = Params(form)
    status = params.choice("status", AlertStatus)
    disposition = params.choice("disposition", Disposition)
    if params.problems:
        raise params.problems[0].error()
    if status is None:
        raise InvalidInput("choose a status", "status")
    note = form.get("note", "").strip() or None
    return AlertChange(form.get("assignee", "").strip() or None, status, disposition, note)


def case_filter(params: Params) -> CaseFilter:
    return CaseFilter(
        status=params.choice("status", CaseStatus),
        kind=params.choice("kind", CaseKind),
        assignee=params.choice("assignee", AssigneeFilter) or AssigneeFilter.ANYONE,
        overdue=params.text("overdue") == "1",
        page=params.page(),
    )


def _strict(form: Mapping[str, str], name: str, kind: type[E]) -> E:
    """The choice `name` of the form, required; InvalidInput naming the field."""
    params = Params(form)
    value = params.choice(name, kind)
    if params.problems:
        raise params.problems[0].error()
    if value is None:
        raise InvalidInput("choose one", name)
    return value


def case_change(form: Mapping[str, str]) -> CaseChange:
    return CaseChange(form.get("assignee", "").strip() or None, _strict(form, "priority", Priority))


def case_outcome(form: Mapping[str, str]) -> tuple[Outcome, str]:
    return _strict(form, "outcome", Outcome), form.get("reason", "").strip()


def grouping(form: Mapping[str, str]) -> CaseKind:
    return _strict(form, "by", CaseKind)


def case_number(form: Mapping[str, str], name: str) -> int:
    text = form.get(name, "").strip().lstrip("#")
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput("give a case number", name)
    return int(text)


def chosen(form: Mapping[str, str], prefix: str) -> list[str]:
    """The values of the ticked boxes named `prefix:value` (a split's alerts and accounts)."""
    return [name.removeprefix(prefix) for name in form if name.startswith(prefix)]
