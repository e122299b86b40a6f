"""The model registry as the engine reads it: the running models of a target and the
registry's latest revision (like `engine/registry.py` for rule packs). Changes are the
`fundwall.models.registry` use cases'."""

from __future__ import annotations

import json
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from fundwall.domain.errors import InvalidInput
from fundwall.engine.models.artifact import Model, ModelCard, Target
from fundwall.engine.models.kinds import ModelState as ModelState
from fundwall.store.model_tables import RUNNING_STATES, ModelRow

RUNNING: Final = tuple(ModelState(state) for state in RUNNING_STATES)
"""The states the engine scores online (champion, shadow); each is held by at most one model
per target, which a unique index of the table also ensures."""


def card_of(row: ModelRow) -> ModelCard:
    return ModelCard.from_dict(json.loads(row.card))


def model_of(row: ModelRow, card: ModelCard | None = None) -> Model:
    """The stored model, checked again: stored parts that no longer give their version (a
    row edited in the database) are refused."""
    try:
        return Model.from_parts(row.text, card if card is not None else card_of(row))
    except InvalidInput as error:
        raise error.at(f"stored model {row.version}") from None


def running_models(session: Session, target: Target) -> dict[ModelState, Model]:
    """The champion and the shadow model of `target`, where it has them."""
    rows = session.scalars(
        select(ModelRow)
        .where(ModelRow.target == target.value, ModelRow.state.in_([s.value for s in RUNNING]))
        .options(undefer(ModelRow.text))
    )
    return {ModelState(row.state): model_of(row) for row in rows}
