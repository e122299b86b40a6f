"""What the screening use cases return: runs with their counts, work-list items with their
reasons and actions, actions with their progress, and the figures per member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from fundwall.domain.screening import Check, Outcome, ScreeningAction
from fundwall.store.paging import Page

MAX_TARGETS: Final = 100_000
"""Accounts one action may choose: a city's work list of a check fits; more is split."""
ITEMS_PAGE: Final = 50
TARGETS_PAGE: Final = 100


@dataclass(frozen=True, slots=True)
class MemberCounts:
    """One member's part of a run: accounts screened, accounts found per check, and the
    accounts on its work list (an account found by several checks once)."""

    screened: int
    found: dict[Check, int]
    items: int


@dataclass(frozen=True, slots=True)
class RunView:
    """A run as the actor sees it: of a region run, a member sees its own part only."""

    id: int
    member: str | None
    """Whose accounts it screened; None: the whole region (the hub's run)."""
    checks: tuple[Check, ...]
    as_of: datetime
    started_at: datetime
    started_by: str
    duration_ms: int
    screened: int
    found: dict[Check, int]
    items: int
    by_member: dict[str, MemberCounts]


@dataclass(frozen=True, slots=True)
class FindingView:
    check: Check
    details: dict[str, Any]
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class TargetView:
    """How one action ended (or stands) for one account."""

    action_id: int
    action: ScreeningAction
    account_no: str
    member: str
    outcome: Outcome
    detail: str | None
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class ItemView:
    """An account of a work list: why it is there, and what was done to it since."""

    id: int
    account_no: str
    member: str
    findings: tuple[FindingView, ...]
    actions: tuple[TargetView, ...]


@dataclass(frozen=True, slots=True)
class ActionView:
    """A bulk action and its progress: outcomes counted, and one page of its accounts."""

    id: int
    run_id: int
    action: ScreeningAction
    reason: str
    member: str | None
    requested_at: datetime
    requested_by: str
    finished_at: datetime | None
    counts: dict[Outcome, int]
    targets: Page[TargetView]


@dataclass(frozen=True, slots=True)
class MemberFigures:
    """What officials publish of a member's screening in a period ("accounts screened and
    cleaned"): runs, the accounts its latest run screened, the accounts found (all checks
    and per check), and the accounts notified, cleaned (a measure done) and closed."""

    member: str
    runs: int
    screened: int
    found: int
    by_check: dict[Check, int]
    notified: int
    cleaned: int
    closed: int
