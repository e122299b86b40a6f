"""Decision engine: rule-pack registry, account restrictions and status changes, shared risk
list, punishment list, engine state snapshots.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "rule_packs",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("pack_id", sa.String(64), nullable=False),
        sa.Column("declared_version", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("registered_at", TIMESTAMP, nullable=False),
        sa.Column("registered_by", sa.String(128), nullable=False),
        sa.Column("promoted_at", TIMESTAMP, nullable=True),
        sa.Column("promoted_by", sa.String(128), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_rule_packs")),
        sa.UniqueConstraint("digest", name=op.f("uq_rule_packs_digest")),
    )
    _index("rule_packs", "status")
    _index("rule_packs", "revision")

    op.create_table(
        "account_restrictions",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("account_no", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", TIMESTAMP, nullable=False),
        sa.Column("ends_at", TIMESTAMP, nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("lifted_at", TIMESTAMP, nullable=True),
        sa.Column("lifted_by", sa.String(128), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount_fen IS NULL OR amount_fen > 0", name=op.f("ck_account_restrictions_amount")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_restrictions")),
    )
    _index("account_restrictions", "account_no")
    _index("account_restrictions", "revision")

    op.create_table(
        "account_status_changes",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("account_no", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("previous", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_status_changes")),
    )
    _index("account_status_changes", "account_no")
    _index("account_status_changes", "revision")

    op.create_table(
        "risk_list_entries",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("evidence", sa.String(32), nullable=False),
        sa.Column("reporting_member", sa.String(64), nullable=False),
        sa.Column("valid_from", TIMESTAMP, nullable=False),
        sa.Column("valid_until", TIMESTAMP, nullable=True),
        sa.Column("retracted_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_list_entries")),
    )
    _index("risk_list_entries", "kind", "key")
    _index("risk_list_entries", "revision")

    op.create_table(
        "punishment_list",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("listed_from", TIMESTAMP, nullable=False),
        sa.Column("listed_until", TIMESTAMP, nullable=False),
        sa.Column("lifted_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_punishment_list")),
    )
    _index("punishment_list", "id_hash")
    _index("punishment_list", "revision")

    op.create_table(
        "engine_snapshots",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("taken_at", TIMESTAMP, nullable=False),
        sa.Column("history", sa.BigInteger(), nullable=False),
        sa.Column("last_decision_id", sa.BigInteger(), nullable=False),
        sa.Column("directory_digest", sa.String(64), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_snapshots")),
    )


def downgrade() -> None:
    for table in (
        "engine_snapshots",
        "punishment_list",
        "risk_list_entries",
        "account_status_changes",
        "account_restrictions",
        "rule_packs",
    ):
        op.drop_table(table)
