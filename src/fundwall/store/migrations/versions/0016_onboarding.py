"""Simplified account opening (简易开户): each decision, its findings and the account opened.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "onboarding_decisions",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("applicant", sa.String(32), nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("account_class", sa.String(32), nullable=True),
        sa.Column("tier", sa.String(32), nullable=True),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("account_no", sa.String(64), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_decisions")),
    )
    op.create_index(op.f("ix_onboarding_decisions_id_hash"), "onboarding_decisions", ["id_hash"])
    op.create_index(
        op.f("ix_onboarding_decisions_member_decided_at"),
        "onboarding_decisions",
        ["member", "decided_at"],
    )


def downgrade() -> None:
    op.drop_table("onboarding_decisions")
