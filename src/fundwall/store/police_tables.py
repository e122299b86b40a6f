"""Tables of the bank–police collaboration (银警协作): the banks' cases with their alerts,
accounts, notes and evidence; the clues sent from a case to a police unit (线索移送); and the
police orders (公安指令) with their answers and history.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0006. Every row is written by a use case of the `cases`, `clues`
or `police` workflow together with an audit record. An order that restricts an account does
so through `account_restrictions` (its `restriction_id`), the engine's one door for
restrictions; the order row is the legal side of it (document, officers, timers, answer).

Evidence files are stored SM4-GCM encrypted (`content_enc`) with their SM3 digest beside;
personal data never appears in these tables in clear: a clue's package names accounts,
transactions and evidence by their keys, and the holder is read through the police scope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.tables import ENUM, HASH_HEX, ID, Base, SurrogateKey
from fundwall.store.types import json_type

AUDIT_ACTOR = 128
TITLE = 200
REASON = 500
FILENAME = 255
MEDIA_TYPE = 100
OFFICERS = 200


class CaseRow(Base):
    """A member's case (案件): alerts grouped by account, person, scam or network, worked in
    the member's queue until closed with an outcome.

    `subject` is what the alerts were grouped by (an account number, a holder's party id, a
    scam type, a network's id); `merged_into` points at the case this one was merged into
    (it is then closed without an outcome of its own).
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member_code: Mapped[str] = mapped_column(String(ID), index=True)
    kind: Mapped[str] = mapped_column(String(ENUM))
    subject: Mapped[str] = mapped_column(String(ID))
    title: Mapped[str] = mapped_column(String(TITLE))
    status: Mapped[str] = mapped_column(String(ENUM), index=True)
    priority: Mapped[str] = mapped_column(String(ENUM))
    assignee_id: Mapped[int | None] = mapped_column(
        SurrogateKey, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    deadline: Mapped[datetime] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(ENUM))
    outcome_reason: Mapped[str | None] = mapped_column(String(REASON))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    merged_into: Mapped[int | None] = mapped_column(SurrogateKey, ForeignKey("cases.id"))
    updated_at: Mapped[datetime]


class CaseAlertRow(Base):
    """An alert (the live decision on `tx_id`) in a case; an alert is in one case at most."""

    __tablename__ = "case_alerts"

    tx_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    case_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("cases.id"), index=True)
    added_at: Mapped[datetime]


class CaseAccountRow(Base):
    """An account a case is about (a network case: its mules and collectors)."""

    __tablename__ = "case_accounts"

    case_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("cases.id"), primary_key=True)
    account_no: Mapped[str] = mapped_column(String(ID), primary_key=True, index=True)


class CaseNoteRow(Base):
    """An analyst's note on a case (案件备注)."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("cases.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))


class CaseEvidenceRow(Base):
    """An evidence file of a case (证据材料): SM4-GCM encrypted, with its SM3 digest."""

    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(FILENAME))
    media_type: Mapped[str] = mapped_column(String(MEDIA_TYPE))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sm3: Mapped[str] = mapped_column(String(HASH_HEX))
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))


class ClueRow(Base):
    """A clue (线索) a member sent from a case to a police unit, and the unit's answer.

    `package` is what was sent, by key: accounts, transaction ids, evidence ids; the summary is
    the analyst's. `status` is the latest answer (sent, received, accepted, rejected, result).
    """

    __tablename__ = "clues"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("cases.id"), index=True)
    member_code: Mapped[str] = mapped_column(String(ID), index=True)
    police_unit: Mapped[str] = mapped_column(String(ID), index=True)
    summary: Mapped[str] = mapped_column(Text)
    package: Mapped[dict[str, Any]] = mapped_column(json_type())
    status: Mapped[str] = mapped_column(String(ENUM), index=True)
    police_case_no: Mapped[str | None] = mapped_column(String(ID))
    reason: Mapped[str | None] = mapped_column(String(REASON))
    suspects_caught: Mapped[int | None] = mapped_column(Integer)
    recovered_fen: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime]
    sent_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    updated_at: Mapped[datetime]


class ClueAccountRow(Base):
    """An account a clue names: what an accepted clue opens to its police unit's scope."""

    __tablename__ = "clue_accounts"

    clue_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("clues.id"), primary_key=True)
    account_no: Mapped[str] = mapped_column(String(ID), primary_key=True, index=True)


class ClueEventRow(Base):
    """One step of a clue's history: sent, or an answer of the police, with who and when."""

    __tablename__ = "clue_events"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    clue_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("clues.id"), index=True)
    status: Mapped[str] = mapped_column(String(ENUM))
    detail: Mapped[dict[str, Any]] = mapped_column(json_type())
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(AUDIT_ACTOR))


class PoliceOrderRow(Base):
    """A police order (公安指令) with its legal document, routed to the bank holding the
    account, and the bank's answer.

    Kinds: account query, stop-payment (紧急止付), freeze (冻结), renewal and release; a
    renewal or release refers to the order it renews or ends (`target_order_id`). A
    stop-payment or freeze restricts the account through `restriction_id` from `starts_at` to
    `ends_at`; `renewals` counts the renewals it has had. `status` is where the order is in
    its life (issued, executed, refused, expired, released); `answer` holds what the bank
    returned to a query (holder, balance, transactions of the period).
    """

    __tablename__ = "police_orders"
    __table_args__ = (CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    document_no: Mapped[str] = mapped_column(String(ID), unique=True)
    kind: Mapped[str] = mapped_column(String(ENUM))
    police_unit: Mapped[str] = mapped_column(String(ID), index=True)
    officers: Mapped[str] = mapped_column(String(OFFICERS))
    police_case_no: Mapped[str] = mapped_column(String(ID))
    legal_basis: Mapped[str] = mapped_column(String(REASON))
    major_case: Mapped[bool] = mapped_column(Boolean, default=False)
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    bank_code: Mapped[str] = mapped_column(String(ID), index=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    period_from: Mapped[datetime | None]
    period_to: Mapped[datetime | None]
    target_order_id: Mapped[int | None] = mapped_column(
        SurrogateKey, ForeignKey("police_orders.id"), index=True
    )
    restriction_id: Mapped[int | None] = mapped_column(SurrogateKey)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None] = mapped_column(index=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(ENUM), index=True)
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    held_fen: Mapped[int | None] = mapped_column(BigInteger)
    refusal_reason: Mapped[str | None] = mapped_column(String(REASON))
    answer: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    ended_at: Mapped[datetime | None]


class OrderEventRow(Base):
    """One step of an order's life (issued, executed, refused, renewed, expired, released),
    with who and when: the history both sides see."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("police_orders.id"), index=True)
    event: Mapped[str] = mapped_column(String(ENUM))
    detail: Mapped[dict[str, Any]] = mapped_column(json_type())
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
