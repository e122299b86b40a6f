"""Tables of the decision engine: rule-pack registry, account restrictions and status
changes, the shared risk list, the punishment list and snapshots of the engine's state.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0002. These are the narrow doors through which workflows change
what the engine enforces (ARCHITECTURE.md): every row is written by a use case of a workflow
(`fundwall.accounts.controls`, `fundwall.accounts.punishments`, `fundwall.sharing.risk_list`,
`fundwall.rulepacks.registry`; the shipped pack on first use by
`fundwall.engine.registry.ensure_live`), together with an audit record, and carries that
record's sequence number as its `revision`. The running decision service notices a new audit
head and reads the rows whose revision is above the last it saw, so a change takes effect on
the next transaction without a restart.

No foreign keys to accounts or institutions: a restriction or a list entry may name an account
or a member that this hub has no row for (a counterparty at a bank outside the region).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.tables import DEVICE, ENUM, HASH_HEX, ID, Base, SurrogateKey

AUDIT_ACTOR = 128
REASON = 500
SOURCE = 256


class RulePackRow(Base):
    """One registered rule pack version (规则包版本) and its place: live, shadow or neither.

    `content` is the YAML file exactly as registered; `digest` its SHA-256, so the same file
    registers once. At most one pack is live and at most one is shadow at a time.
    """

    __tablename__ = "rule_packs"

    version: Mapped[str] = mapped_column(String(ID), primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(ID))
    declared_version: Mapped[str] = mapped_column(String(ID))
    digest: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(SOURCE))
    status: Mapped[str] = mapped_column(String(ENUM), index=True)
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    promoted_at: Mapped[datetime | None]
    promoted_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class AccountRestrictionRow(Base):
    """A restriction on an account for a time: stop-payment (紧急止付), freeze (冻结) or
    non-counter suspension (非柜面业务暂停), whole or up to `amount_fen`.

    In effect from `starts_at` until `ends_at` (open when null) unless lifted earlier.
    """

    __tablename__ = "account_restrictions"
    __table_args__ = (CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    kind: Mapped[str] = mapped_column(String(ENUM))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(REASON))
    reference: Mapped[str | None] = mapped_column(String(ID))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class AccountStatusChangeRow(Base):
    """A change of `accounts.status` made through the engine's door, so the running engine
    learns of it (it reads `accounts.status` once, at start) and the change has a history."""

    __tablename__ = "account_status_changes"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    status: Mapped[str] = mapped_column(String(ENUM))
    previous: Mapped[str] = mapped_column(String(ENUM))
    reason: Mapped[str] = mapped_column(String(REASON))
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class AccountTierChangeRow(Base):
    """A change of `accounts.risk_tier` (风险等级): by whom and why (`source`: an analyst, the
    member's system, a screening run, a model), and the tier's measures it wrote as account
    restrictions whose `reference` is `tier:<id>` (the engine enforces those)."""

    __tablename__ = "account_tier_changes"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    account_no: Mapped[str] = mapped_column(String(ID), index=True)
    tier: Mapped[str] = mapped_column(String(ENUM))
    previous: Mapped[str] = mapped_column(String(ENUM))
    source: Mapped[str] = mapped_column(String(ENUM))
    reason: Mapped[str] = mapped_column(String(REASON))
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class RiskListEntryRow(Base):
    """An entry of the shared risk list (风险名单): an account (with its bank), the shared hash
    of a resident ID, a credit code or a phone (`vN:<hex>`, `key_version` N), a device, an IP
    or a merchant, with its category, evidence level and reporting member.

    `reference` and `note` are the reporting member's own (only it reads them); a retraction
    says who and why; `replaces` names the entry a re-keyed publication took the place of.
    The change history is `risk_list_events` (`fundwall.store.sharing_tables`).
    """

    __tablename__ = "risk_list_entries"
    __table_args__ = (Index(None, "kind", "key"), Index(None, "reporting_member", "created_at"))

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(ENUM))
    key: Mapped[str] = mapped_column(String(DEVICE))
    bank: Mapped[str | None] = mapped_column(String(ID))
    key_version: Mapped[int | None] = mapped_column(Integer, index=True)
    category: Mapped[str] = mapped_column(String(ENUM))
    evidence: Mapped[str] = mapped_column(String(ENUM))
    reporting_member: Mapped[str] = mapped_column(String(ID))
    reference: Mapped[str | None] = mapped_column(String(ID))
    note: Mapped[str | None] = mapped_column(String(REASON))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    retracted_at: Mapped[datetime | None]
    retracted_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    retract_reason: Mapped[str | None] = mapped_column(String(REASON))
    replaces: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class PaymentCancellationRow(Base):
    """A warned or delayed payment its payer gave up (a dissuaded payment, 劝阻止付): the
    money never moves. Written by the payer's member through `fundwall.outreach`; balances
    (`fundwall.accounts.queries.moved_money`) leave the transaction out, and the decision's
    readers show it cancelled. One per transaction."""

    __tablename__ = "payment_cancellations"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    tx_id: Mapped[str] = mapped_column(String(ID), unique=True)
    decision_id: Mapped[int] = mapped_column(BigInteger)
    member: Mapped[str] = mapped_column(String(ID))
    reason: Mapped[str] = mapped_column(String(REASON))
    cancelled_at: Mapped[datetime]
    cancelled_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class PunishmentRow(Base):
    """A person on the punishment list (联合惩戒名单), by the keyed hash of the ID number."""

    __tablename__ = "punishment_list"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    reason: Mapped[str] = mapped_column(String(REASON))
    listed_from: Mapped[datetime]
    listed_until: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class EngineSnapshotRow(Base):
    """The decision service's online state at a point of its log, so a restart folds only
    the transactions logged after it (snapshot + tail) instead of the whole history.

    `last_decision_id` is the highest live decision folded in; `history` the number of
    transactions without a decision (loaded history) folded before the decided ones;
    `directory_digest` fingerprints the accounts the state was built over, so a snapshot
    taken over other accounts is never restored.
    """

    __tablename__ = "engine_snapshots"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime]
    history: Mapped[int] = mapped_column(BigInteger)
    last_decision_id: Mapped[int] = mapped_column(BigInteger)
    directory_digest: Mapped[str] = mapped_column(String(HASH_HEX))
    state: Mapped[bytes] = mapped_column(LargeBinary)
