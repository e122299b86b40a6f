"""SMS delivery receipts: the outbox finds the sent messages whose receipt is due by their
status and when it is due.

Revision ID: 0020
Revises: 0019
Create Date: 2027-01-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_sms_outbox_status_next_attempt_at"), "sms_outbox", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sms_outbox_status_next_attempt_at"), table_name="sms_outbox")
