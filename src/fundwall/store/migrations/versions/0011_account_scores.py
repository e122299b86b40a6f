"""The accounts' mule scores (账户风险评分): one row an account, replaced on every refresh.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type as it was at this revision.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_scores",
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("contributions", sa.Text(), nullable=True),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("account_no", name=op.f("pk_account_scores")),
    )
    op.create_index(op.f("ix_account_scores_bank"), "account_scores", ["bank"], unique=False)


def downgrade() -> None:
    op.drop_table("account_scores")
