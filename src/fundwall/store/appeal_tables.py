"""Tables of appeals (异议申诉): a person's appeal against a bank's measure on one of their
accounts, its evidence files, and the anti-fraud centre's opinion when the bank asks.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0019. Every row is written by a use case of the `appeals`
workflow together with an audit record; lifting a measure goes through the accounts
workflow's writers (the engine's doors) in the same transaction as the decision.

The person is named by the keyed hash of their ID number (`person_hash`), never the number;
the contact phone and the evidence files are stored SM4-GCM encrypted. `open_key` names the
measure appealed while the appeal is open and is NULL once decided: a unique index on it
(NULLs are distinct on both databases) keeps one open appeal per measure, even when two
requests race.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR
from fundwall.store.police_tables import FILENAME, MEDIA_TYPE
from fundwall.store.tables import ENUM, HASH_HEX, ID, Base, SurrogateKey

MEASURE_KEY = 80


class AppealRow(Base):
    """One appeal: whose (`person_hash`, `party_id`), against which measure (`measure`: a
    restriction's id or an account's status) of which account at which bank (`member`), why,
    until when the bank must answer (`deadline`), the opinion asked of a police unit, and how
    it ended (`outcome`: lifted or maintained) with the answer to the person."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index(None, "member", "status"),
        Index(None, "police_unit", "status"),
    )

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    party_id: Mapped[str] = mapped_column(String(ID), ForeignKey("parties.party_id"))
    person_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    measure: Mapped[str] = mapped_column(String(MEASURE_KEY))
    measure_kind: Mapped[str] = mapped_column(String(ENUM))
    measure_reason: Mapped[str] = mapped_column(Text)
    open_key: Mapped[str | None] = mapped_column(String(MEASURE_KEY), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(ENUM))
    filed_at: Mapped[datetime] = mapped_column(index=True)
    filed_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    deadline: Mapped[datetime] = mapped_column(index=True)
    police_unit: Mapped[str | None] = mapped_column(String(ID), ForeignKey("institutions.code"))
    question: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime | None]
    asked_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    opinion: Mapped[str | None] = mapped_column(Text)
    opinion_at: Mapped[datetime | None]
    opinion_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    outcome: Mapped[str | None] = mapped_column(String(ENUM))
    answer: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger)


class AppealEvidenceRow(Base):
    """A file sent with an appeal: its name, type, size, the SM3 digest of its content and the
    content SM4-GCM encrypted."""

    __tablename__ = "appeal_evidence"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    appeal_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("appeals.id"), index=True)
    filename: Mapped[str] = mapped_column(String(FILENAME))
    media_type: Mapped[str] = mapped_column(String(MEDIA_TYPE))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sm3: Mapped[str] = mapped_column(String(HASH_HEX))
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime]


class PortalCodeRow(Base):
    """A one-time code the portal sent to the phones bound to a person's accounts: for whom
    (`person_hash`), the code's keyed hash (never the code), until when it is good, how many
    wrong entries it took, and when it was used or spent (None while it is good)."""

    __tablename__ = "portal_codes"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    person_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    code_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[datetime | None]
