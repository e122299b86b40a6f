"""Tables of account governance (账户管理): the simplified-opening decisions.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0016. Each row is written by `fundwall.accounts.onboarding` with
an audit record; the applicant is named by the keyed hash of the ID number, never raw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR
from fundwall.store.tables import ENUM, HASH_HEX, ID, Base, SurrogateKey
from fundwall.store.types import json_type


class OnboardingDecisionRow(Base):
    """A simplified-opening decision (简易开户): its outcome, the class and tier it allowed,
    its findings (check, outcome, reason in Chinese and English) and the account opened
    with it, if one was."""

    __tablename__ = "onboarding_decisions"
    __table_args__ = (Index(None, "member", "decided_at"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID))
    applicant: Mapped[str] = mapped_column(String(ENUM))
    id_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    outcome: Mapped[str] = mapped_column(String(ENUM))
    account_class: Mapped[str | None] = mapped_column(String(ENUM))
    tier: Mapped[str | None] = mapped_column(String(ENUM))
    findings: Mapped[Any] = mapped_column(json_type())
    account_no: Mapped[str | None] = mapped_column(String(ID))
    decided_at: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
