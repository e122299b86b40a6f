"""The police's funds-chain traces and their batch stop-payments.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "traces",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("police_unit", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("max_hops", sa.Integer(), nullable=False),
        sa.Column("starts", JSON, nullable=False),
        sa.Column("as_of", TIMESTAMP, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("batch_confirmed_at", TIMESTAMP, nullable=True),
        sa.Column("batch_confirmed_by", sa.String(length=128), nullable=True),
        sa.Column("batch", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traces")),
    )
    op.create_index(op.f("ix_traces_created_at"), "traces", ["created_at"], unique=False)
    op.create_index(op.f("ix_traces_police_unit"), "traces", ["police_unit"], unique=False)


def downgrade() -> None:
    op.drop_table("traces")
