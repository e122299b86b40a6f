"""The model registry: learned models (LightGBM text and model card) and their state changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-19
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("registered_at", TIMESTAMP, nullable=False),
        sa.Column("registered_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=True),
        sa.Column("changed_by", sa.String(length=128), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_models")),
    )
    op.create_index(op.f("ix_models_target"), "models", ["target"], unique=False)
    running = sa.text("state IN ('champion', 'shadow')")
    op.create_index(
        op.f("ix_models_target_state"),
        "models",
        ["target", "state"],
        unique=True,
        sqlite_where=running,
        postgresql_where=running,
    )
    op.create_index(op.f("ix_models_revision"), "models", ["revision"], unique=False)

    op.create_table(
        "model_events",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("previous", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"], ["models.version"], name=op.f("fk_model_events_version_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_events")),
    )
    op.create_index(op.f("ix_model_events_version"), "model_events", ["version"], unique=False)


def downgrade() -> None:
    op.drop_table("model_events")
    op.drop_table("models")
