"""The risk-information sharing hub: entries carry the bank, the sharing key version, the
reporter's own reference and note, who retracted them and why; the entries' change history
(the feed), the regional sharing key versions and members' publishing suspensions.

Entries of an ID or a phone made before this revision were keyed with the server's own
hash key, which no member holds and the engine no longer matches; they are retracted here,
with the reason, so their history stays and the feed says nothing of them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-22
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SERVER_KEYED = "keyed with the server's own hash key before regional sharing keys (0012)"


def upgrade() -> None:
    with op.batch_alter_table("risk_list_entries") as table:
        table.add_column(sa.Column("bank", sa.String(64), nullable=True))
        table.add_column(sa.Column("key_version", sa.Integer(), nullable=True))
        table.add_column(sa.Column("reference", sa.String(64), nullable=True))
        table.add_column(sa.Column("note", sa.String(500), nullable=True))
        table.add_column(sa.Column("retracted_by", sa.String(128), nullable=True))
        table.add_column(sa.Column("retract_reason", sa.String(500), nullable=True))
        table.add_column(sa.Column("replaces", sa.BigInteger(), nullable=True))
        table.create_index(op.f("ix_risk_list_entries_key_version"), ["key_version"])
        table.create_index(
            op.f("ix_risk_list_entries_reporting_member_created_at"),
            ["reporting_member", "created_at"],
        )
    entries = sa.table(
        "risk_list_entries",
        sa.column("kind", sa.String),
        sa.column("retracted_at", TIMESTAMP),
        sa.column("retracted_by", sa.String),
        sa.column("retract_reason", sa.String),
    )
    op.execute(
        entries.update()
        .where(entries.c.kind.in_(["id_hash", "phone_hash"]), entries.c.retracted_at.is_(None))
        .values(
            retracted_at=datetime.now(UTC),
            retracted_by="system:migration-0012",
            retract_reason=SERVER_KEYED,
        )
    )

    op.create_table(
        "risk_list_events",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_list_events")),
    )
    op.create_index(op.f("ix_risk_list_events_entry_id"), "risk_list_events", ["entry_id"])

    op.create_table(
        "share_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("retired_at", TIMESTAMP, nullable=True),
        sa.Column("retired_by", sa.String(128), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_share_keys")),
    )
    op.create_index(op.f("ix_share_keys_revision"), "share_keys", ["revision"])

    op.create_table(
        "publishing_suspensions",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("suspended_at", TIMESTAMP, nullable=False),
        sa.Column("suspended_by", sa.String(128), nullable=False),
        sa.Column("lifted_at", TIMESTAMP, nullable=True),
        sa.Column("lifted_by", sa.String(128), nullable=True),
        sa.Column("lift_reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publishing_suspensions")),
    )
    op.create_index(op.f("ix_publishing_suspensions_member"), "publishing_suspensions", ["member"])


def downgrade() -> None:
    op.drop_table("publishing_suspensions")
    op.drop_table("share_keys")
    op.drop_table("risk_list_events")
    with op.batch_alter_table("risk_list_entries") as table:
        table.drop_index(op.f("ix_risk_list_entries_reporting_member_created_at"))
        table.drop_index(op.f("ix_risk_list_entries_key_version"))
        for column in (
            "replaces",
            "retract_reason",
            "retracted_by",
            "note",
            "reference",
            "key_version",
            "bank",
        ):
            table.drop_column(column)
