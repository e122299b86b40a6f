"""Account-base screening: how each account was opened (device, IP, agent) and its last
activity before the store's history; screening runs, their work lists and findings, the bulk
actions on them with each account's outcome, and the notices to holders.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
CODE = sa.String(length=64)
ACTOR = sa.String(length=128)
ENUM = sa.String(length=32)


def upgrade() -> None:
    # Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns in place): rebuilding
    # `accounts` would trip over every row that references it.
    op.add_column("accounts", sa.Column("opening_device_id", sa.String(length=128)))
    op.add_column("accounts", sa.Column("opening_ip", sa.String(length=45)))
    op.add_column("accounts", sa.Column("opening_agent", CODE))
    op.add_column("accounts", sa.Column("last_active_at", TIMESTAMP))
    op.create_table(
        "screening_runs",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", CODE, nullable=True),
        sa.Column("checks", JSON, nullable=False),
        sa.Column("as_of", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("started_by", ACTOR, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("screened", JSON, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_screening_runs_member_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_runs")),
    )
    op.create_index(op.f("ix_screening_runs_member"), "screening_runs", ["member"])
    op.create_index(op.f("ix_screening_runs_started_at"), "screening_runs", ["started_at"])
    op.create_table(
        "screening_items",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("run_id", KEY, nullable=False),
        sa.Column("member", CODE, nullable=False),
        sa.Column("account_no", CODE, nullable=False),
        sa.Column("party_id", CODE, nullable=False),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_screening_items_member_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_screening_items_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["screening_runs.id"], name=op.f("fk_screening_items_run_id_screening_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_items")),
    )
    op.create_index(op.f("ix_screening_items_account_no"), "screening_items", ["account_no"])
    op.create_index(
        op.f("ix_screening_items_run_id_account_no"),
        "screening_items",
        ["run_id", "account_no"],
        unique=True,
    )
    op.create_index(
        op.f("ix_screening_items_run_id_member"), "screening_items", ["run_id", "member"]
    )
    op.create_table(
        "screening_findings",
        sa.Column("item_id", KEY, nullable=False),
        sa.Column("check", ENUM, nullable=False),
        sa.Column("run_id", KEY, nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["screening_items.id"],
            name=op.f("fk_screening_findings_item_id_screening_items"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["screening_runs.id"],
            name=op.f("fk_screening_findings_run_id_screening_runs"),
        ),
        sa.PrimaryKeyConstraint("item_id", "check", name=op.f("pk_screening_findings")),
    )
    op.create_index(
        op.f("ix_screening_findings_run_id_check"), "screening_findings", ["run_id", "check"]
    )
    op.create_table(
        "screening_actions",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("run_id", KEY, nullable=False),
        sa.Column("member", CODE, nullable=True),
        sa.Column("action", ENUM, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("requested_by", ACTOR, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["screening_runs.id"],
            name=op.f("fk_screening_actions_run_id_screening_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_actions")),
    )
    op.create_index(op.f("ix_screening_actions_member"), "screening_actions", ["member"])
    op.create_index(op.f("ix_screening_actions_run_id"), "screening_actions", ["run_id"])
    op.create_table(
        "screening_targets",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("action_id", KEY, nullable=False),
        sa.Column("item_id", KEY, nullable=False),
        sa.Column("member", CODE, nullable=False),
        sa.Column("account_no", CODE, nullable=False),
        sa.Column("outcome", ENUM, nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("restriction_id", sa.BigInteger(), nullable=True),
        sa.Column("done_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["screening_actions.id"],
            name=op.f("fk_screening_targets_action_id_screening_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["screening_items.id"],
            name=op.f("fk_screening_targets_item_id_screening_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_targets")),
    )
    op.create_index(
        op.f("ix_screening_targets_action_id_outcome"),
        "screening_targets",
        ["action_id", "outcome"],
    )
    op.create_index(op.f("ix_screening_targets_item_id"), "screening_targets", ["item_id"])
    op.create_index(op.f("ix_screening_targets_account_no"), "screening_targets", ["account_no"])
    op.create_table(
        "holder_notices",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", CODE, nullable=False),
        sa.Column("account_no", CODE, nullable=False),
        sa.Column("party_id", CODE, nullable=False),
        sa.Column("target_id", KEY, nullable=True),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_holder_notices_member_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_holder_notices_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["screening_targets.id"],
            name=op.f("fk_holder_notices_target_id_screening_targets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holder_notices")),
    )
    op.create_index(op.f("ix_holder_notices_account_no"), "holder_notices", ["account_no"])
    op.create_index(op.f("ix_holder_notices_target_id"), "holder_notices", ["target_id"])


def downgrade() -> None:
    op.drop_table("holder_notices")
    op.drop_table("screening_targets")
    op.drop_table("screening_actions")
    op.drop_table("screening_findings")
    op.drop_table("screening_items")
    op.drop_table("screening_runs")
    for column in ("last_active_at", "opening_agent", "opening_ip", "opening_device_id"):
        op.drop_column("accounts", column)
