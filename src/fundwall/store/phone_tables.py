"""Phone real-name verification (手机实名验证): the local telecom registry, the phones members
bind to their customers, and every check of a binding against a registry.

Part of the same metadata as `fundwall.store.tables` (that module imports this one at its
end), created by migration 0013. The registry holds keyed hashes only (no raw phone or ID
number: it answers by matching and never shows a number); a binding keeps its phone SM4-GCM
encrypted beside its keyed hash, as `parties` does, because the member who bound it reads it
back. Written by the `phones` workflow's use cases with an audit record, and by `fundwall
load` (the registry and the bindings a region's parties declare).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from fundwall.store.engine_tables import AUDIT_ACTOR
from fundwall.store.tables import ENUM, HASH_HEX, ID, Base, SurrogateKey


class PhoneRegistrationRow(Base):
    """One registration of the local telecom registry (手机实名登记): this phone was
    registered to this ID number from `registered_at` until `deregistered_at` (None: still
    theirs). Both numbers as keyed hashes only."""

    __tablename__ = "phone_registry"
    __table_args__ = (Index(None, "phone_hash", "id_number_hash", "registered_at", unique=True),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    phone_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    id_number_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    registered_at: Mapped[datetime]
    deregistered_at: Mapped[datetime | None]


class PhoneBindingRow(Base):
    """A phone a member bound to one of its customers (手机号绑定), from `bound_at` (None:
    before the record began, e.g. loaded with unknown opening times) until `unbound_at` (None:
    the current one). At most one current binding per member and party; history is kept."""

    __tablename__ = "phone_bindings"
    __table_args__ = (Index(None, "member", "party_id"),)

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(ID), ForeignKey("institutions.code"))
    party_id: Mapped[str] = mapped_column(String(ID), ForeignKey("parties.party_id"))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    bound_at: Mapped[datetime | None]
    unbound_at: Mapped[datetime | None]
    bound_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
    revision: Mapped[int | None] = mapped_column(BigInteger)
    """The audit sequence number of the bind (None for bindings loaded with a region)."""


class PhoneCheckRow(Base):
    """One check of a binding against a telecom registry: its result (match, mismatch,
    not_found, recycled), when the holder gave the number up (recycled only, when the
    registry says), whether the registry compared the name, which registry answered
    (`answered_by`) and when (its own time), and when, why and by whom it was asked."""

    __tablename__ = "phone_checks"

    id: Mapped[int] = mapped_column(SurrogateKey, primary_key=True, autoincrement=True)
    binding_id: Mapped[int] = mapped_column(
        SurrogateKey, ForeignKey("phone_bindings.id"), index=True
    )
    result: Mapped[str] = mapped_column(String(ENUM))
    released_at: Mapped[datetime | None]
    name_checked: Mapped[bool] = mapped_column(Boolean)
    answered_by: Mapped[str] = mapped_column(String(ID))
    answered_at: Mapped[datetime]
    checked_at: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(ENUM))
    checked_by: Mapped[str] = mapped_column(String(AUDIT_ACTOR))
