"""A trained model as it travels: a folder with LightGBM's own text and a model card.

    MODEL_DIR/
      model.txt   the trees, in LightGBM's text format (`Booster.model_to_string()`)
      card.json   what the model is for, what it reads, how it was trained and how it did

`read_model(folder)` and `Model.from_parts(text, card)` check both parts and give a `Model`;
`write_model(folder, model)` writes them. The registry stores the same two parts. A model's
version is its target's short name and the first 12 hex digits of the SHA-256 of both parts
(`tx-3f1c0a9b2e4d`), so two different models never share a version.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.models.kinds import Target as Target

if TYPE_CHECKING:
    from fundwall.engine.models.trees import CompiledTrees

FORMAT: Final = "fundwall-model/1"
MODEL_FILE: Final = "model.txt"
CARD_FILE: Final = "card.json"
MAX_MODEL_BYTES: Final = 64 * 1024 * 1024
"""A model larger than this is refused: LightGBM models for these features are a few MB."""
MODEL_ACTIONS: Final = (Action.ALERT, Action.DELAY, Action.BLOCK)
"""The actions a model's thresholds may lead to (warn speaks to the customer: rules decide it)."""


@dataclass(frozen=True, slots=True)
class ModelPolicy:
    """Probability thresholds, each the least probability that leads to its action.

    Chosen at training from the held-out period's scores (an action's threshold is the score
    that gives it to a chosen share of that period's rows), so they follow the data the model
    was trained on rather than a figure fixed in code.
    """

    thresholds: Mapping[Action, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        last = 0.0
        for action in MODEL_ACTIONS:
            value = self.thresholds.get(action)
            if value is None:
                continue
            if not (isinstance(value, int | float) and 0.0 < value <= 1.0):
                raise InvalidInput("a threshold is a probability in (0, 1]", action.value)
            if value < last:
                raise InvalidInput("thresholds must not fall as actions grow", action.value)
            last = value
        unknown = set(self.thresholds) - set(MODEL_ACTIONS)
        if unknown:
            raise InvalidInput(
                f"a model leads only to {', '.join(a.value for a in MODEL_ACTIONS)}",
                "thresholds",
            )

    def action_for(self, probability: float) -> Action:
        """The most severe action whose threshold `probability` reaches; pass if none."""
        reached = Action.PASS
        for action in MODEL_ACTIONS:
            value = self.thresholds.get(action)
            if value is not None and probability >= value:
                reached = action
        return reached

    def codes_for(self, probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
        """`action_for` over a column of probabilities, as `Action.severity` codes (0 pass)."""
        codes = np.zeros(probabilities.shape, np.uint8)
        for action in MODEL_ACTIONS:  # in severity order: a higher threshold overwrites
            value = self.thresholds.get(action)
            if value is not None:
                codes[probabilities >= value] = action.severity
        return codes

    def to_dict(self) -> dict[str, float]:
        return {action.value: float(value) for action, value in self.thresholds.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelPolicy:
        if not isinstance(data, Mapping):
            raise InvalidInput("expected a mapping of action to probability", "thresholds")
        try:
            return cls({Action(key): float(value) for key, value in data.items()})
        except (ValueError, TypeError):
            raise InvalidInput(
                "expected alert, delay or block mapped to a probability", "thresholds"
            ) from None


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a model is for and how it was made (card.json).

    `fingerprint` is the SHA-256 of the training data (the files or tables it was trained
    on, `fundwall.models.training.fingerprint`); `metrics` holds the figures on held-out
    time (`holdout`) and on the training period (`training`), each a mapping of figure to
    number; `purpose` and `limits` are the card's words, in Chinese and English.
    """

    target: Target
    features: tuple[str, ...]
    trained_at: str
    region: str
    fingerprint: str
    until: str | None
    rows: int
    positives: int
    params: Mapping[str, Any]
    metrics: Mapping[str, Mapping[str, float | int | str | None]]
    policy: ModelPolicy
    purpose: Mapping[str, str]
    limits: Mapping[str, tuple[str, ...]]
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "target": self.target.value,
            "features": list(self.features),
            "trained_at": self.trained_at,
            "region": self.region,
            "fingerprint": self.fingerprint,
            "until": self.until,
            "rows": self.rows,
            "positives": self.positives,
            "params": dict(self.params),
            "metrics": {name: dict(values) for name, values in self.metrics.items()},
            "policy": self.policy.to_dict(),
            "purpose": dict(self.purpose),
            "limits": {language: list(lines) for language, lines in self.limits.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        """Read card.json's object; InvalidInput naming the field that is wrong."""
        if not isinstance(data, Mapping):
            raise InvalidInput("expected a JSON object", CARD_FILE)
        if data.get("format") != FORMAT:
            raise InvalidInput(f"expected format {FORMAT!r}", "format")
        try:
            target = Target(str(data.get("target")))
        except ValueError:
            raise InvalidInput("expected transactions or accounts", "target") from None
        features = data.get("features")
        if (
            not isinstance(features, list)
            or not features
            or not all(isinstance(name, str) and name for name in features)
            or len(set(features)) != len(features)
        ):
            raise InvalidInput("expected a list of distinct feature names", "features")
        for key in ("trained_at", "region", "fingerprint"):
            if not isinstance(data.get(key), str):
                raise InvalidInput("expected text", key)
        for key in ("rows", "positives"):
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput("expected a whole number", key)
        until = data.get("until")
        if until is not None and not isinstance(until, str):
            raise InvalidInput("expected an ISO 8601 time or null", "until")
        metrics = data.get("metrics", {})
        if not isinstance(metrics, Mapping) or not all(
            isinstance(v, Mapping) for v in metrics.values()
        ):
            raise InvalidInput("expected a mapping of mappings", "metrics")
        return cls(
            target=target,
            features=tuple(features),
            trained_at=data["trained_at"],
            region=data["region"],
            fingerprint=data["fingerprint"],
            until=until,
            rows=data["rows"],
            positives=data["positives"],
            params=dict(data.get("params") or {}),
            metrics={name: dict(values) for name, values in metrics.items()},
            policy=ModelPolicy.from_dict(data.get("policy") or {}),
            purpose=_words(data.get("purpose"), "purpose"),
            limits={
                language: tuple(_lines(lines, f"limits.{language}"))
                for language, lines in _mapping(data.get("limits"), "limits").items()
            },
            version=str(data.get("version") or ""),
        )


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("expected a mapping", where)
    return value


def _words(value: object, where: str) -> dict[str, str]:
    words = _mapping(value, where)
    if not all(isinstance(text, str) for text in words.values()):
        raise InvalidInput("expected text per language", where)
    return dict(words)


def _lines(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise InvalidInput("expected a list of lines", where)
    return value


@dataclass(frozen=True)
class Model:
    """A model's trees (LightGBM text) and its card, checked to fit each other."""

    text: str
    card: ModelCard

    @property
    def version(self) -> str:
        return self.card.version

    @property
    def target(self) -> Target:
        return self.card.target

    @cached_property
    def trees(self) -> CompiledTrees:
        """The trees compiled for scoring, made on first use and kept with the model."""
        from fundwall.engine.models.trees import CompiledTrees

        return CompiledTrees.from_model_string(self.text)

    @classmethod
    def from_parts(cls, text: str, card: ModelCard) -> Model:
        """The model of these parts, its version computed from them (a version written in
        the card must match: a card edited by hand is refused)."""
        if not text.startswith("tree\n") or "\nTree=0\n" not in text:
            raise InvalidInput("not a LightGBM model (expected its text format)", MODEL_FILE)
        if len(text.encode()) > MAX_MODEL_BYTES:
            raise InvalidInput(f"larger than {MAX_MODEL_BYTES // 2**20} MiB", MODEL_FILE)
        names = _feature_names(text)
        if names != card.features:
            raise InvalidInput(
                "the card's features are not the ones the trees were trained on", "features"
            )
        version = version_of(text, card)
        if card.version and card.version != version:
            raise InvalidInput(
                f"the card says version {card.version}, its content is {version}", "version"
            )
        return cls(text, replace(card, version=version))

    def probability(self, raw: float) -> float:
        """The model's raw score (log-odds) as a probability."""
        return 1.0 / (1.0 + math.exp(-raw)) if raw > -700 else 0.0


def _feature_names(text: str) -> tuple[str, ...]:
    for line in text.splitlines():
        if line.startswith("feature_names="):
            return tuple(line.removeprefix("feature_names=").split(" "))
    raise InvalidInput("the model names no features", MODEL_FILE)


def version_of(text: str, card: ModelCard) -> str:
    """`{target}-{12 hex digits}` of the SHA-256 of the trees and the card (without its
    version)."""
    body = json.dumps({**card.to_dict(), "version": ""}, sort_keys=True).encode()
    digest = hashlib.sha256(text.encode() + b"\0" + body).hexdigest()
    return f"{card.target.short}-{digest[:12]}"


def read_model(folder: Path) -> Model:
    """The model in `folder` (model.txt and card.json)."""
    if not folder.is_dir():
        raise NotFound("model folder", str(folder))
    try:
        text = (folder / MODEL_FILE).read_text(encoding="utf-8")
        body = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InvalidInput(f"{folder} has no {Path(str(error.filename)).name}", "folder") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"cannot read {folder}: {error}", "folder") from None
    return Model.from_parts(text, ModelCard.from_dict(body))


def write_model(folder: Path, model: Model) -> Path:
    """Write the model's two files into `folder` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_FILE).write_text(model.text, encoding="utf-8")
    (folder / CARD_FILE).write_text(
        json.dumps(model.card.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return folder
