"""An account's opening may be unknown: accounts.opened_at is nullable.

Imports of public data sets (AMLSim, PaySim) do not say when an account was opened; the
store keeps that as null rather than a stand-in time, which would make every such account
look newly opened.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fundwall.domain.errors import Conflict

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type as it was at this revision.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("opened_at", existing_type=TIMESTAMP, nullable=True)


def downgrade() -> None:
    unknown = op.get_bind().scalar(sa.text("SELECT count(*) FROM accounts WHERE opened_at IS NULL"))
    if unknown:
        raise Conflict(
            f"{unknown} accounts have an unknown opening; before revision 0010 every account "
            "needs one, so the schema stays at 0010"
        )
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("opened_at", existing_type=TIMESTAMP, nullable=False)
