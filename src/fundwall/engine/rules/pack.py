"""Rule packs: rules, a policy, and their two executions (one transaction, or whole columns)."""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from fundwall.domain.decisions import Action, Reason, Redaction, most_severe
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Kind, Role, features_about
from fundwall.engine.rules.bulk import Array, rows_where
from fundwall.engine.rules.nodes import Node, features_of
from fundwall.engine.rules.online import Evaluator, compile_online
from fundwall.engine.rules.policy import ACTIONS_BY_CODE, Policy
from fundwall.engine.rules.templates import Language, Template
from fundwall.engine.rules.vocabulary import Catalogue


@dataclass(frozen=True, slots=True)
class Text:
    """The same words in Chinese and English."""

    zh: str
    en: str

    def __getitem__(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


TYPOLOGIES: Mapping[str, str] = MappingProxyType(
    {
        "mule": "a mule account receiving and passing on fraud money (过渡账户)",
        "layering": "money split and moved through accounts and banks within minutes",
        "cash_out": "money leaving the banking system: ATM, cash",
        "victim": "a likely scam victim paying a fraudster",
        "account_trading": "an account that changed hands: sold, rented or lent (买卖账户)",
        "dormant": "a long-idle account that wakes up",
        "batch_opening": "accounts opened or held in numbers by one person or device",
        "shared_identity": "a device, IP or phone behind several parties",
        "velocity": "a burst of transactions",
        "structuring": "amounts shaped to avoid limits and thresholds",
        "limits": "account-class limits under pressure",
        "night": "activity at night",
    }
)
"""The typologies a rule may name, with what each covers."""

REDACTED_BY_TYPOLOGY: Mapping[str, Text] = MappingProxyType(
    {
        "mule": Text("收款账户疑似过渡账户", "the payee account looks like a pass-through account"),
        "layering": Text(
            "收款账户疑似用于资金快速分层转移",
            "the payee account looks like a stage of money moved on in layers",
        ),
        "cash_out": Text(
            "收款账户疑似用于取现", "the payee account looks like it is used to take money out"
        ),
        "victim": Text(
            "收款账户符合诈骗收款账户的特征",
            "the payee account fits the profile of an account collecting scam money",
        ),
        "account_trading": Text(
            "收款账户疑似已被出售、出租或出借",
            "the payee account may have been sold, rented or lent",
        ),
        "dormant": Text(
            "收款账户长期未使用后突然启用", "the payee account was long idle and has woken up"
        ),
        "batch_opening": Text(
            "收款账户疑似批量开立或控制的账户",
            "the payee account may be one of many opened or held together",
        ),
        "shared_identity": Text(
            "收款账户与其他客户共用身份要素",
            "the payee account shares identifying details with other customers",
        ),
        "velocity": Text(
            "收款账户短时间内交易异常频繁", "the payee account shows a burst of transactions"
        ),
        "structuring": Text(
            "收款账户的交易金额疑似为规避限额而拆分",
            "the payee account's amounts look shaped to stay under limits",
        ),
        "limits": Text(
            "收款账户已接近其账户类别限额", "the payee account is near its account-class limits"
        ),
        "night": Text("收款账户夜间交易异常", "the payee account is unusually active at night"),
    }
)
"""For each typology, the words of a reason that a member not holding the payee's account
reads when the rule quotes that account's figures and declares no `reason_redacted`."""


_PAYEE_FEATURES = features_about(Role.PAYEE)


@dataclass(frozen=True, slots=True)
class ReasonTemplate:
    zh: Template
    en: Template

    def __getitem__(self, language: Language) -> Template:
        return self.zh if language == "zh" else self.en

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.zh.features + self.en.features))


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack. `line` is where it starts in its file (not part of equality)."""

    id: str
    name: Text
    when: Node
    when_text: str
    score: int
    typology: str
    reason: ReasonTemplate
    action: Action | None = None
    enabled: bool = True
    intent: Text | None = None
    reason_redacted: ReasonTemplate | None = None
    """The reason for a member that does not hold the payee's account (None: the wording of
    the rule's typology, `REDACTED_BY_TYPOLOGY`); it quotes none of that account's figures."""
    line: int = field(default=0, compare=False)
    payee_values: frozenset[str] = field(init=False, compare=False, repr=False)
    """The features the rule reads that describe the payee's account: the values a member
    that does not hold that account does not receive."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "payee_values", frozenset(self.features) & _PAYEE_FEATURES)

    @property
    def features(self) -> tuple[str, ...]:
        """Features the rule reads in its condition and its reasons, first use first."""
        redacted = self.reason_redacted.features if self.reason_redacted else ()
        return tuple(dict.fromkeys(features_of(self.when) + self.reason.features + redacted))

    @property
    def quotes_payee(self) -> bool:
        """Whether the reason's text quotes a figure of the payee's account."""
        return not self.payee_values.isdisjoint(self.reason.features)


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired on a transaction, with the feature values it referenced.

    Values are whole numbers (fen, counts, days) except ratios, which stay floats.
    """

    rule: Rule
    values: Mapping[str, float]
    kinds: Catalogue = field(repr=False, compare=False)

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def score(self) -> int:
        return self.rule.score

    def reason(self, language: Language) -> str:
        """The rule's reason in words, values in their units (¥1,234.56, 95%, 3天)."""
        return self.rule.reason[language].render(self.values, self.kinds, language)

    def redacted_reason(self, language: Language) -> str:
        """The reason without the payee account's figures: the rule's `reason_redacted`, or
        the wording of its typology when it declares none."""
        declared = self.rule.reason_redacted
        if declared is None:
            return REDACTED_BY_TYPOLOGY[self.rule.typology][language]
        return declared[language].render(self.values, self.kinds, language)

    def to_reason(self) -> Reason:
        """The domain Reason a decision carries, with its redaction when the rule reads the
        payee's account (`Decision.seen_by`)."""
        zh, en = self.reason("zh"), self.reason("en")
        redaction = None
        withheld = self.rule.payee_values
        if withheld:
            if self.rule.quotes_payee:
                redaction = Redaction(
                    self.redacted_reason("zh"), self.redacted_reason("en"), withheld
                )
            else:
                redaction = Redaction(zh, en, withheld)
        return Reason(self.rule.id, zh, en, dict(self.values), redaction)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A pack's verdict on one transaction; `fired` is ordered by score, highest first."""

    score: int
    action: Action
    fired: tuple[FiredRule, ...]

    def reasons(self) -> tuple[Reason, ...]:
        return tuple(fired.to_reason() for fired in self.fired)


@dataclass(frozen=True, slots=True)
class BulkEvaluation:
    """A pack's verdicts on many transactions, one row each.

    `actions` holds uint8 codes (`ACTIONS_BY_CODE[code]`, 0 pass … 4 block); `fired[row, j]`
    tells whether `rule_ids[j]` fired on that row.
    """

    scores: npt.NDArray[np.int64]
    actions: npt.NDArray[np.uint8]
    fired: npt.NDArray[np.bool_]
    rule_ids: tuple[str, ...]

    def action(self, row: int) -> Action:
        return ACTIONS_BY_CODE[int(self.actions[row])]

    def fired_rules(self, row: int) -> tuple[str, ...]:
        return tuple(
            rule_id for rule_id, hit in zip(self.rule_ids, self.fired[row], strict=True) if hit
        )


class RulePack:
    """A validated, compiled rule pack. Build one with `load_pack` or `parse_pack`."""

    def __init__(
        self,
        *,
        pack_id: str,
        declared_version: str,
        digest: str,
        description: Text,
        policy: Policy,
        rules: Sequence[Rule],
        catalogue: Catalogue,
        source: str,
    ) -> None:
        self.id = pack_id
        self.declared_version = declared_version
        self.digest = digest
        self.version = f"{declared_version}:{digest[:12]}"
        """The declared version and the file's content hash: no two files share it."""
        self.description = description
        self.policy = policy
        self.rules = tuple(rules)
        self.source = source
        self.catalogue = catalogue
        self.active = tuple(rule for rule in self.rules if rule.enabled)
        self.feature_names = tuple(
            dict.fromkeys(name for rule in self.active for name in rule.features)
        )
        """The features the enabled rules read, in the order `evaluate_vector` expects."""
        slots = {name: i for i, name in enumerate(self.feature_names)}
        self._compiled: tuple[tuple[Rule, Evaluator, tuple[tuple[str, int, bool], ...]], ...] = (
            tuple(
                (
                    rule,
                    compile_online(rule.when, slots),
                    tuple((n, slots[n], catalogue[n] is Kind.RATIO) for n in rule.features),
                )
                for rule in self.active
            )
        )

    def __repr__(self) -> str:
        return f"RulePack({self.id} {self.version}, {len(self.active)}/{len(self.rules)} rules)"

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise InvalidInput(f"no rule '{rule_id}' in pack {self.id}", "rule_id")

    def evaluate(self, features: Mapping[str, float]) -> Evaluation:
        """Evaluate one transaction's features (name → value; extra names are ignored)."""
        try:
            vector = [float(features[name]) for name in self.feature_names]
        except KeyError as missing:
            raise InvalidInput(f"feature {missing} is missing", "features") from None
        except (TypeError, ValueError):
            bad = next(n for n in self.feature_names if not _is_number(features[n]))
            raise InvalidInput(f"feature '{bad}' is not a number", "features") from None
        return self.evaluate_vector(vector)

    def evaluate_vector(self, vector: Sequence[float]) -> Evaluation:
        """Evaluate one transaction given as numbers in `feature_names` order (the fast path
        for a caller that keeps its feature vector in that order)."""
        if len(vector) != len(self.feature_names):
            raise InvalidInput(
                f"expected {len(self.feature_names)} feature values, got {len(vector)}", "features"
            )
        fired = [
            FiredRule(
                rule, {name: _shown(vector[i], ratio) for name, i, ratio in reads}, self.catalogue
            )
            for rule, evaluator, reads in self._compiled
            if evaluator(vector)
        ]
        if not fired:
            return Evaluation(0, Action.PASS, ())
        fired.sort(key=lambda f: (-f.rule.score, f.rule.id))
        score = sum(f.rule.score for f in fired)
        forced = (f.rule.action for f in fired if f.rule.action is not None)
        action = most_severe((self.policy.action_for(score), *forced))
        return Evaluation(score, action, tuple(fired))

    def bind(self, layout: Sequence[str]) -> Callable[[Sequence[float]], Evaluation]:
        """An evaluator of vectors laid out in `layout` order, such as the catalogue's
        `feature_names()`, so that an online feature vector is evaluated as it comes."""
        where = {name: i for i, name in enumerate(layout)}
        missing = [name for name in self.feature_names if name not in where]
        if missing:
            raise InvalidInput(f"the layout lacks features: {', '.join(missing)}", "layout")
        positions = [where[name] for name in self.feature_names]
        take = operator.itemgetter(*positions, positions[0])

        # The extra position makes itemgetter return a tuple even for one feature.
        def evaluate(vector: Sequence[float]) -> Evaluation:
            return self.evaluate_vector(take(vector)[:-1])

        return evaluate

    def evaluate_bulk(self, columns: Mapping[str, npt.ArrayLike]) -> BulkEvaluation:
        """Evaluate many transactions at once: one array per feature, one row per transaction."""
        missing = [name for name in self.feature_names if name not in columns]
        if missing:
            raise InvalidInput(f"missing feature columns: {', '.join(missing)}", "columns")
        arrays = {name: np.asarray(columns[name]) for name in self.feature_names}
        odd = [name for name, array in arrays.items() if array.dtype.kind not in "biuf"]
        if odd:
            raise InvalidInput(f"feature columns are not numeric: {', '.join(odd)}", "columns")
        shapes = {array.shape for array in arrays.values()}
        if len(shapes) > 1 or any(len(shape) != 1 for shape in shapes):
            raise InvalidInput(
                "feature columns must be one-dimensional and of equal length", "columns"
            )
        if shapes:
            rows = next(iter(shapes))[0]
        else:  # a pack of no rules reads nothing: any column given tells the row count
            rows = len(np.asarray(next(iter(columns.values())))) if columns else 0
        fired = np.zeros((rows, len(self.active)), dtype=np.bool_, order="F")
        scores = np.zeros(rows, np.int64)
        shared: dict[Node, Array] = {}
        hits = [rows_where(rule.when, arrays, rows, shared) for rule in self.active]
        for j, (rule, at) in enumerate(zip(self.active, hits, strict=True)):
            fired[at, j] = True
            scores[at] += rule.score
        actions = self.policy.codes_for(scores)
        for rule, at in zip(self.active, hits, strict=True):
            if rule.action is not None:
                actions[at] = np.maximum(actions[at], np.uint8(rule.action.severity))
        return BulkEvaluation(scores, actions, fired, tuple(rule.id for rule in self.active))


def _shown(value: float, ratio: bool) -> float:
    """A value as a decision records it: money, counts and days as whole numbers."""
    number = float(value)
    return int(number) if not ratio and number.is_integer() else number


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real)
