"""What alert work is made of: statuses, dispositions, the queue's filter, an alert as the
queue lists it, and an analyst's change to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.domain.decisions import Action

ALERT_ACTIONS: Final = (Action.ALERT, Action.WARN, Action.DELAY, Action.BLOCK)
"""The live decisions that raise an alert."""


class AlertStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Disposition(StrEnum):
    """How an analyst closed an alert (处置结论)."""

    CONFIRMED_FRAUD = "confirmed_fraud"
    MULE_ACCOUNT = "mule_account"
    CUSTOMER_WARNED = "customer_warned"
    REFERRED_TO_POLICE = "referred_to_police"
    FALSE_POSITIVE = "false_positive"


class AssigneeFilter(StrEnum):
    ANYONE = "anyone"
    ME = "me"
    NOBODY = "nobody"


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: AlertStatus | None = None
    action: Action | None = None
    assignee: AssigneeFilter = AssigneeFilter.ANYONE
    page: int = 1


@dataclass(frozen=True, slots=True)
class AlertItem:
    tx_id: str
    ts: datetime
    payer_account: str | None
    payee_account: str | None
    payee_bank: str | None
    amount_fen: int
    action: Action
    score: int
    top_rule: str | None
    status: AlertStatus
    assignee: str | None
    disposition: Disposition | None
    note: str | None


@dataclass(frozen=True, slots=True)
class AlertChange:
    """What an analyst does to an alert: give it to someone (or nobody), set its status,
    and when closing, a disposition and an optional note."""

    assignee: str | None
    status: AlertStatus
    disposition: Disposition | None = None
    note: str | None = None
