"""The model registry's tables (模型库): every registered model version, and each change of
its state; and the accounts' mule scores the accounts champion gives (账户风险评分), with the
refreshes that computed them.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migrations 0009 (the registry), 0011 (the scores) and 0012 (the refreshes
and the scores' risk-flow figures). Written by the use
cases of `fundwall.models.registry`, each change with an audit record; like a rule pack's
row, a model's row carries the sequence number of the audit record of its last change as its
`revision`, so a running decision service notices a change and reads the rows above the
revision it last saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR, REASON
from fundwall.store.tables import ENUM, HASH_HEX, ID, Base, SurrogateKey

RUNNING_STATES: Final = ("champion", "shadow")
"""The states a model runs in, each held by at most one model per target (the registry's
`ModelState.CHAMPION` and `SHADOW`)."""
_RUNNING = text(f"state IN ({', '.join(repr(state) for state in RUNNING_STATES)})")


class ModelRow(Base):
    """One registered model version (`tx-3f1c0a9b2e4d`) and its state.

    `text` is the trees in LightGBM's text format and `card` the model card's JSON, both as
    registered (`fundwall.engine.models.artifact`); the card is kept as text, not as JSON, because
    reading a model recomputes its version from the two parts, and a JSON column may give
    numbers back in another form (PostgreSQL's JSONB writes 1e20 as an integer). `text` is
    loaded only when asked for: a listing reads the cards alone. `sha256` is the SHA-256 of
    the trees, as `sha256sum model.txt` prints it. A unique index on the target and the
    state of the running models keeps two changes made at once from leaving a target with
    two champions.
    """

    __tablename__ = "models"
    __table_args__ = (
        Index(
            None, "target", "state", unique=True, sqlite_where=_RUNNING, postgresql_where=_RUNNING
        ),
    )

    version: Mapped[str] = mapped_column(String(ID), primary_key=True)
    target: Mapped[str] = mapped_column(String(ENUM), index=True)
    text: Mapped[str] = mapped_column(Text, deferred=True)
    card: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(HASH_HEX))
    state: Mapped[str] = mapped_column(String(ENUM))
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    changed_at: Mapped[datetime | None]
    changed_by: Mapped[str | None] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger, index=True)


class ModelEventRow(Base):
    """A model's registration (`previous` null) or a change of its state, with the reason
    given; a change that displaces another model (a new champion retires the old one) writes
    an event for each, under the same revision."""

    __tablename__ = "model_events"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(ID), ForeignKey("models.version"), index=True)
    state: Mapped[str] = mapped_column(String(ENUM))
    previous: Mapped[str | None] = mapped_column(String(ENUM))
    reason: Mapped[str] = mapped_column(String(REASON))
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int] = mapped_column(BigInteger)


class ScoreRunRow(Base):
    """One refresh of the mule scores (`fundwall.models.scores`) and what it read: the counts
    and latest times of the transactions and logins, the accounts, the known fraud accounts
    (their number and the SHA-256 of their sorted numbers), the model. A refresh is due when
    these differ from the last run's; `data_until` is the latest time of the data read."""

    __tablename__ = "score_runs"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(String(ID))
    computed_at: Mapped[datetime]
    data_until: Mapped[datetime | None]
    transactions: Mapped[int] = mapped_column(BigInteger)
    latest_transaction: Mapped[datetime | None]
    logins: Mapped[int] = mapped_column(BigInteger)
    latest_login: Mapped[datetime | None]
    accounts: Mapped[int] = mapped_column(BigInteger)
    seeds: Mapped[int] = mapped_column(BigInteger)
    seeds_digest: Mapped[str] = mapped_column(String(HASH_HEX))
    scored: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)
    """How long the refresh took, from reading the store to writing the scores."""


class AccountScoreRow(Base):
    """An account's latest mule score (涉诈账户风险评分), replaced on every refresh
    (`fundwall.models.scores`).

    `action` is what the model's policy gives the probability (pass, alert, delay, block).
    `contributions` is JSON text, a list of the features that pushed the score up most, each
    `{"name", "value", "contribution"}`, largest first; null for an account scored below the
    alert threshold, whose contributions are not computed (they cost about a millisecond an
    account, and nobody reads them for an account nobody is asked to look at). The `seed_*`
    columns are the account's risk-flow features at the refresh (null where unknown: no known
    fraud account to start from), which the account page puts in words beside its graph;
    `run_id` is the refresh (null for a score kept from before refreshes were recorded).
    """

    __tablename__ = "account_scores"

    account_no: Mapped[str] = mapped_column(String(ID), primary_key=True)
    bank: Mapped[str] = mapped_column(String(ID), index=True)
    model_version: Mapped[str] = mapped_column(String(ID))
    probability: Mapped[float] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(ENUM))
    contributions: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(SurrogateKey, ForeignKey("score_runs.id"))
    seed_rank_downstream: Mapped[float | None] = mapped_column(Float)
    seed_rank_upstream: Mapped[float | None] = mapped_column(Float)
    seed_share_1hop: Mapped[float | None] = mapped_column(Float)
    seed_share_2hop: Mapped[float | None] = mapped_column(Float)
