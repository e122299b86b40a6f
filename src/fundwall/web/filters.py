"""The console's search forms and the alert work form, read into what the use cases take.

A search reads politely (`Params`: a bad value is shown beside the form and the search runs
without it); the alert work form strictly (InvalidInput naming the first bad field).
"""

from __future__ import annotations

from collections.abc import Mapping

from fundwall.auditing import AuditFilter
from fundwall.cases import AlertChange, AlertFilter, AlertStatus, AssigneeFilter, Disposition
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.monitoring.transactions import TxFilter
from fundwall.web.params import Params


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
