"""Tables of account-base screening (存量账户排查): runs, their work lists with the findings
per account, the bulk actions taken on chosen accounts with each account's outcome, and the
notices written to holders.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0017. Every row is written by a use case of the `screening`
workflow together with an audit record. An action changes an account only through the
accounts workflow's use cases (statuses and restrictions, the engine's doors); these rows
keep what was asked, and how it ended for each account. A run's `member` is None for a
whole-region run, the hub's; each item names the member holding its account, so a member
reads its own part of any run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR, REASON
from fundwall.store.tables import ENUM, ID, Base, SurrogateKey
from fundwall.store.types import json_type


class ScreeningRunRow(Base):
    """One screening run: which checks, over whose accounts (`member`; None: the whole
    region), as of when, how long it took, and how many accounts of each member it screened
    (`screened`: member code → accounts)."""

    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str | None] = mapped_column(
        String(ID), ForeignKey("institutions.code"), index=True
    )
    checks: Mapped[list[str]] = mapped_column(json_type())
    as_of: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(index=True)
    started_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    duration_ms: Mapped[int] = mapped_column(Integer)
    screened: Mapped[dict[str, int]] = mapped_column(json_type())
    revision: Mapped[int] = mapped_column(BigInteger)


class ScreeningItemRow(Base):
    """An account on a run's work list (one per account and run), held by `member`."""

    __tablename__ = "screening_items"
    __table_args__ = (
        Index(None, "run_id", "account_no", unique=True),
        Index(None, "run_id", "member"),
    )

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("screening_runs.id"))
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    party_id: Mapped[str] = mapped_column(String(ID), ForeignKey("parties.party_id"))


class ScreeningFindingRow(Base):
    """Why an item is on the list: one check it failed and the figures of the reason
    (`details`, rendered in Chinese and English when read)."""

    __tablename__ = "screening_findings"
    __table_args__ = (Index(None, "run_id", "check"),)

    item_id: Mapped[int] = mapped_column(
        SurrogateKey, ForeignKey("screening_items.id"), primary_key=True
    )
    check: Mapped[str] = mapped_column(String(ENUM), primary_key=True)
    run_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("screening_runs.id"))
    details: Mapped[dict[str, Any]] = mapped_column(json_type())


class ScreeningActionRow(Base):
    """A bulk action on chosen items of a run: what, why, by whom (for `member`; None: the
    operator) and when it finished (None while accounts are pending)."""

    __tablename__ = "screening_actions"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("screening_runs.id"), index=True)
    member: Mapped[str | None] = mapped_column(String(ID), index=True)
    action: Mapped[str] = mapped_column(String(ENUM))
    reason: Mapped[str] = mapped_column(String(REASON))
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    finished_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(BigInteger)


class ScreeningTargetRow(Base):
    """One account of an action and how it ended: pending, done, refused or failed, with the
    reason (`detail`), the restriction it put in force (a restrict action) and when."""

    __tablename__ = "screening_targets"
    __table_args__ = (Index(None, "action_id", "outcome"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("screening_actions.id"))
    item_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("screening_items.id"), index=True)
    member: Mapped[str] = mapped_column(String(ID))
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    outcome: Mapped[str] = mapped_column(String(ENUM))
    detail: Mapped[str | None] = mapped_column(String(REASON))
    restriction_id: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None]


class HolderNoticeRow(Base):
    """A notice to an account's holder (no SMS is sent from here): the text the holder
    receives, in Chinese and English, saying why, what was done and where to appeal."""

    __tablename__ = "holder_notices"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    party_id: Mapped[str] = mapped_column(String(ID), ForeignKey("parties.party_id"))
    target_id: Mapped[int | None] = mapped_column(
        SurrogateKey, ForeignKey("screening_targets.id"), index=True
    )
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
