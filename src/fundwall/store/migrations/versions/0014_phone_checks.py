"""Phone real-name verification: the local telecom registry (keyed hashes only), the phones
members bind to their customers, and each binding's checks against a registry.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HASH = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "phone_registry",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("phone_hash", HASH, nullable=False),
        sa.Column("id_number_hash", HASH, nullable=False),
        sa.Column("registered_at", TIMESTAMP, nullable=False),
        sa.Column("deregistered_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_registry")),
    )
    op.create_index(
        op.f("ix_phone_registry_phone_hash_id_number_hash_registered_at"),
        "phone_registry",
        ["phone_hash", "id_number_hash", "registered_at"],
        unique=True,
    )
    op.create_index(op.f("ix_phone_registry_id_number_hash"), "phone_registry", ["id_number_hash"])
    op.create_table(
        "phone_bindings",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("member", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_hash", HASH, nullable=False),
        sa.Column("bound_at", TIMESTAMP, nullable=True),
        sa.Column("unbound_at", TIMESTAMP, nullable=True),
        sa.Column("bound_by", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member"], ["institutions.code"], name=op.f("fk_phone_bindings_member_institutions")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_phone_bindings_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_bindings")),
    )
    op.create_index(
        op.f("ix_phone_bindings_member_party_id"), "phone_bindings", ["member", "party_id"]
    )
    op.create_index(op.f("ix_phone_bindings_phone_hash"), "phone_bindings", ["phone_hash"])
    op.create_table(
        "phone_checks",
        sa.Column("id", KEY, autoincrement=True, nullable=False),
        sa.Column("binding_id", KEY, nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("released_at", TIMESTAMP, nullable=True),
        sa.Column("name_checked", sa.Boolean(), nullable=False),
        sa.Column("answered_by", sa.String(length=64), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("checked_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["binding_id"],
            ["phone_bindings.id"],
            name=op.f("fk_phone_checks_binding_id_phone_bindings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_checks")),
    )
    op.create_index(op.f("ix_phone_checks_binding_id"), "phone_checks", ["binding_id"])


def downgrade() -> None:
    op.drop_table("phone_checks")
    op.drop_table("phone_bindings")
    op.drop_table("phone_registry")
