"""The mule scores' refreshes (score_runs) and each score's risk-flow figures.

A refresh records what it read (counts and latest times of the transactions and logins, the
accounts, the known fraud accounts, the model), so the server's timer refreshes only when
one of them changed, and the account page says up to when the data went. Each score keeps
its run and its four risk-flow features (`seed_*`), which the account page puts in words.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SEED_FEATURES = ("seed_rank_downstream", "seed_rank_upstream", "seed_share_1hop", "seed_share_2hop")


def upgrade() -> None:
    op.create_table(
        "score_runs",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.Column("data_until", TIMESTAMP, nullable=True),
        sa.Column("transactions", sa.BigInteger(), nullable=False),
        sa.Column("latest_transaction", TIMESTAMP, nullable=True),
        sa.Column("logins", sa.BigInteger(), nullable=False),
        sa.Column("latest_login", TIMESTAMP, nullable=True),
        sa.Column("accounts", sa.BigInteger(), nullable=False),
        sa.Column("seeds", sa.BigInteger(), nullable=False),
        sa.Column("seeds_digest", sa.String(length=64), nullable=False),
        sa.Column("scored", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_runs")),
    )
    with op.batch_alter_table("account_scores") as batch:
        batch.add_column(sa.Column("run_id", KEY, nullable=True))
        for name in SEED_FEATURES:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_account_scores_run_id_score_runs"), "score_runs", ["run_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("account_scores") as batch:
        batch.drop_constraint(op.f("fk_account_scores_run_id_score_runs"), type_="foreignkey")
        for name in (*SEED_FEATURES, "run_id"):
            batch.drop_column(name)
    op.drop_table("score_runs")
