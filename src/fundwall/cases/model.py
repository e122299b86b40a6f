"""What alert work is made of: statuses, dispositions, the queue's filter, an alert as the
queue lists it, and an analyst's change to one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.domain.decisions import Action
from fundwall.domain.ownership import OWNING_SIDE, Side
from fundwall.domain.transactions import TransactionKind

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


def answering_account(
    kind: str, payer_account: str | None, payee_account: str | None
) -> tuple[str | None, str | None]:
    """The account a transaction's member answers for by it (the payer's, the payee's of a
    deposit: `fundwall.domain.ownership`), and the other side's."""
    if OWNING_SIDE[TransactionKind(kind)] is Side.PAYER:
        return payer_account, payee_account
    return payee_account, payer_account


class CaseKind(StrEnum):
    """What a case (案件) is about: one account, one holder (person), a scam type, or a
    network of accounts (a 跑分 network's mules and collectors)."""

    ACCOUNT = "account"
    PERSON = "person"
    SCAM = "scam"
    NETWORK = "network"


GROUPINGS: Final = (CaseKind.ACCOUNT, CaseKind.PERSON, CaseKind.NETWORK)
"""The kinds alerts group into by themselves; a scam case is opened by hand."""


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_ORDER: Final = tuple(Priority)
"""Priorities from the lowest to the highest."""


class Outcome(StrEnum):
    """How a case ended (结案结论): the label it gives its accounts and transactions."""

    CONFIRMED_FRAUD = "confirmed_fraud"
    MULE = "mule"
    FALSE_POSITIVE = "false_positive"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: CaseStatus | None = None
    kind: CaseKind | None = None
    assignee: AssigneeFilter = AssigneeFilter.ANYONE
    overdue: bool = False
    page: int = 1


@dataclass(frozen=True, slots=True)
class CaseItem:
    """A case as the queue lists it; `overdue` when its deadline passed and it is open."""

    id: int
    kind: CaseKind
    subject: str
    title: str
    status: CaseStatus
    priority: Priority
    assignee: str | None
    opened_at: datetime
    deadline: datetime
    overdue: bool
    alerts: int
    outcome: Outcome | None
    closed_at: datetime | None
    merged_into: int | None


@dataclass(frozen=True, slots=True)
class NoteItem:
    id: int
    body: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """An evidence file as listed (its content is read through `evidence_file`)."""

    id: int
    case_id: int
    filename: str
    media_type: str
    size_bytes: int
    sm3: str
    added_at: datetime
    added_by: str


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case with everything in it."""

    case: CaseItem
    opened_by: str
    outcome_reason: str | None
    closed_by: str | None
    alerts: tuple[AlertItem, ...]
    accounts: tuple[str, ...]
    notes: tuple[NoteItem, ...]
    evidence: tuple[EvidenceItem, ...]


@dataclass(frozen=True, slots=True)
class CaseChange:
    """An analyst's change to an open case: who works it (None: nobody) and its priority."""

    assignee: str | None
    priority: Priority


def connected_groups(nodes: Iterable[str], links: Iterable[tuple[str, str]]) -> list[set[str]]:
    """The connected groups of `nodes` (accounts) joined by `links` (transfers between two of
    them), each node in exactly one group; groups in the order of their smallest node."""
    parent = {node: node for node in nodes}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for one, other in links:
        first, second = sorted((root(one), root(other)))
        parent[second] = first
    groups: dict[str, set[str]] = defaultdict(set)
    for node in parent:
        groups[root(node)].add(node)
    return sorted(groups.values(), key=min)
