"""Outreach: the SMS outbox, opt-outs, members' campaign templates and campaigns, dissuasion
tasks, events, and the cancellation of warned or delayed payments.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outreach_campaigns",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(32), nullable=False),
        sa.Column("as_of", TIMESTAMP, nullable=False),
        sa.Column("variables", JSON, nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["member"],
            ["institutions.code"],
            name=op.f("fk_outreach_campaigns_member_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_campaigns")),
    )
    op.create_index(
        op.f("ix_outreach_campaigns_member_created_at"),
        "outreach_campaigns",
        ["member", "created_at"],
    )
    op.create_table(
        "sms_outbox",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=True),
        sa.Column("party_id", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=True),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queued_at", TIMESTAMP, nullable=False),
        sa.Column("queued_by", sa.String(128), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.Column("failed_at", TIMESTAMP, nullable=True),
        sa.Column("gateway", sa.String(64), nullable=True),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("failure", sa.String(500), nullable=True),
        sa.Column("campaign_id", KEY, nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["outreach_campaigns.id"],
            name=op.f("fk_sms_outbox_campaign_id_outreach_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_sms_outbox_member_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_sms_outbox_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_outbox_idempotency_key")),
        sa.UniqueConstraint("message_key", name=op.f("uq_sms_outbox_message_key")),
    )
    op.create_index(op.f("ix_sms_outbox_status_member"), "sms_outbox", ["status", "member"])
    op.create_index(
        op.f("ix_sms_outbox_phone_hash_queued_at"), "sms_outbox", ["phone_hash", "queued_at"]
    )
    op.create_index(op.f("ix_sms_outbox_campaign_id"), "sms_outbox", ["campaign_id"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone_hash", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("member", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("opted_out_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_sms_opt_outs_member_institutions")
        ),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "sms_templates",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_sms_templates_member_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_templates")),
    )
    op.create_index(
        op.f("ix_sms_templates_member_name"), "sms_templates", ["member", "name"], unique=True
    )

    op.create_table(
        "payment_cancellations",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("tx_id", sa.String(64), nullable=False),
        sa.Column("decision_id", sa.BigInteger(), nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("cancelled_at", TIMESTAMP, nullable=False),
        sa.Column("cancelled_by", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_cancellations")),
        sa.UniqueConstraint("tx_id", name=op.f("uq_payment_cancellations_tx_id")),
    )
    op.create_index(
        op.f("ix_payment_cancellations_revision"), "payment_cancellations", ["revision"]
    )
    op.create_table(
        "outreach_events",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(500), nullable=False),
        sa.Column("attendance", sa.Integer(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.CheckConstraint("attendance >= 0", name=op.f("ck_outreach_events_attendance")),
        sa.CheckConstraint("reach >= 0", name=op.f("ck_outreach_events_reach")),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_outreach_events_member_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_events")),
    )
    op.create_index(
        op.f("ix_outreach_events_member_held_on"), "outreach_events", ["member", "held_on"]
    )
    op.create_table(
        "dissuasion_tasks",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("decision_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_id", sa.String(64), nullable=False),
        sa.Column("payer_account", sa.String(64), nullable=False),
        sa.Column("party_id", sa.String(64), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("warned_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("sms_id", KEY, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_dissuasion_tasks_member_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_dissuasion_tasks_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["sms_id"], ["sms_outbox.id"], name=op.f("fk_dissuasion_tasks_sms_id_sms_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dissuasion_tasks")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_dissuasion_tasks_decision_id")),
    )
    op.create_index(
        op.f("ix_dissuasion_tasks_member_status_due_at"),
        "dissuasion_tasks",
        ["member", "status", "due_at"],
    )
    op.create_index(op.f("ix_dissuasion_tasks_tx_id"), "dissuasion_tasks", ["tx_id"])


def downgrade() -> None:
    op.drop_table("dissuasion_tasks")
    op.drop_table("outreach_events")
    op.drop_table("payment_cancellations")
    op.drop_table("sms_templates")
    op.drop_table("sms_opt_outs")
    op.drop_table("sms_outbox")
    op.drop_table("outreach_campaigns")
