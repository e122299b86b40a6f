"""The model registry (模型库): every learned model the engine may run, and its state.

A model is registered from its folder (`fundwall.engine.models.artifact`: model.txt and card.json,
both checked) or as a `Model`, and stored with both parts. Its version (`tx-3f1c0a9b2e4d`)
is computed from them, so the same model registers once, and a card edited by hand after
training (its version no longer that of its content) is refused. A model then moves between
states, per target (transactions, accounts):

- `registered`: known, not running;
- `challenger`: a candidate under review, compared with the champion on its held-out
  figures and in backtests, not scored online (any number per target);
- `shadow`: scored online beside the champion and logged, never enforced (at most one per
  target: each costs scoring time on every transaction, as a shadow rule pack does);
- `champion`: the model whose score decides (at most one per target); promoting another
  model retires it, and promoting a retired model again is a rollback. The champion leaves
  its place only so, or by being retired (the target then has no model);
- `retired`: out of service.

Registering and changing states are the hub supervisor's right (`PROMOTE_MODELS`); reading
the registry is `VIEW_MODELS`. Each change writes its rows, an event with the reason given,
and an audit record (`register_model`, `set_model_state`) in one transaction. The rows carry
the audit record's sequence number as their `revision`, so a running decision service sees
a change on its next transaction (`fundwall.engine.model_registry`: the engine's
readers, which take a session and no actor, like those of the rule-pack registry). The
console's model pages and `fundwall models` call these same use cases.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.engine.model_registry import RUNNING, ModelState, card_of, model_of
from fundwall.engine.models.artifact import Model, ModelCard, Target, read_model
from fundwall.store.audit import AuditRecord
from fundwall.store.engine_tables import REASON
from fundwall.store.model_tables import ModelEventRow, ModelRow
from fundwall.store.uow import UnitOfWork

_DISPLACED_TO: Final = {
    ModelState.CHAMPION: ModelState.RETIRED,
    ModelState.SHADOW: ModelState.REGISTERED,
}
"""Where the holder of a running state goes when another model of its target takes it."""
_LISTING_ORDER: Final = (
    ModelState.CHAMPION,
    ModelState.SHADOW,
    ModelState.CHALLENGER,
    ModelState.REGISTERED,
    ModelState.RETIRED,
)


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A registered model as the registry lists it: its card (without the trees), its state,
    who registered it and who changed its state last, and when."""

    version: str
    target: Target
    state: ModelState
    card: ModelCard
    sha256: str
    """SHA-256 of model.txt (`sha256sum model.txt` checks a copy)."""
    registered_at: datetime
    registered_by: str
    changed_at: datetime | None
    changed_by: str | None

    @classmethod
    def of(cls, row: ModelRow) -> ModelRecord:
        return cls(
            version=row.version,
            target=Target(row.target),
            state=ModelState(row.state),
            card=card_of(row),
            sha256=row.sha256,
            registered_at=row.registered_at,
            registered_by=row.registered_by,
            changed_at=row.changed_at,
            changed_by=row.changed_by,
        )

    @property
    def rows(self) -> int:
        return self.card.rows

    @property
    def positives(self) -> int:
        return self.card.positives

    @property
    def fingerprint(self) -> str:
        return self.card.fingerprint

    @property
    def trained_at(self) -> str:
        return self.card.trained_at

    @property
    def features(self) -> tuple[str, ...]:
        return self.card.features

    @property
    def holdout_pr_auc(self) -> float | None:
        """The PR-AUC (average precision) on the held-out period, where the card has it."""
        value = self.card.metrics.get("holdout", {}).get("pr_auc")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    def to_dict(self) -> dict[str, Any]:
        """What `fundwall models list --json` prints for the model."""
        return {
            "version": self.version,
            "target": self.target.value,
            "state": self.state.value,
            "rows": self.rows,
            "positives": self.positives,
            "holdout_pr_auc": self.holdout_pr_auc,
            "features": list(self.features),
            "fingerprint": self.fingerprint,
            "trained_at": self.trained_at,
            "region": self.card.region,
            "sha256": self.sha256,
            "registered_at": self.registered_at.isoformat(),
            "registered_by": self.registered_by,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
            "changed_by": self.changed_by,
        }


@dataclass(frozen=True, slots=True)
class ModelEvent:
    """A model's registration (`previous` None) or a change of its state."""

    state: ModelState
    previous: ModelState | None
    reason: str
    at: datetime
    by: str


def _row(session: Session, version: str) -> ModelRow:
    row = session.get(ModelRow, version)
    if row is None:
        raise NotFound("model version", version)
    return row


def _holder(session: Session, target: str, state: ModelState) -> ModelRow | None:
    return session.scalar(
        select(ModelRow).where(ModelRow.target == target, ModelRow.state == state.value)
    )


def _subject(version: str) -> str:
    return f"model:{version}"


def _event(row: ModelRow, previous: str | None, reason: str, record: AuditRecord) -> ModelEventRow:
    return ModelEventRow(
        version=row.version,
        state=row.state,
        previous=previous,
        reason=reason,
        changed_at=record.ts,
        changed_by=record.actor,
        revision=record.seq,
    )


def _move(
    session: Session, row: ModelRow, state: ModelState, reason: str, record: AuditRecord
) -> None:
    """Put `row` in `state`, with its event, stamped with `record`."""
    previous = row.state
    row.state = state.value
    row.changed_at = record.ts
    row.changed_by = record.actor
    row.revision = record.seq
    session.add(_event(row, previous, reason, record))


def _reason(text: str) -> str:
    reason = text.strip()
    if len(reason) > REASON:
        raise InvalidInput(f"at most {REASON} characters", "reason")
    return reason


@use_case(Permission.PROMOTE_MODELS)
def register_model(uow: UnitOfWork, actor: Actor, source: Path | Model) -> ModelRecord:
    """Check a model (its folder, or a `Model`) and register its version.

    Registering the same model again changes nothing and returns its record.
    """
    if isinstance(source, Path):
        model = read_model(source)
    else:
        model = Model.from_parts(source.text, source.card)
    session = uow.session
    known = session.get(ModelRow, model.version)
    if known is not None:
        return ModelRecord.of(known)
    card = model.card
    digest = hashlib.sha256(model.text.encode()).hexdigest()
    record = uow.audit.record(
        actor,
        "register_model",
        _subject(model.version),
        {
            "target": model.target.value,
            "features": len(card.features),
            "rows": card.rows,
            "positives": card.positives,
            "fingerprint": card.fingerprint,
            "sha256": digest,
        },
    )
    row = ModelRow(
        version=model.version,
        target=model.target.value,
        text=model.text,
        card=json.dumps(card.to_dict(), ensure_ascii=False),
        sha256=digest,
        state=ModelState.REGISTERED.value,
        registered_at=record.ts,
        registered_by=record.actor,
        changed_at=None,
        changed_by=None,
        revision=record.seq,
    )
    session.add(row)
    session.flush()  # the event refers to the model's row
    session.add(_event(row, None, "", record))
    uow.commit()
    return ModelRecord.of(row)


@use_case(Permission.PROMOTE_MODELS)
def set_state(
    uow: UnitOfWork, actor: Actor, version: str, state: ModelState, reason: str = ""
) -> ModelRecord:
    """Move a model to `state`, for `reason` (kept with the change and audited).

    A new champion retires the target's previous one, a new shadow model sends the previous
    one back to registered; the champion itself may only be retired.
    """
    why = _reason(reason)
    session = uow.session
    row = _row(session, version)
    target, was = row.target, ModelState(row.state)
    if was is state:
        raise Conflict(f"model {version} is {state.value} already")
    if was is ModelState.CHAMPION and state is not ModelState.RETIRED:
        raise Conflict(
            f"model {version} is the champion: promote another model in its place, or retire it"
        )
    displaced = _holder(session, target, state) if state in RUNNING else None
    record = uow.audit.record(
        actor,
        "set_model_state",
        _subject(version),
        {
            "target": target,
            "state": state.value,
            "was": was.value,
            "displaced": displaced.version if displaced is not None else None,
            "reason": why,
        },
    )
    if displaced is not None:
        _move(session, displaced, _DISPLACED_TO[state], why, record)
        session.flush()  # the place is free before the model takes it (the unique index)
    _move(session, row, state, why, record)
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise Conflict(
            f"the {target} models changed at the same time; look again and retry"
        ) from None
    return ModelRecord.of(row)


@use_case(Permission.VIEW_MODELS)
def list_models(uow: UnitOfWork, actor: Actor, target: Target | None = None) -> list[ModelRecord]:
    """Every registered model (of `target`, if given): by target, the champion first, then
    the shadow model, challengers, registered and retired models, newest first in each."""
    query = select(ModelRow)
    if target is not None:
        query = query.where(ModelRow.target == target.value)
    records = [ModelRecord.of(row) for row in uow.session.scalars(query)]
    records.sort(key=lambda r: r.registered_at, reverse=True)
    records.sort(key=lambda r: (r.target.value, _LISTING_ORDER.index(r.state)))
    return records


@use_case(Permission.VIEW_MODELS)
def get_model(uow: UnitOfWork, actor: Actor, version: str) -> tuple[ModelRecord, Model]:
    """A registered model's record and the model itself (its trees checked again)."""
    row = _row(uow.session, version)
    record = ModelRecord.of(row)
    return record, model_of(row, record.card)


@use_case(Permission.VIEW_MODELS)
def model_history(uow: UnitOfWork, actor: Actor, version: str) -> list[ModelEvent]:
    """A model's registration and every change of its state, oldest first."""
    _row(uow.session, version)
    rows = uow.session.scalars(
        select(ModelEventRow).where(ModelEventRow.version == version).order_by(ModelEventRow.id)
    )
    return [
        ModelEvent(
            ModelState(row.state),
            ModelState(row.previous) if row.previous is not None else None,
            row.reason,
            row.changed_at,
            row.changed_by,
        )
        for row in rows
    ]
