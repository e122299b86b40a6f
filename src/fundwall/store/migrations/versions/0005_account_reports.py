"""Members report their accounts' life: the revision of each account's last report.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=True))
        batch.create_index(op.f("ix_accounts_revision"), ["revision"])


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index(op.f("ix_accounts_revision"))
        batch.drop_column("revision")
