"""The tables. Plain column types: enum values are strings, money is BigInteger fen, time is
timezone-aware UTC. The Alembic migrations in `migrations/versions` create exactly this schema
(a test compares them).

Personal data in `parties` is stored SM4-GCM encrypted (`*_enc`) with an SM3-HMAC keyed hash
beside it (`*_hash`) for matching; see `fundwall.crypto.Keyring`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fundwall.store.types import UtcDateTime, json_type

# Stable constraint names, so later migrations can drop or alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite assigns automatic ids only to a column declared exactly INTEGER PRIMARY KEY.
SurrogateKey = BigInteger().with_variant(Integer(), "sqlite")

HASH_HEX = 64
ENUM = 32  # the value of a domain StrEnum, e.g. "non_counter_suspended"
ID = 64  # domain references: ids, codes, account numbers (fundwall.domain._fields)
DEVICE = 128  # device ids: IMEI, UUID, fingerprint
REGION = 6  # six-digit administrative division code


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime}  # noqa: RUF012


class InstitutionRow(Base):
    """A member institution (机构): bank, payment institution, hub or police unit."""

    __tablename__ = "institutions"

    code: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(ENUM))
    region: Mapped[str] = mapped_column(String(REGION))


class PartyRow(Base):
    """A person or company holding accounts. Name, ID and phone are encrypted."""

    __tablename__ = "parties"

    party_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(ENUM))  # person | firm
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[str | None] = mapped_column(String(HASH_HEX), index=True)
    home_region: Mapped[str] = mapped_column(String(REGION))
    birth_year: Mapped[int | None] = mapped_column(Integer)


class AccountRow(Base):
    """A bank or payment account (账户) of a party at an institution."""

    __tablename__ = "accounts"
    __table_args__ = (Index(None, "party_id", "institution_code"),)

    account_no: Mapped[str] = mapped_column(String(ID), primary_key=True)
    institution_code: Mapped[str] = mapped_column(
        String(ID), ForeignKey("institutions.code"), index=True
    )
    party_id: Mapped[str] = mapped_column(String(ID), ForeignKey("parties.party_id"))
    account_class: Mapped[str] = mapped_column(String(ENUM))
    status: Mapped[str] = mapped_column(String(ENUM))
    risk_tier: Mapped[str] = mapped_column(String(ENUM))
    opened_at: Mapped[datetime | None]
    """None when the source does not say (imported public data): the age is unknown."""
    opening_channel: Mapped[str] = mapped_column(String(ENUM))
    bound_account: Mapped[str | None] = mapped_column(String(ID))
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    revision: Mapped[int | None] = mapped_column(BigInteger, index=True, default=None)
    """The audit sequence number of the member's last report of this account (None for
    accounts loaded with the region), so the running engine reads reports above it."""
    opening_device_id: Mapped[str | None] = mapped_column(String(DEVICE), default=None)
    opening_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    opening_agent: Mapped[str | None] = mapped_column(String(ID), default=None)
    last_active_at: Mapped[datetime | None] = mapped_column(default=None)
    """The last transaction before the store's history (a loaded region's); later activity
    is in `transactions`. Screening (`fundwall.screening`) measures dormancy from both."""


class DeviceRow(Base):
    """A device (phone, PC, terminal) seen initiating logins or transactions."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(DEVICE), primary_key=True)
    kind: Mapped[str] = mapped_column(String(ENUM))
    first_seen: Mapped[datetime]


class LoginEventRow(Base):
    """A login to an account's online or mobile banking, with its face check (人脸识别)."""

    __tablename__ = "login_events"
    __table_args__ = (Index(None, "account_no", "ts"), Index(None, "device_id", "ts"))

    event_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    account_no: Mapped[str] = mapped_column(String(ID), ForeignKey("accounts.account_no"))
    ts: Mapped[datetime]
    device_id: Mapped[str | None] = mapped_column(String(DEVICE), ForeignKey("devices.device_id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    city: Mapped[str | None] = mapped_column(String(64))
    face_check: Mapped[str] = mapped_column(String(ENUM))


class TransactionRow(Base):
    """A transaction as in the region data layout (docs/design.md).

    No foreign keys on accounts or devices: a payer or payee may be outside the region, and a
    transaction is recorded even when its device was never seen before.
    """

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("kind IN ('transfer', 'withdrawal', 'deposit')", name="kind_known"),
        Index(None, "payer_account", "ts"),
        Index(None, "payee_account", "ts"),
    )

    tx_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    ts: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(ENUM))
    payer_account: Mapped[str | None] = mapped_column(String(ID))
    payee_account: Mapped[str | None] = mapped_column(String(ID))
    payer_bank: Mapped[str | None] = mapped_column(String(ID))
    payee_bank: Mapped[str | None] = mapped_column(String(ID))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(ENUM))
    device_id: Mapped[str | None] = mapped_column(String(DEVICE))
    ip: Mapped[str | None] = mapped_column(String(45))
    city: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(256))


class DecisionRow(Base):
    """One decision of the engine on a transaction (决策).

    Several decisions may exist per transaction (the live pack and shadow packs), and the
    hot path logs them without waiting for the transaction row, hence no foreign key.
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    tx_id: Mapped[str] = mapped_column(String(ID), index=True)
    action: Mapped[str] = mapped_column(String(ENUM))  # pass | alert | warn | delay | block
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[Any] = mapped_column(json_type())
    pack_version: Mapped[str] = mapped_column(String(ID))
    model_version: Mapped[str | None] = mapped_column(String(ID))
    latency_us: Mapped[int | None] = mapped_column(BigInteger)
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[datetime] = mapped_column(index=True)


class AuditRow(Base):
    """One record of the hash-chained audit log; see `fundwall.store.audit`.

    `details` is the canonical JSON text exactly as hashed, not a JSON column, so that no
    database can reorder keys or respell numbers under the hash.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # 1: unkeyed SM3 (written before the chain was keyed), 2: HMAC-SM3; see audit_chain.
    version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    ts: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)


class AuditHeadRow(Base):
    """The single chain-head row: last seq and hash. Appenders lock it to serialise."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(HASH_HEX))


# Appeals (the appeals and their evidence) join this metadata.
from fundwall.store import appeal_tables as _appeal_tables  # noqa: E402, F401

# The console's tables (users, sessions, API keys, alert work) join this metadata.
from fundwall.store import auth_tables as _auth_tables  # noqa: E402, F401

# The decision engine's tables (rule packs, restrictions, lists, snapshots) join it too.
from fundwall.store import engine_tables as _engine_tables  # noqa: E402, F401

# Account governance's tables (simplified-opening decisions) join it too.
from fundwall.store import governance_tables as _governance_tables  # noqa: E402, F401

# The model registry's tables (learned models and their state changes) join it too.
from fundwall.store import model_tables as _model_tables  # noqa: E402, F401

# Outreach's tables (the SMS outbox, opt-outs, campaign templates, dissuasion) join it too.
from fundwall.store import outreach_tables as _outreach_tables  # noqa: E402, F401

# Phone real-name verification's tables (the local registry, bindings, checks) join it too.
from fundwall.store import phone_tables as _phone_tables  # noqa: E402, F401

# The bank–police collaboration's tables (cases, clues, police orders) join it as well.
from fundwall.store import police_tables as _police_tables  # noqa: E402, F401

# The return of frozen money's tables (return plans, shares, objections) join it last.
from fundwall.store import return_tables as _return_tables  # noqa: E402, F401

# Account-base screening's runs, work lists, actions and notices join it too.
from fundwall.store import screening_tables as _screening_tables  # noqa: E402, F401

# The sharing hub's tables (the risk list's events, sharing keys, suspensions) join it too.
from fundwall.store import sharing_tables as _sharing_tables  # noqa: E402, F401

# The police's funds-chain traces join it too.
from fundwall.store import trace_tables as _trace_tables  # noqa: E402, F401
