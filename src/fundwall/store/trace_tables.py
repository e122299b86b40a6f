"""The funds-chain traces (资金链查控) the police ran: where each started, by which rule, as of
when, what it found (the `TraceResult` as JSON), and its batch stop-payment once confirmed.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0008. Written by the `tracing` workflow's use cases with an audit
record. The batch names its orders by document number (unique in `police_orders`): the
trace's confirmation is written in the same commit as the orders, before their ids exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.police_tables import AUDIT_ACTOR
from fundwall.store.tables import ENUM, ID, Base, SurrogateKey
from fundwall.store.types import json_type


class TraceRow(Base):
    """A trace of a police unit. `starts` and `result` are JSON (`fundwall.tracing.stored`);
    `batch` holds the confirmed batch: the orders by document number and the accounts
    skipped (stopped or frozen already), null until confirmed."""

    __tablename__ = "traces"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    police_unit: Mapped[str] = mapped_column(String(ID), index=True)
    rule: Mapped[str] = mapped_column(String(ENUM))
    max_hops: Mapped[int] = mapped_column(Integer)
    starts: Mapped[list[Any]] = mapped_column(json_type())
    as_of: Mapped[datetime]
    result: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    batch_confirmed_at: Mapped[datetime | None]
    batch_confirmed_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    batch: Mapped[dict[str, Any] | None] = mapped_column(json_type())
