"""A model inside the decision: its probability, its action and its reason in words.

`ModelScorer(model, layout)` reads the model's features out of a vector in `layout` order (the
engine's `feature_names()`), so online and bulk score the very same values:

- online, `score(vector)` → `Scored` (probability, action) for one transaction, whose
  `reason()` names the features that pushed the score up most (tree SHAP contributions), with
  their values in words;
- in bulk, `probabilities(columns)` over a batch's columns, and the policy's
  `ModelPolicy.codes_for(probabilities)`.

The policy: a decision's action is the most severe of the rules', the model's (its
probability against the model's thresholds, `ModelPolicy`) and the hard controls'. A model
alone never warns (warning speaks to the customer, which the rules decide).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from fundwall.domain.decisions import Action, Reason, Redaction
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Kind, Role, catalogue
from fundwall.engine.models.artifact import Model
from fundwall.engine.rules.templates import Language, format_value

F64 = npt.NDArray[np.float64]
MODEL_REASON: Final = "MODEL"
"""The reason id of a model's part in a decision (a rule id's place)."""
TOP_FEATURES: Final = 3
"""Features a reason names: enough to say why, few enough to read at a glance."""
_ACTION_WORDS: Final = {
    Action.ALERT: ("预警", "alert"),
    Action.DELAY: ("延迟", "delay"),
    Action.BLOCK: ("阻断", "block"),
}


@dataclass(frozen=True, slots=True)
class FeatureWords:
    """How a feature reads: its kind (for the unit), its words, and whether it describes the
    receiving account (a member that does not hold that account does not see its value)."""

    kind: Kind
    zh: str
    en: str
    about_payee: bool = False


def transaction_words() -> dict[str, FeatureWords]:
    """The words of the engine's transaction features (the catalogue's)."""
    return {f.name: FeatureWords(f.kind, f.zh, f.en, f.role is Role.PAYEE) for f in catalogue()}


def _sigmoid(raw: F64) -> F64:
    result: F64 = 1.0 / (1.0 + np.exp(-np.clip(raw, -700.0, 700.0)))
    return result


@dataclass(slots=True)
class Scored:
    """One vector's score: made once per decision, read by its live and shadow decisions."""

    scorer: ModelScorer
    row: F64
    probability: float
    action: Action
    _reason: Reason | None = None

    def reason(self) -> Reason:
        """The model's reason (`ModelScorer` words it), computed on first use only: its
        contributions cost more than the score."""
        if self._reason is None:
            self._reason = self.scorer._reason(self.row, self.probability, self.action)
        return self._reason


class ModelScorer:
    """Scores vectors laid out in `layout` with `model`."""

    def __init__(
        self,
        model: Model,
        layout: Sequence[str],
        words: Mapping[str, FeatureWords] | None = None,
    ) -> None:
        position = {name: i for i, name in enumerate(layout)}
        missing = [name for name in model.card.features if name not in position]
        if missing:
            raise InvalidInput(
                f"model {model.version} reads features the engine does not compute: "
                + ", ".join(missing[:5]),
                "features",
            )
        self.model = model
        self.version = model.version
        self.policy = model.card.policy
        self.trees = model.trees
        self._take = np.array([position[name] for name in model.card.features], np.intp)
        self._names = model.card.features
        known = words if words is not None else transaction_words()
        self._words = tuple(
            known.get(name, FeatureWords(Kind.COUNT, name, name)) for name in self._names
        )

    def _row(self, vector: Sequence[float]) -> F64:
        row: F64 = np.asarray(vector, np.float64)[self._take]
        return row

    def score(self, vector: Sequence[float]) -> Scored:
        """The probability of one vector and the action the model's thresholds give it."""
        row = self._row(vector)
        probability = self.model.probability(self.trees.raw_one(row))
        return Scored(self, row, probability, self.policy.action_for(probability))

    def _reason(self, row: F64, probability: float, action: Action) -> Reason:
        """The model's reason: its score and, when the score reached a threshold (`action`
        is not pass), that threshold and the features that pushed the score up most."""
        values: dict[str, int | float | str] = {"model_score": round(probability, 4)}
        top: list[int] = []
        if action is not Action.PASS:
            contributions = self.trees.contributions_one(row)[:-1]
            order = np.argsort(-contributions, kind="stable")[:TOP_FEATURES]
            top = [int(i) for i in order if contributions[i] > 0]
        for i in top:
            value = float(row[i])
            exact = self._words[i].kind is Kind.RATIO or not value.is_integer()
            values[self._names[i]] = value if exact else int(value)
        parts = {language: self._parts(language, row, top) for language in ("zh", "en")}
        zh = self._text("zh", probability, action, parts["zh"])
        en = self._text("en", probability, action, parts["en"])
        payee = frozenset(self._names[i] for i in top if self._words[i].about_payee)
        redaction = None
        if payee:
            kept = [k for k, i in enumerate(top) if not self._words[i].about_payee]
            redaction = Redaction(
                self._text("zh", probability, action, [parts["zh"][k] for k in kept], True),
                self._text("en", probability, action, [parts["en"][k] for k in kept], True),
                payee,
            )
        return Reason(MODEL_REASON, zh, en, values, redaction)

    def _parts(self, language: Language, row: F64, top: list[int]) -> list[str]:
        """Each named feature with its value, in `language` ("近7天收款方数 35")."""
        zh = language == "zh"
        return [
            f"{self._words[i].zh if zh else self._words[i].en} "
            f"{format_value(float(row[i]), self._words[i].kind, language)}"
            for i in top
        ]

    def _text(
        self,
        language: Language,
        probability: float,
        action: Action,
        parts: list[str],
        hidden: bool = False,
    ) -> str:
        zh = language == "zh"
        head = f"模型评分{probability:.4f}" if zh else f"Model score {probability:.4f}"
        threshold = self.policy.thresholds.get(action)
        if threshold is not None:
            word = _ACTION_WORDS[action][0 if zh else 1]
            head += (
                f"（{word}阈值{threshold:.4f}）" if zh else f" ({word} threshold {threshold:.4f})"
            )
        if hidden:
            parts = [*parts, "收款账户的特征" if zh else "features of the receiving account"]
        if not parts:
            return head
        return (
            head
            + ("；主要因素：" if zh else "; main factors: ")
            + ("、" if zh else "; ").join(parts)
        )

    def probabilities(self, columns: Mapping[str, npt.ArrayLike]) -> F64:
        """The probability of every row of a batch given as feature columns."""
        matrix = np.column_stack([np.asarray(columns[name], np.float64) for name in self._names])
        return _sigmoid(self.trees.raw_many(np.ascontiguousarray(matrix)))
