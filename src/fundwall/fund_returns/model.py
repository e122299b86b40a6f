"""What a return of frozen money (资金返还) is made of: a plan's life, the officer's draft,
an objection and its decision, the bank's transfer back, and a plan as pages show it.

The sharing rule itself is `fundwall.fund_returns.allocation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from fundwall.fund_returns.allocation import AllocationMethod, VictimLoss


class PlanStatus(StrEnum):
    DRAFT = "draft"
    """Being drawn up (or back after an objection was upheld); shares may change."""
    PUBLISHED = "published"
    """Published: the objection period (公示期) runs until `objection_ends_at`."""
    APPROVED = "approved"
    """Approved after the objection period; the bank executes within its working days."""
    EXECUTING = "executing"
    """The bank has made some of the transfers back."""
    EXECUTED = "executed"
    """Every share has gone back; the residual stays frozen."""


ACTIVE_STATUSES = (
    PlanStatus.DRAFT,
    PlanStatus.PUBLISHED,
    PlanStatus.APPROVED,
    PlanStatus.EXECUTING,
)
"""A freeze has one plan in these at a time; a new round starts after it is executed."""


class Objector(StrEnum):
    """Who raised an objection (异议人), recorded without a name."""

    VICTIM = "victim"
    ACCOUNT_HOLDER = "account_holder"
    """The holder of the frozen account."""
    OTHER = "other"


class ObjectionDecision(StrEnum):
    UPHELD = "upheld"
    """成立: the plan goes back to draft to be amended and published again."""
    DISMISSED = "dismissed"
    """不成立: the plan stands."""


@dataclass(frozen=True, slots=True)
class PlanDraft:
    """What an officer drafts: the freeze order the money is frozen by, the victims with
    their traced losses in it, and optionally the part of the frozen money to share (None:
    all the freeze still holds)."""

    order_id: int
    victims: tuple[VictimLoss, ...]
    amount_fen: int | None = None


@dataclass(frozen=True, slots=True)
class ObjectionIn:
    """An objection as the unit or the bank records it: who raised it (and their account,
    if they named one) and what it says (no ID or phone number in the clear)."""

    objector: Objector
    text: str
    objector_account: str | None = None


@dataclass(frozen=True, slots=True)
class AllocationView:
    id: int
    victim_account: str
    loss_fen: int
    amount_fen: int
    executed_at: datetime | None
    executed_by: str | None
    transfer_ref: str | None


@dataclass(frozen=True, slots=True)
class ObjectionView:
    id: int
    objector: Objector
    objector_account: str | None
    text: str
    recorded_at: datetime
    recorded_by: str
    decision: ObjectionDecision | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by: str | None


@dataclass(frozen=True, slots=True)
class PlanItem:
    """A plan as lists show it; `objection_seconds` is the objection period left by the
    server's clock (None unless published)."""

    id: int
    police_unit: str
    order_id: int
    document_no: str
    account_no: str
    bank_code: str
    method: AllocationMethod
    frozen_fen: int
    returned_fen: int
    residual_fen: int
    status: PlanStatus
    created_at: datetime
    objection_ends_at: datetime | None
    objection_seconds: int | None
    execute_by: datetime | None


@dataclass(frozen=True, slots=True)
class PlanView:
    """A plan in full: its shares in the order drafted and its objections, oldest first."""

    item: PlanItem
    created_by: str
    published_at: datetime | None
    approved_at: datetime | None
    approved_by: str | None
    executed_at: datetime | None
    allocations: tuple[AllocationView, ...] = field(default=())
    objections: tuple[ObjectionView, ...] = field(default=())

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def status(self) -> PlanStatus:
        return self.item.status
