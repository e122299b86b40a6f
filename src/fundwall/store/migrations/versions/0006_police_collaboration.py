"""The bank–police collaboration: cases with their alerts, accounts, notes and evidence;
clues sent to the police; police orders and their history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

TABLES = (
    "clue_events",
    "clue_accounts",
    "clues",
    "case_notes",
    "case_evidence",
    "case_alerts",
    "case_accounts",
    "cases",
    "order_events",
    "police_orders",
)


def upgrade() -> None:
    op.create_table(
        "police_orders",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("document_no", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("police_unit", sa.String(length=64), nullable=False),
        sa.Column("officers", sa.String(length=200), nullable=False),
        sa.Column("police_case_no", sa.String(length=64), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("major_case", sa.Boolean(), nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.Column("bank_code", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("period_from", TIMESTAMP, nullable=True),
        sa.Column("period_to", TIMESTAMP, nullable=True),
        sa.Column("target_order_id", SURROGATE_KEY, nullable=True),
        sa.Column("restriction_id", SURROGATE_KEY, nullable=True),
        sa.Column("starts_at", TIMESTAMP, nullable=True),
        sa.Column("ends_at", TIMESTAMP, nullable=True),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.Column("held_fen", sa.BigInteger(), nullable=True),
        sa.Column("refusal_reason", sa.String(length=500), nullable=True),
        sa.Column("answer", JSON, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "amount_fen IS NULL OR amount_fen > 0", name=op.f("ck_police_orders_amount")
        ),
        sa.ForeignKeyConstraint(
            ["target_order_id"],
            ["police_orders.id"],
            name=op.f("fk_police_orders_target_order_id_police_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_orders")),
        sa.UniqueConstraint("document_no", name=op.f("uq_police_orders_document_no")),
    )
    op.create_index(
        op.f("ix_police_orders_account_no"), "police_orders", ["account_no"], unique=False
    )
    op.create_index(
        op.f("ix_police_orders_bank_code"), "police_orders", ["bank_code"], unique=False
    )
    op.create_index(op.f("ix_police_orders_ends_at"), "police_orders", ["ends_at"], unique=False)
    op.create_index(
        op.f("ix_police_orders_police_unit"), "police_orders", ["police_unit"], unique=False
    )
    op.create_index(op.f("ix_police_orders_status"), "police_orders", ["status"], unique=False)
    op.create_index(
        op.f("ix_police_orders_target_order_id"), "police_orders", ["target_order_id"], unique=False
    )
    op.create_table(
        "order_events",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("order_id", SURROGATE_KEY, nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["police_orders.id"], name=op.f("fk_order_events_order_id_police_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_order_id"), "order_events", ["order_id"], unique=False)
    op.create_table(
        "cases",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("member_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", SURROGATE_KEY, nullable=True),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("deadline", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_reason", sa.String(length=500), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("merged_into", SURROGATE_KEY, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_cases_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["cases.id"], name=op.f("fk_cases_merged_into_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index(op.f("ix_cases_assignee_id"), "cases", ["assignee_id"], unique=False)
    op.create_index(op.f("ix_cases_deadline"), "cases", ["deadline"], unique=False)
    op.create_index(op.f("ix_cases_member_code"), "cases", ["member_code"], unique=False)
    op.create_index(op.f("ix_cases_status"), "cases", ["status"], unique=False)
    op.create_table(
        "case_accounts",
        sa.Column("case_id", SURROGATE_KEY, nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_accounts_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "account_no", name=op.f("pk_case_accounts")),
    )
    op.create_index(
        op.f("ix_case_accounts_account_no"), "case_accounts", ["account_no"], unique=False
    )
    op.create_table(
        "case_alerts",
        sa.Column("tx_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", SURROGATE_KEY, nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_alerts_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("tx_id", name=op.f("pk_case_alerts")),
    )
    op.create_index(op.f("ix_case_alerts_case_id"), "case_alerts", ["case_id"], unique=False)
    op.create_table(
        "case_evidence",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("case_id", SURROGATE_KEY, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("content_enc", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_evidence_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_evidence")),
    )
    op.create_index(op.f("ix_case_evidence_case_id"), "case_evidence", ["case_id"], unique=False)
    op.create_table(
        "case_notes",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("case_id", SURROGATE_KEY, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_case_id"), "case_notes", ["case_id"], unique=False)
    op.create_table(
        "clues",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("case_id", SURROGATE_KEY, nullable=False),
        sa.Column("member_code", sa.String(length=64), nullable=False),
        sa.Column("police_unit", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("package", JSON, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("police_case_no", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("suspects_caught", sa.Integer(), nullable=True),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column("sent_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_clues_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clues")),
    )
    op.create_index(op.f("ix_clues_case_id"), "clues", ["case_id"], unique=False)
    op.create_index(op.f("ix_clues_member_code"), "clues", ["member_code"], unique=False)
    op.create_index(op.f("ix_clues_police_unit"), "clues", ["police_unit"], unique=False)
    op.create_index(op.f("ix_clues_status"), "clues", ["status"], unique=False)
    op.create_table(
        "clue_accounts",
        sa.Column("clue_id", SURROGATE_KEY, nullable=False),
        sa.Column("account_no", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["clue_id"], ["clues.id"], name=op.f("fk_clue_accounts_clue_id_clues")
        ),
        sa.PrimaryKeyConstraint("clue_id", "account_no", name=op.f("pk_clue_accounts")),
    )
    op.create_index(
        op.f("ix_clue_accounts_account_no"), "clue_accounts", ["account_no"], unique=False
    )
    op.create_table(
        "clue_events",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("clue_id", SURROGATE_KEY, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["clue_id"], ["clues.id"], name=op.f("fk_clue_events_clue_id_clues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clue_events")),
    )
    op.create_index(op.f("ix_clue_events_clue_id"), "clue_events", ["clue_id"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
