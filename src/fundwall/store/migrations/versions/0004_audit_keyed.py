"""Audit records carry the version of their hash: 1 unkeyed SM3, 2 HMAC-SM3 under the audit key.

The records already written become version 1 and verify as before; the application writes
version 2 from now on (`fundwall.store.audit_chain`).

Revision ID: 0004
Revises: 0003
Create Date: 2024-06-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fundwall.domain.errors import Conflict

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_VERSION = 1


def upgrade() -> None:
    op.add_column(
        "audit_log",
        sa.Column(
            "version",
            sa.SmallInteger(),
            server_default=sa.text(str(LEGACY_VERSION)),
            nullable=False,
        ),
    )


def downgrade() -> None:
    keyed = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM audit_log WHERE version <> :legacy"),
        {"legacy": LEGACY_VERSION},
    )
    if keyed:
        raise Conflict(
            f"{keyed} audit records are keyed; before revision 0004 they would read as "
            "altered, so the schema stays at 0004"
        )
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("version")
