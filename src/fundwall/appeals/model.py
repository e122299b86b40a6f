"""What the appeals workflow exchanges: a measure on a person's account as the person sees
it (in plain words: why, where to appeal, what to bring), an appeal as its reader sees it,
and the figures the statistics read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AppealStatus(StrEnum):
    """Where an appeal stands."""

    OPEN = "open"
    """Filed (受理 at once: filed online is accepted); the bank reviews it."""
    AWAITING_OPINION = "awaiting_opinion"
    """The bank asked the anti-fraud centre for its opinion and awaits it."""
    DECIDED = "decided"
    """Decided: see the outcome."""


class Outcome(StrEnum):
    """How the bank ended an appeal."""

    LIFTED = "lifted"
    """The measure is lifted at once (the engine passes the next payment)."""
    MAINTAINED = "maintained"
    """The measure stays; the answer says why."""


OPEN_STATUSES = (AppealStatus.OPEN, AppealStatus.AWAITING_OPINION)


@dataclass(frozen=True, slots=True)
class Words:
    """A text in Chinese and English."""

    zh: str
    en: str

    def __call__(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class Measure:
    """A restriction in force on one of the person's accounts, as the person reads it (Art.
    32 of the Anti-Telecom and Online Fraud Law: why, where to appeal, what to bring).

    `key` names it in the portal (`r<restriction id>` or `s<account>`: the account's
    status); `appealable` is False for legal orders (stop-payment, freeze), appealed to the
    authority that issued them, not to the bank."""

    key: str
    account: str
    """The account, masked."""
    bank: str
    bank_name: Words
    kind: str
    what: Words
    why: str
    """The reason the bank stated, as it stated it (a police order's is not shown)."""
    where: Words
    bring: Words
    since: datetime | None
    until: datetime | None
    appealable: bool
    open_appeal: int | None
    """The id of the person's open appeal against it, if any."""


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    id: int
    filename: str
    media_type: str
    size_bytes: int
    sm3: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class AppealView:
    """An appeal as its reader may see it: the bank and the person see it whole but the
    police opinion (the person: never), the police unit asked sees what it needs to answer."""

    id: int
    member: str
    bank_name: Words
    account: str
    """The account, masked."""
    measure: str
    measure_kind: str
    measure_words: Words
    measure_reason: str
    reason: str
    contact: str | None
    """The contact phone, masked."""
    status: AppealStatus
    filed_at: datetime
    deadline: datetime
    overdue: bool
    """Still undecided after its deadline."""
    police_unit: str | None
    question: str | None
    asked_at: datetime | None
    opinion: str | None
    opinion_at: datetime | None
    outcome: Outcome | None
    answer: str | None
    decided_at: datetime | None
    evidence: tuple[EvidenceItem, ...]


@dataclass(frozen=True, slots=True)
class AppealFigures:
    """One member's appeals filed in a period, by outcome, and how long answers took."""

    member: str
    filed: int
    lifted: int
    maintained: int
    open: int
    overdue: int
    """Of those filed in the period, undecided past their deadline, or decided after it."""
    answered_median_hours: float | None
    answered_max_hours: float | None
