"""Appeals (异议申诉): a person's appeal against a bank's measure on their account, its
evidence files, the anti-fraud centre's opinion and the bank's decision; the portal's
one-time codes.

Revision ID: 0019
Revises: 0018
Create Date: 2027-01-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CODE = sa.String(length=64)
ACTOR = sa.String(length=128)
ENUM = sa.String(length=32)
HASH = sa.String(length=64)
MEASURE = sa.String(length=80)


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", CODE, nullable=False),
        sa.Column("account_no", CODE, nullable=False),
        sa.Column("party_id", CODE, nullable=False),
        sa.Column("person_hash", HASH, nullable=False),
        sa.Column("measure", MEASURE, nullable=False),
        sa.Column("measure_kind", ENUM, nullable=False),
        sa.Column("measure_reason", sa.Text(), nullable=False),
        sa.Column("open_key", MEASURE, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contact_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("filed_at", TIMESTAMP, nullable=False),
        sa.Column("filed_by", ACTOR, nullable=False),
        sa.Column("deadline", TIMESTAMP, nullable=False),
        sa.Column("police_unit", CODE, nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("asked_at", TIMESTAMP, nullable=True),
        sa.Column("asked_by", ACTOR, nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("opinion_at", TIMESTAMP, nullable=True),
        sa.Column("opinion_by", ACTOR, nullable=True),
        sa.Column("outcome", ENUM, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decided_by", ACTOR, nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_appeals_member_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_appeals_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["police_unit"], ["institutions.code"], name=op.f("fk_appeals_police_unit_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("open_key", name=op.f("uq_appeals_open_key")),
    )
    op.create_index(op.f("ix_appeals_account_no"), "appeals", ["account_no"])
    op.create_index(op.f("ix_appeals_person_hash"), "appeals", ["person_hash"])
    op.create_index(op.f("ix_appeals_filed_at"), "appeals", ["filed_at"])
    op.create_index(op.f("ix_appeals_deadline"), "appeals", ["deadline"])
    op.create_index(op.f("ix_appeals_member_status"), "appeals", ["member", "status"])
    op.create_index(op.f("ix_appeals_police_unit_status"), "appeals", ["police_unit", "status"])
    op.create_table(
        "appeal_evidence",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("appeal_id", KEY, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sm3", HASH, nullable=False),
        sa.Column("content_enc", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_evidence_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_evidence")),
    )
    op.create_index(op.f("ix_appeal_evidence_appeal_id"), "appeal_evidence", ["appeal_id"])
    op.create_table(
        "portal_codes",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("person_hash", HASH, nullable=False),
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_codes")),
    )
    op.create_index(op.f("ix_portal_codes_person_hash"), "portal_codes", ["person_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_codes_person_hash"), table_name="portal_codes")
    op.drop_table("portal_codes")
    op.drop_index(op.f("ix_appeal_evidence_appeal_id"), table_name="appeal_evidence")
    op.drop_table("appeal_evidence")
    for index in (
        "ix_appeals_police_unit_status",
        "ix_appeals_member_status",
        "ix_appeals_deadline",
        "ix_appeals_filed_at",
        "ix_appeals_person_hash",
        "ix_appeals_account_no",
    ):
        op.drop_index(op.f(index), table_name="appeals")
    op.drop_table("appeals")
