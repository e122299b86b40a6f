"""Training a gradient-boosted tree model (LightGBM) on a labelled region, judged on later time.

    model = train_region(Path("/tmp/small7"), Target.TRANSACTIONS, until=cut)

The transactions model reads the engine's own declared features, computed in bulk by the same
pass the replay runs (`fundwall.engine.replay.region_features`), so what is trained is what is
served. Time decides everything:

- the **training period** is the history before `until` (default: the 80% point of the
  region's time); its first 80% fits the trees, its last 20% (the **validation** period, the
  most recent the model may see) stops the boosting and sets the policy's thresholds;
  the trees are then fitted again on the whole training period with that many rounds;
- the **held-out period** (at or after `until`) is never read in training: the card's
  `holdout` figures come from it alone, as a backtest with `--from until` does.

A threshold is the probability that gives its action to a chosen share of the validation
period's rows (`Rates`): an intervention budget that means the same on any data, rather than a
probability tuned to one region.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.ranking import average_precision
from fundwall.engine.features import feature_names
from fundwall.engine.models.artifact import Model, ModelCard, ModelPolicy, Target
from fundwall.engine.replay import LOCAL, BulkFeatures, region_features
from fundwall.models.account_features import (
    AccountInputs,
    account_feature_names,
    account_features,
    feature_matrix,
)
from fundwall.models.account_history import micros
from fundwall.models.account_protocol import (
    active_from,
    early_views,
    is_in,
    mules_before,
    mules_of,
    training_set,
)
from fundwall.models.forests import averaged
from fundwall.region import read_table

F64 = npt.NDArray[np.float64]
Goals = Mapping[Action, "Goal"]
TRAIN_SHARE: Final = 0.8
"""Where `until` falls by default, and where the validation period starts inside the training
period: the last fifth of each is what the next step is judged on."""
PARAMS: Final[dict[str, Any]] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "max_bin": 63,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "metric": "average_precision",
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "seed": 7,
    "verbose": -1,
}
"""LightGBM's settings: bagging against over-fitting to a few scams, a fixed seed so the same
data gives the same model; the trees' shape is the target's (`TREE_SHAPES`)."""
TREE_SHAPES: Final[dict[Target, dict[str, int]]] = {
    Target.TRANSACTIONS: {"num_leaves": 7, "max_depth": 4},
    Target.ACCOUNTS: {"num_leaves": 31, "max_depth": -1, "min_data_in_leaf": 20},
}
"""Small trees for transactions: a decision explains its score from every leaf of every
tree, so the online cost follows the leaves (docs/models.md, "Compiled trees"); on the
held-out period they do as well as trees twice their size. Account scores are made in bulk,
where no payment waits: LightGBM's default shape."""


def params_for(target: Target) -> dict[str, Any]:
    """LightGBM's settings for a target's model."""
    return {**PARAMS, **TREE_SHAPES[target]}


FORESTS: Final[dict[Target, int]] = {Target.TRANSACTIONS: 1, Target.ACCOUNTS: 5}
"""Forests a target's model averages, each grown from its own seed (`fundwall.models.forests`):
one for transactions, whose every decision explains every tree inside the payment's latency
budget; five for accounts, scored in bulk, where one forest's luck of the draw moved the
held-out PR-AUC by ±0.005 and the average of five is steadier and higher."""
MAX_ROUNDS: Final = 300
EARLY_STOP: Final = 30
MAX_NEGATIVES: Final = 100_000
"""Ordinary rows fitted at most: beyond this, a random share of them is kept, each weighing
for the ones left out (so the probabilities keep their meaning), which bounds the time a
region's size costs while every fraud row is kept."""


@dataclass(frozen=True, slots=True)
class Goal:
    """How an action's threshold is chosen on the validation period: the lowest probability
    at which the rows it reaches are at least `precision` fraud, as long as they are at most
    `rate` of all rows (an intervention budget); where no probability reaches the precision
    within the budget, the budget's own cut."""

    precision: float
    rate: float

    def __post_init__(self) -> None:
        for name in ("precision", "rate"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise InvalidInput("a share between 0 and 1", name)


DEFAULT_GOALS: Final = {
    Action.ALERT: Goal(precision=0.3, rate=0.02),
    Action.DELAY: Goal(precision=0.8, rate=0.008),
    Action.BLOCK: Goal(precision=0.95, rate=0.005),
}
"""An alert may be wrong more often than a delay (an analyst looks at it); what holds a
customer's money must nearly always be fraud, and never touch more than 1% of payments: the
model's budget is 0.8%, leaving room for the hard controls' own blocks and for a later
period whose fraud share drifts from the validation period's."""


@dataclass(frozen=True)
class Examples:
    """Rows to learn from: a feature matrix, labels and each row's time (µs)."""

    features: tuple[str, ...]
    matrix: F64
    labels: npt.NDArray[np.bool_]
    ts: npt.NDArray[np.int64]


def fingerprint(paths: Iterable[Path], until: datetime | None) -> str:
    """SHA-256 of the training data's files and the moment training stopped."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    digest.update(b"until:" + (until.isoformat() if until else "").encode())
    return digest.hexdigest()


def transaction_examples(folder: Path, features: BulkFeatures = LOCAL) -> Examples:
    """Every transaction of a labelled region with the engine's features (computed by
    `features`) and its label (fraud: `tx_labels.role` is not normal)."""
    names = feature_names()
    table, batches = region_features(folder, features=features)
    parts = [
        np.column_stack([batch.column(name).to_numpy().astype(np.float64) for name in names])
        for batch in batches
    ]
    matrix = np.concatenate(parts) if parts else np.empty((0, len(names)))
    labels = read_table(folder, "tx_labels")
    where = pc.index_in(table["tx_id"], value_set=labels["tx_id"].combine_chunks())
    if where.null_count:
        missing = table["tx_id"].filter(pc.is_null(where))[0].as_py()
        raise InvalidInput(f"transaction {missing} has no label in tx_labels", "tx_labels")
    roles = labels["role"].combine_chunks().take(where)
    fraud = np.asarray(pc.not_equal(roles, "normal").to_numpy(zero_copy_only=False), np.bool_)
    return Examples(names, matrix, fraud, micros(table["ts"], "ts"))


def _moment(ts: npt.NDArray[np.int64], share: float) -> int:
    return int(ts.min() + share * (int(ts.max()) - int(ts.min())))


def _sampled(examples: Examples, rows: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], F64]:
    """The rows to fit and their weights: every positive, at most MAX_NEGATIVES negatives."""
    chosen = np.flatnonzero(rows)
    negative = ~examples.labels[chosen]
    count = int(np.count_nonzero(negative))
    weights = np.ones(chosen.size)
    if count <= MAX_NEGATIVES:
        return chosen, weights
    share = MAX_NEGATIVES / count
    keep = ~negative | (np.random.default_rng(PARAMS["seed"]).random(chosen.size) < share)
    weights[negative] = 1.0 / share
    return chosen[keep], weights[keep]


def _fit(
    examples: Examples,
    rows: npt.NDArray[np.bool_],
    rounds: int,
    valid: npt.NDArray[np.bool_] | None,
    params: dict[str, Any],
    history: dict[str, Any] | None = None,
) -> lgb.Booster:
    """Fit on `rows`; with `valid`, stop early on it and record each round's figure in
    `history`."""
    names = list(examples.features)
    chosen, weights = _sampled(examples, rows)
    data = lgb.Dataset(
        examples.matrix[chosen],
        examples.labels[chosen],
        weight=weights,
        feature_name=names,
        free_raw_data=True,
    )
    if valid is None:
        return lgb.train(params, data, num_boost_round=rounds)
    check = lgb.Dataset(examples.matrix[valid], examples.labels[valid], reference=data)
    return lgb.train(
        params,
        data,
        num_boost_round=rounds,
        valid_sets=[check],
        callbacks=[
            lgb.early_stopping(EARLY_STOP, verbose=False),
            lgb.record_evaluation(history if history is not None else {}),
        ],
    )


def _rounds(history: dict[str, Any]) -> int:
    """How many rounds to fit: the last round whose validation average precision is the best.
    LightGBM's early stopping keeps the first, which is the same while the figure still
    climbs; but when the first trees already rank the validation period perfectly (average
    precision 1, as on PaySim's logs) the first would be a model of a tree or two."""
    (figures,) = history.values()
    scores = np.asarray(figures["average_precision"])
    return int(np.flatnonzero(scores == scores.max())[-1]) + 1


def _threshold(ranked: F64, hits: npt.NDArray[np.int64], goal: Goal) -> float:
    """The lowest probability meeting `goal` on validation rows ranked highest first."""
    budget = max(1, int(goal.rate * ranked.size))
    reached = np.arange(1, ranked.size + 1)
    precise = (hits / reached >= goal.precision) & (reached <= budget)
    # A cut must not split rows of equal probability: take the last row of its run.
    last_of_run = np.append(ranked[1:] < ranked[:-1], True)
    usable = np.flatnonzero(precise & last_of_run)
    if usable.size:
        return float(ranked[usable[-1]])
    return float(ranked[min(budget, ranked.size) - 1])


def _thresholds(probabilities: F64, labels: npt.NDArray[np.bool_], goals: Goals) -> ModelPolicy:
    """Each action's threshold from its goal; a more severe action never below a lesser."""
    order = np.argsort(-probabilities, kind="stable")
    ranked = probabilities[order]
    hits = np.cumsum(labels[order].astype(np.int64))
    chosen: dict[Action, float] = {}
    floor = 1e-6
    for action in (Action.ALERT, Action.DELAY, Action.BLOCK):
        goal = goals.get(action)
        if goal is None:
            continue
        floor = min(max(floor, _threshold(ranked, hits, goal)), 1.0)
        chosen[action] = floor
    return ModelPolicy(chosen)


def _figures(
    probabilities: F64, labels: npt.NDArray[np.bool_], policy: ModelPolicy
) -> dict[str, float | int | None]:
    intercept = policy.thresholds[Action.DELAY]
    flagged = probabilities >= intercept
    hits = int(np.count_nonzero(flagged & labels))
    return {
        "rows": int(labels.size),
        "positives": int(np.count_nonzero(labels)),
        "pr_auc": average_precision(probabilities, labels),
        "intercepted": int(np.count_nonzero(flagged)),
        "intercept_precision": hits / int(np.count_nonzero(flagged)) if flagged.any() else None,
        "intercept_recall": hits / int(np.count_nonzero(labels)) if labels.any() else None,
    }


@dataclass(frozen=True)
class _Learned:
    """Trees fitted in time: the refit booster, its policy and the validation figures."""

    booster: lgb.Booster
    policy: ModelPolicy
    rounds: int
    metrics: dict[str, dict[str, float | int | str | None]]


def _learn(
    examples: Examples,
    fit: npt.NDArray[np.bool_],
    valid: npt.NDArray[np.bool_],
    refit: Examples,
    refit_rows: npt.NDArray[np.bool_],
    *,
    target: Target,
    valid_from: int,
    goals: Goals | None,
    positives: str,
) -> _Learned:
    """Fit on `fit` with early stopping on `valid`, choose the thresholds on `valid`, then fit
    `refit_rows` of `refit` again with as many rounds."""
    for rows, what in ((fit, "fitting"), (valid, "validation")):
        if not examples.labels[rows].any():
            raise InvalidInput(
                f"the {what} period before --until holds no labelled {positives}: "
                "move --until later",
                "until",
            )
    log_odds: list[F64] = []
    forests: list[str] = []
    for member in range(FORESTS[target]):
        params = {**params_for(target), "seed": PARAMS["seed"] + member}
        history: dict[str, Any] = {}
        trial = _fit(examples, fit, MAX_ROUNDS, valid, params, history)
        rounds = _rounds(history)
        log_odds.append(
            np.asarray(trial.predict(examples.matrix[valid], raw_score=True, num_iteration=rounds))
        )
        forests.append(_fit(refit, refit_rows, rounds, None, params).model_to_string())
    booster = lgb.Booster(model_str=averaged(forests))
    checked = 1.0 / (1.0 + np.exp(-np.mean(log_odds, axis=0)))
    policy = _thresholds(checked, examples.labels[valid], goals or DEFAULT_GOALS)
    figures = _figures(checked, examples.labels[valid], policy)
    return _Learned(
        booster,
        policy,
        booster.num_trees(),
        {"validation": {"from": _iso(valid_from), **figures}},
    )


def _model(
    target: Target,
    features: tuple[str, ...],
    learned: _Learned,
    *,
    region: str,
    data_fingerprint: str,
    until: int,
    rows: int,
    positives: int,
    words: tuple[dict[str, str], dict[str, tuple[str, ...]]] | None = None,
) -> Model:
    purpose, limits = words or _words(target, region)
    card = ModelCard(
        target=target,
        features=features,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        region=region,
        fingerprint=data_fingerprint,
        until=_iso(until),
        rows=rows,
        positives=positives,
        params={**params_for(target), "forests": FORESTS[target], "rounds": learned.rounds},
        metrics=learned.metrics,
        policy=learned.policy,
        purpose=purpose,
        limits=limits,
    )
    return Model.from_parts(learned.booster.model_to_string(), card)


def train(
    examples: Examples,
    target: Target,
    *,
    region: str,
    data_fingerprint: str,
    until_us: int | None = None,
    goals: Goals | None = None,
    words: tuple[dict[str, str], dict[str, tuple[str, ...]]] | None = None,
) -> Model:
    """A model of `examples` trained before `until_us` (default: the 80% point), its card
    holding the validation and held-out figures."""
    if examples.matrix.shape[0] == 0:
        raise InvalidInput("nothing to train on: the region has no rows", "region")
    until = until_us if until_us is not None else _moment(examples.ts, TRAIN_SHARE)
    before = examples.ts < until
    if not before.any():
        raise InvalidInput("no history before --until: nothing to train on", "until")
    start = int(examples.ts[before].min())
    valid_from = int(start + TRAIN_SHARE * (until - start))
    fit = before & (examples.ts < valid_from)
    valid = before & ~fit
    learned = _learn(
        examples,
        fit,
        valid,
        examples,
        before,
        target=target,
        valid_from=valid_from,
        goals=goals,
        positives="fraud",
    )
    after = ~before
    if after.any():
        probabilities = np.asarray(learned.booster.predict(examples.matrix[after]), np.float64)
        learned.metrics["holdout"] = {
            "from": _iso(until),
            **_figures(probabilities, examples.labels[after], learned.policy),
        }
    return _model(
        target,
        examples.features,
        learned,
        region=region,
        data_fingerprint=data_fingerprint,
        until=until,
        rows=int(np.count_nonzero(before)),
        positives=int(np.count_nonzero(examples.labels[before])),
        words=words,
    )


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat()


def _words(target: Target, region: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    if target is Target.TRANSACTIONS:
        purpose = {
            "zh": "在决策中为每笔交易给出欺诈概率，与规则一同决定处置动作。",
            "en": "Scores every transaction's probability of fraud inside the decision; "
            "with the rules it decides the action.",
        }
    else:
        purpose = {
            "zh": "为每个账户给出涉诈（“跑分”、买卖账户）概率，超过阈值的账户生成案件。",
            "en": "Scores every account's probability of carrying fraud money (a mule, a "
            "sold or rented account); accounts above the threshold open a case.",
        }
    limits: dict[str, tuple[str, ...]] = {
        "zh": (
            f"仅以区域“{region}”的历史与标签训练；换用于其他地区或时期须重新评估。",
            "模拟区域的欺诈比例远高于真实，概率须按真实基数重新校准。",
            "阈值按验证期的干预比例选定，而非固定概率。",
        ),
        "en": (
            f"Trained only on the history and labels of region {region}; judge it again "
            "before using it on another region or period.",
            "A simulated region over-samples fraud about a hundredfold: recalibrate the "
            "probabilities to real base rates.",
            "Thresholds are chosen as intervention rates of the validation period, not fixed "
            "probabilities.",
        ),
    }
    return purpose, limits


def _stacked(parts: Sequence[tuple[pa.Table, npt.NDArray[np.bool_]]]) -> Examples:
    """Account rows of several moments as one set of examples (`ts` numbers the part)."""
    return Examples(
        account_feature_names(),
        np.concatenate([feature_matrix(table) for table, _ in parts]),
        np.concatenate([labels for _, labels in parts]),
        np.concatenate([np.full(len(labels), i, np.int64) for i, (_, labels) in enumerate(parts)]),
    )


def _with_early_views(
    rows: tuple[pa.Table, npt.NDArray[np.bool_]],
    inputs: AccountInputs,
    labels: pa.Table,
    moment: int,
) -> tuple[pa.Table, npt.NDArray[np.bool_]]:
    """The training rows at `moment` and the mules known then as they were before their
    fraud (`early_views`: positives only, so validation never holds them)."""
    table, known = rows
    early = early_views(inputs, labels, moment)
    if early is None:
        return table, known
    return pa.concat_tables([table, early[0]]), np.concatenate([known, early[1]])


def train_accounts_region(
    folder: Path, *, until: datetime | None = None, goals: Goals | None = None
) -> Model:
    """The accounts model (mule score) of a labelled region, by the same protocol in time:

    - fitting: every account as of the validation moment (80% of the way to `until`), positive
      when its fraud started before that moment, and, on a region with logins, those mules as
      they were before their fraud (`early_views`: a sold account's takeover);
    - validation: the accounts active between that moment and `until`, as of `until`, positive
      when their fraud started before `until` (stops the boosting, sets the thresholds);
    - the trees are fitted again on every account as of `until` (with the early views of the
      mules known then);
    - held out: the accounts active at or after `until`, on the whole history, against their
      labels; the risk seeds are always the mules known at `until`, never later ones.
    """
    inputs = AccountInputs.from_region(folder)
    labels = read_table(folder, "account_labels")
    ts = micros(inputs.transactions["ts"], "ts")
    if ts.size == 0:
        raise InvalidInput("nothing to train on: the region has no transactions", "region")
    cut = int(until.timestamp() * 1_000_000) if until is not None else _moment(ts, TRAIN_SHARE)
    start = int(ts.min())
    if cut <= start:
        raise InvalidInput("no history before --until: nothing to train on", "until")
    valid_from = int(start + TRAIN_SHARE * (cut - start))
    fitting = training_set(inputs, labels, valid_from)
    at_cut, known = training_set(inputs, labels, cut)
    recent = is_in(at_cut["account_no"], active_from(inputs.transactions, valid_from))
    examples = _stacked(
        [
            _with_early_views(fitting, inputs, labels, valid_from),
            (at_cut.filter(pa.array(recent)), known[recent]),
        ]
    )
    refit = _stacked([_with_early_views((at_cut, known), inputs, labels, cut)])
    learned = _learn(
        examples,
        examples.ts == 0,
        examples.ts == 1,
        refit,
        np.ones(len(refit.labels), np.bool_),
        target=Target.ACCOUNTS,
        valid_from=valid_from,
        goals=goals,
        positives="mule",
    )
    whole = account_features(inputs, seeds=mules_before(labels, cut))
    later = is_in(whole["account_no"], active_from(inputs.transactions, cut))
    if later.any():
        mules = is_in(whole["account_no"], mules_of(labels))[later]
        held = _stacked([(whole.filter(pa.array(later)), mules)])
        probabilities = np.asarray(learned.booster.predict(held.matrix), np.float64)
        learned.metrics["holdout"] = {
            "from": _iso(cut),
            **_figures(probabilities, held.labels, learned.policy),
        }
    files = [folder / "transactions.parquet", folder / "account_labels.parquet"]
    return _model(
        Target.ACCOUNTS,
        refit.features,
        learned,
        region=folder.resolve().name,
        data_fingerprint=fingerprint(files, until),
        until=cut,
        rows=len(refit.labels),
        positives=int(np.count_nonzero(refit.labels)),
    )


def train_region(
    folder: Path,
    target: Target = Target.TRANSACTIONS,
    *,
    until: datetime | None = None,
    goals: Goals | None = None,
    features: BulkFeatures = LOCAL,
) -> Model:
    """`fundwall train`: a model of a labelled region folder; a transactions model's features
    are computed by `features`."""
    if target is Target.ACCOUNTS:
        return train_accounts_region(folder, until=until, goals=goals)
    examples = transaction_examples(folder, features)
    files: Sequence[Path] = [folder / "transactions.parquet", folder / "tx_labels.parquet"]
    return train(
        examples,
        target,
        region=folder.resolve().name,
        data_fingerprint=fingerprint(files, until),
        until_us=None if until is None else int(until.timestamp() * 1_000_000),
        goals=goals,
    )
