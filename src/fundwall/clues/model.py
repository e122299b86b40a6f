"""What clue transfer (线索移送) is made of: the police's answer, the inbox and outbox filter,
a clue as the lists show it, and a clue's package as the police (or the sending bank) see it.

The limits bound what a bank may put in one clue: a clue is a package an officer reads, not
an export of the member's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from fundwall.domain.parties import PartyKind
from fundwall.domain.police import ClueStatus
from fundwall.monitoring.transactions import TxItem

SUMMARY_MIN: Final = 10
SUMMARY_MAX: Final = 4000
"""The analyst's summary: a few sentences at least, a page at most."""
MAX_ACCOUNTS: Final = 100
MAX_TRANSACTIONS: Final = 1000
MAX_EVIDENCE: Final = 50
MAX_RECOVERED_FEN: Final = 10**15
MAX_SUSPECTS: Final = 100_000

ANSWERS: Final[dict[ClueStatus, frozenset[ClueStatus]]] = {
    ClueStatus.RECEIVED: frozenset({ClueStatus.SENT}),
    ClueStatus.ACCEPTED: frozenset({ClueStatus.SENT, ClueStatus.RECEIVED}),
    ClueStatus.REJECTED: frozenset({ClueStatus.SENT, ClueStatus.RECEIVED}),
    ClueStatus.RESULT: frozenset({ClueStatus.ACCEPTED}),
}
"""Each answer of the police and the statuses it may follow; anything else is a Conflict."""


@dataclass(frozen=True, slots=True)
class ClueAnswer:
    """What the police answer: received; accepted with their case number; rejected with a
    reason; or a result (suspects caught, money recovered in fen) of an accepted clue."""

    status: ClueStatus
    police_case_no: str | None = None
    reason: str | None = None
    suspects_caught: int | None = None
    recovered_fen: int | None = None


@dataclass(frozen=True, slots=True)
class ClueFilter:
    """Which clues a list shows: in a status, sent from `sent_from` until before `sent_until`;
    a page of them."""

    status: ClueStatus | None = None
    page: int = 1
    sent_from: datetime | None = None
    sent_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClueItem:
    """A clue as the inbox and outbox list it."""

    clue_id: int
    case_id: int
    member: str
    police_unit: str
    status: ClueStatus
    accounts: int
    sent_at: datetime
    updated_at: datetime
    police_case_no: str | None


@dataclass(frozen=True, slots=True)
class ClueHolder:
    """An account's holder in full, as the police unit a clue was sent to may read it."""

    party_id: str
    kind: PartyKind
    name: str
    id_number: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class ClueAccount:
    """An account of the package: its number in full, the institution holding it (None
    outside the region), and its holder when the sending member holds it (for the police)."""

    account_no: str
    institution: str | None
    holder: ClueHolder | None = None


@dataclass(frozen=True, slots=True)
class ClueEvidence:
    """An evidence file of the package (its content is read with `clue_evidence`)."""

    evidence_id: int
    filename: str
    media_type: str
    size_bytes: int
    sm3: str
    added_at: datetime
    added_by: str


@dataclass(frozen=True, slots=True)
class ClueEvent:
    """One step of the clue's history: sent, or an answer of the police."""

    status: ClueStatus
    at: datetime
    actor: str
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class ClueView:
    """A clue with its package and its history, oldest step first."""

    item: ClueItem
    summary: str
    reason: str | None
    suspects_caught: int | None
    recovered_fen: int | None
    sent_by: str
    accounts: tuple[ClueAccount, ...]
    transactions: tuple[TxItem, ...]
    """Without decisions: those are the banks' own."""
    evidence: tuple[ClueEvidence, ...]
    history: tuple[ClueEvent, ...]
    answers: tuple[ClueStatus, ...] = field(default=())
    """The answers the police may give next (empty for the sending bank)."""


@dataclass(frozen=True, slots=True)
class ClueCounts:
    """The hub's view: how many clues are in each status, in all and member by member."""

    by_status: dict[ClueStatus, int]
    by_member: dict[str, dict[ClueStatus, int]]
