"""Tables of the sharing hub (信息共享): the risk list's change history (the feed members
poll), the regional sharing key versions, and members' publishing suspensions.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0012. The entries themselves are `risk_list_entries`
(`fundwall.store.engine_tables`), the engine's door. Every row is written by a use case of
`fundwall.sharing` with an audit record; `revision` is that record's sequence number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR, REASON
from fundwall.store.tables import ENUM, ID, Base, SurrogateKey


class RiskListEventRow(Base):
    """One change of a risk list entry: `published` or `retracted`. Its id is the feed's
    cursor: a member's system asks for the events after the last id it read."""

    __tablename__ = "risk_list_events"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, index=True)
    event: Mapped[str] = mapped_column(String(ENUM))
    at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(BigInteger)


class ShareKeyRow(Base):
    """A version of the regional sharing key. Its material is a file under the keys
    directory (`fundwall.crypto.SharingKeys`); this row says it exists and whether the hub
    still accepts hashes made with it (not once `retired_at` is set)."""

    __tablename__ = "share_keys"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class PublishingSuspensionRow(Base):
    """The hub suspended a member's publishing to the risk list, until lifted."""

    __tablename__ = "publishing_suspensions"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), index=True)
    reason: Mapped[str] = mapped_column(String(REASON))
    suspended_at: Mapped[datetime]
    suspended_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    lift_reason: Mapped[str | None] = mapped_column(String(REASON))
