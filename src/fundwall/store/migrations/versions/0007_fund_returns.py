"""The return of frozen money: return plans on a freeze order, the victims' shares and the
objections raised during a plan's public notice.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = ("return_objections", "return_allocations", "return_plans")


def upgrade() -> None:
    op.create_table(
        "return_plans",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("police_unit", sa.String(length=64), nullable=False),
        sa.Column("order_id", SURROGATE_KEY, nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("bank_code", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("frozen_fen", sa.BigInteger(), nullable=False),
        sa.Column("returned_fen", sa.BigInteger(), nullable=False),
        sa.Column("residual_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.Column("objection_ends_at", TIMESTAMP, nullable=True),
        sa.Column("approved_at", TIMESTAMP, nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("execute_by", TIMESTAMP, nullable=True),
        sa.Column("executed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "frozen_fen >= 0 AND returned_fen >= 0 AND residual_fen >= 0",
            name=op.f("ck_return_plans_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["police_orders.id"], name=op.f("fk_return_plans_order_id_police_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_plans")),
    )
    for column in ("bank_code", "order_id", "police_unit", "status"):
        op.create_index(op.f(f"ix_return_plans_{column}"), "return_plans", [column], unique=False)
    op.create_table(
        "return_allocations",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("plan_id", SURROGATE_KEY, nullable=False),
        sa.Column("victim_account", sa.String(length=64), nullable=False),
        sa.Column("loss_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("executed_at", TIMESTAMP, nullable=True),
        sa.Column("executed_by", sa.String(length=128), nullable=True),
        sa.Column("transfer_ref", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "loss_fen > 0 AND amount_fen >= 0", name=op.f("ck_return_allocations_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["return_plans.id"],
            name=op.f("fk_return_allocations_plan_id_return_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_allocations")),
        sa.UniqueConstraint(
            "plan_id",
            "victim_account",
            name=op.f("uq_return_allocations_plan_id_victim_account"),
        ),
    )
    op.create_index(
        op.f("ix_return_allocations_plan_id"), "return_allocations", ["plan_id"], unique=False
    )
    op.create_table(
        "return_objections",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("plan_id", SURROGATE_KEY, nullable=False),
        sa.Column("objector", sa.String(length=32), nullable=False),
        sa.Column("objector_account", sa.String(length=64), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["return_plans.id"],
            name=op.f("fk_return_objections_plan_id_return_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_objections")),
    )
    op.create_index(
        op.f("ix_return_objections_plan_id"), "return_objections", ["plan_id"], unique=False
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
