"""Tables of the return of frozen money (资金返还): return plans on a freeze order, the
victims' shares, and the objections raised during a plan's public notice.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0007. Every row is written by a use case of the `fund_returns`
workflow together with an audit record. Victims are named by the account the money goes back
to (an account number, as every table here names accounts); no names or ID numbers are kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.police_tables import AUDIT_ACTOR, REASON
from fundwall.store.tables import ENUM, ID, Base, SurrogateKey


class ReturnPlanRow(Base):
    """A return plan (资金返还方案): what a police unit returns from one freeze order's
    frozen money, and where the plan is in its life (draft, published for objections,
    approved, executing, executed).

    `frozen_fen` is the amount the plan shares (at most what the freeze still holds),
    `returned_fen` what the shares add up to, `residual_fen` what stays frozen.
    `objection_ends_at` is the end of the public notice; `execute_by` the bank's deadline,
    working days after approval.
    """

    __tablename__ = "return_plans"
    __table_args__ = (
        CheckConstraint(
            "frozen_fen >= 0 AND returned_fen >= 0 AND residual_fen >= 0", name="amounts"
        ),
    )

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    police_unit: Mapped[str] = mapped_column(String(ID), index=True)
    order_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("police_orders.id"), index=True)
    account_no: Mapped[str] = mapped_column(String(ID))
    bank_code: Mapped[str] = mapped_column(String(ID), index=True)
    method: Mapped[str] = mapped_column(String(ENUM))
    frozen_fen: Mapped[int] = mapped_column(BigInteger)
    returned_fen: Mapped[int] = mapped_column(BigInteger)
    residual_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(ENUM), index=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    objection_ends_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    execute_by: Mapped[datetime | None]
    executed_at: Mapped[datetime | None]


class ReturnAllocationRow(Base):
    """One victim's share of a plan, and the bank's transfer back (its reference, when, who)."""

    __tablename__ = "return_allocations"
    __table_args__ = (
        UniqueConstraint("plan_id", "victim_account"),
        CheckConstraint("loss_fen > 0 AND amount_fen >= 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("return_plans.id"), index=True)
    victim_account: Mapped[str] = mapped_column(String(ID))
    loss_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    executed_at: Mapped[datetime | None]
    executed_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    transfer_ref: Mapped[str | None] = mapped_column(String(ID))


class ReturnObjectionRow(Base):
    """An objection (异议) to a published plan, recorded by the unit or the holding bank on
    behalf of whoever raised it, and its decision: upheld (the plan goes back to draft) or
    dismissed, with a reason."""

    __tablename__ = "return_objections"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(SurrogateKey, ForeignKey("return_plans.id"), index=True)
    objector: Mapped[str] = mapped_column(String(ENUM))
    objector_account: Mapped[str | None] = mapped_column(String(ID))
    text: Mapped[str] = mapped_column(String(REASON))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    decision: Mapped[str | None] = mapped_column(String(ENUM))
    decision_reason: Mapped[str | None] = mapped_column(String(REASON))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
