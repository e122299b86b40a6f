"""What the tracing workflow's use cases take and return: a stored trace as the police read
it (the result, the proposed stops, each account's standing, the batch once confirmed), a
line of the traces list, and a batch stop-payment's request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fundwall.tracing.model import ProposedStop, TraceResult


class Standing(StrEnum):
    """How a traced account stands now, drawn in colour."""

    STOPPED = "stopped"
    """A stop-payment (紧急止付) is in force: nothing goes out."""
    FROZEN = "frozen"
    """A freeze (冻结) is in force."""
    OPEN = "open"
    """Money can still leave."""


@dataclass(frozen=True, slots=True)
class BatchOrder:
    """A stop-payment of a confirmed batch: its account, amount and document, and the order
    as it stands now (None once the order is no longer visible to the reader)."""

    account_no: str
    bank: str | None
    amount_fen: int
    document_no: str
    order_id: int | None
    status: str | None


@dataclass(frozen=True, slots=True)
class SkippedStop:
    """A proposed stop the batch did not issue: the account was stopped or frozen already."""

    account_no: str
    standing: Standing


@dataclass(frozen=True, slots=True)
class Batch:
    confirmed_at: datetime
    confirmed_by: str
    orders: tuple[BatchOrder, ...]
    skipped: tuple[SkippedStop, ...]


@dataclass(frozen=True, slots=True)
class TraceView:
    id: int
    police_unit: str
    max_hops: int
    created_at: datetime
    created_by: str
    result: TraceResult
    stops: tuple[ProposedStop, ...]
    standing: Mapping[str, Standing]
    batch: Batch | None


@dataclass(frozen=True, slots=True)
class TraceItem:
    """A line of the traces list."""

    id: int
    rule: str
    created_at: datetime
    starts: int
    accounts: int
    held_fen: int
    confirmed: bool
    police_unit: str


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """The officer's confirmation of a trace's proposed stops: the documents are numbered
    `<document_prefix>-01`, `-02`… in the order of the stops; `accounts` keeps only those
    (None: every proposed stop)."""

    document_prefix: str
    officers: str
    police_case_no: str
    legal_basis: str
    major_case: bool = False
    accounts: tuple[str, ...] | None = None
