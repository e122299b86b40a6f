"""The model registry as people read it: a model's features in words, and models of one
target side by side (their held-out figures, and the features each adds to or drops from
the first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.features.catalog import catalogue
from fundwall.engine.models.artifact import ModelCard, Target
from fundwall.models.registry import ModelRecord, list_models
from fundwall.store.uow import UnitOfWork

HOLDOUT: Final = "holdout"
"""The card's figures on held-out time (`ModelCard.metrics`), the ones models are judged on."""
MAX_COMPARED: Final = 6
"""Models side by side at most: more do not fit a page."""

Figure = float | int | str | None


@dataclass(frozen=True, slots=True)
class FeatureWords:
    """A feature a model reads, with what it means (None where the catalogue does not
    declare it)."""

    name: str
    zh: str | None
    en: str | None

    def words(self, language: str) -> str | None:
        return self.zh if language == "zh" else self.en


def feature_words(card: ModelCard) -> tuple[FeatureWords, ...]:
    """Each feature of the model in its order, with its meaning: a transaction model reads
    the engine's feature catalogue, which says what each feature is; an account model's
    features are made by its training and are shown by name."""
    meanings = (
        {feature.name: feature for feature in catalogue()}
        if card.target is Target.TRANSACTIONS
        else {}
    )
    described = []
    for name in card.features:
        meaning = meanings.get(name)
        described.append(
            FeatureWords(name, meaning.zh if meaning else None, meaning.en if meaning else None)
        )
    return tuple(described)


@dataclass(frozen=True, slots=True)
class Compared:
    """A model of a comparison, with the features it reads that the first does not
    (`added`) and those of the first it does not read (`removed`)."""

    record: ModelRecord
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def figure(self, name: str) -> Figure:
        """A held-out figure of the model's card; None where it has none."""
        return self.record.card.metrics.get(HOLDOUT, {}).get(name)


@dataclass(frozen=True, slots=True)
class ModelComparison:
    """Models of one target side by side, the first the one the others are set against;
    `figures` are the held-out figures any of them has, in the order the cards give them."""

    target: Target
    models: tuple[Compared, ...]
    figures: tuple[str, ...]


@use_case(Permission.VIEW_MODELS)
def compare_models(uow: UnitOfWork, actor: Actor, versions: Sequence[str]) -> ModelComparison:
    """Two to `MAX_COMPARED` models of one target side by side, against the first."""
    wanted = tuple(dict.fromkeys(versions))
    if not 2 <= len(wanted) <= MAX_COMPARED:
        raise InvalidInput(f"choose 2 to {MAX_COMPARED} different models to compare", "version")
    known = {record.version: record for record in list_models(uow, actor)}
    for version in wanted:
        if version not in known:
            raise NotFound("model version", version)
    records = [known[version] for version in wanted]
    targets = {record.target for record in records}
    if len(targets) > 1:
        raise InvalidInput(
            "models of different targets (transactions, accounts) cannot be compared", "version"
        )
    base = records[0].features
    figures = dict.fromkeys(
        name for record in records for name in record.card.metrics.get(HOLDOUT, {})
    )
    return ModelComparison(
        target=records[0].target,
        models=tuple(
            Compared(
                record,
                tuple(name for name in record.features if name not in base),
                tuple(name for name in base if name not in record.features),
            )
            for record in records
        ),
        figures=tuple(figures),
    )
