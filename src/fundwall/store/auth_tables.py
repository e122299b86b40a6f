"""Tables of the console and access control: users, console sessions, API keys, alert work.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0003. Secrets are never stored: passwords as argon2id hashes,
session tokens and API key secrets as SM3 digests (both are long random strings, so a fast
digest is enough to make a stolen table useless for logging in).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.tables import (
    ENUM,
    HASH_HEX,
    ID,
    Base,
    DecisionRow,
    SurrogateKey,
    TransactionRow,
)

USERNAME = 32
PASSWORD_HASH = 255
API_KEY_ID = 16
LABEL = 100
NOTE = 1000
AUDIT_ACTOR = 128


class UserRow(Base):
    """A person who signs in to the console (用户), with a role and, for members, an institution.

    `failed_logins` counts consecutive failures since the last success; reaching the limit
    sets `locked_until` (lock-out).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(USERNAME), unique=True)
    role: Mapped[str] = mapped_column(String(ENUM))
    member_code: Mapped[str | None] = mapped_column(
        String(ID), ForeignKey("institutions.code"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH))
    password_changed_at: Mapped[datetime]
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class ConsoleSessionRow(Base):
    """A signed-in browser session; the cookie holds the token, the row only its digest."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(HASH_HEX), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        SurrogateKey, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(HASH_HEX))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(45))


class ApiKeyRow(Base):
    """A member's key for system-to-system calls (API 密钥). The secret is shown once."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(API_KEY_ID), primary_key=True)
    member_code: Mapped[str] = mapped_column(
        String(ID), ForeignKey("institutions.code"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    label: Mapped[str] = mapped_column(String(LABEL))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AlertWorkRow(Base):
    """An analyst's work on one alert (预警处置): assignment, status, disposition, note.

    An alert is a live (not shadow) decision with action alert, warn, delay or block on the
    transaction `tx_id`; the queue is derived from `decisions`, and a row here exists only
    once someone has worked on it. No foreign key to decisions, whose key is a surrogate id.
    """

    __tablename__ = "alert_work"

    tx_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    status: Mapped[str] = mapped_column(String(ENUM), index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        SurrogateKey, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    disposition: Mapped[str | None] = mapped_column(String(ENUM))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))


# The console reads transactions by member and time, and the queue reads decisions by
# action; these indexes serve those queries on the engine's tables.
_transactions = TransactionRow.__table__.c
_decisions = DecisionRow.__table__.c
Index(None, _transactions.payer_bank, _transactions.ts)
Index(None, _transactions.payee_bank, _transactions.ts)
Index(None, _decisions.action, _decisions.shadow)
