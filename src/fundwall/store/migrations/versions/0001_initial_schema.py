"""Initial schema: institutions, parties, accounts, devices, logins, transactions, decisions,
and the hash-chained audit log with its chain-head row.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64

# Frozen copies of the column types as they were at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_institutions")),
    )
    op.create_table(
        "parties",
        sa.Column("party_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_hash", sa.String(64), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("home_region", sa.String(6), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_parties")),
    )
    _index("parties", "id_number_hash")
    _index("parties", "phone_hash")

    op.create_table(
        "accounts",
        sa.Column("account_no", sa.String(64), nullable=False),
        sa.Column("institution_code", sa.String(64), nullable=False),
        sa.Column("party_id", sa.String(64), nullable=False),
        sa.Column("account_class", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("risk_tier", sa.String(32), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("opening_channel", sa.String(32), nullable=False),
        sa.Column("bound_account", sa.String(64), nullable=True),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_code"],
            ["institutions.code"],
            name=op.f("fk_accounts_institution_code_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_accounts_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("account_no", name=op.f("pk_accounts")),
    )
    _index("accounts", "institution_code")
    _index("accounts", "party_id", "institution_code")

    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_devices")),
    )
    op.create_table(
        "login_events",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("account_no", sa.String(64), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("face_check", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_no"],
            ["accounts.account_no"],
            name=op.f("fk_login_events_account_no_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.device_id"], name=op.f("fk_login_events_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_login_events")),
    )
    _index("login_events", "account_no", "ts")
    _index("login_events", "device_id", "ts")

    op.create_table(
        "transactions",
        sa.Column("tx_id", sa.String(64), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payer_account", sa.String(64), nullable=True),
        sa.Column("payee_account", sa.String(64), nullable=True),
        sa.Column("payer_bank", sa.String(64), nullable=True),
        sa.Column("payee_bank", sa.String(64), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("city", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(256), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_transactions_amount_positive")),
        sa.CheckConstraint(
            "kind IN ('transfer', 'withdrawal', 'deposit')", name=op.f("ck_transactions_kind_known")
        ),
        sa.PrimaryKeyConstraint("tx_id", name=op.f("pk_transactions")),
    )
    _index("transactions", "ts")
    _index("transactions", "payer_account", "ts")
    _index("transactions", "payee_account", "ts")

    op.create_table(
        "decisions",
        sa.Column("id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("tx_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("pack_version", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("latency_us", sa.BigInteger(), nullable=True),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    _index("decisions", "tx_id")
    _index("decisions", "decided_at")

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    _index("audit_log", "hash")

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain starts empty: seq 0 and the all-zero hash, which record 1 links to.
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "decisions",
        "transactions",
        "login_events",
        "devices",
        "accounts",
        "parties",
        "institutions",
    ):
        op.drop_table(table)
