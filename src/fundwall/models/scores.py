"""Every account's mule score (涉诈账户风险评分), kept current by the hub (docs/models.md,
"Account scores").

`refresh_account_scores` reads the store's history (`fundwall.models.queries.store_inputs`),
computes every account's features as of now with the accounts on the shared risk list as
fraud accounts or mules as the known fraud they spread from, scores them all with the accounts
champion, and replaces the stored scores. An account at or above the model's alert threshold
also gets the features that pushed its score up most (tree SHAP contributions, about a
millisecond an account, so only for those), and the accounts flagged so become cases of the
members holding them (`fundwall.cases.scoring`), a detected network (flagged accounts tied
by money over every member's transfers, `fundwall.models.account_networks`) one case at each
member holding part of it. `account_score` is a member's reading of
one of its accounts' score, as the account page shows it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.scoring import open_score_cases
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.features.catalog import Kind
from fundwall.engine.model_registry import ModelState, running_models
from fundwall.engine.models.artifact import Model, Target
from fundwall.models.account_features import ACCOUNT_FEATURES, account_features, feature_matrix
from fundwall.models.account_networks import flagged_networks, passes_through
from fundwall.models.queries import (
    contributions_of,
    known_fraud,
    replace_scores,
    score_row,
    store_inputs,
)
from fundwall.store.uow import UnitOfWork

TOP_CONTRIBUTIONS: Final = 5
"""Features a score names: enough to say why, few enough to read at a glance."""
_WORDS: Final = {feature.name: feature for feature in ACCOUNT_FEATURES}


@dataclass(frozen=True, slots=True)
class ScoreRun:
    """What one refresh did."""

    model_version: str
    computed_at: datetime
    accounts: int
    """Accounts scored (every account the store holds, which a member answers for)."""
    actions: dict[str, int]
    """Accounts per action (pass, alert, delay, block)."""
    explained: int
    """Accounts whose contributions were computed (those at or above the alert threshold)."""
    seeds: int
    """Accounts on the shared risk list read as known fraud."""
    cases: tuple[int, ...]
    """The cases opened."""

    def to_dict(self) -> dict[str, Any]:
        """What `fundwall scores refresh --json` prints."""
        return {
            "model_version": self.model_version,
            "computed_at": self.computed_at.isoformat(),
            "accounts": self.accounts,
            "actions": self.actions,
            "explained": self.explained,
            "seeds": self.seeds,
            "cases": list(self.cases),
        }


@dataclass(frozen=True, slots=True)
class ScoreContribution:
    """A feature that pushed an account's score up: its words, its value (None when unknown)
    and how much it added to the log-odds."""

    name: str
    zh: str
    en: str
    kind: Kind
    value: float | None
    contribution: float


@dataclass(frozen=True, slots=True)
class AccountScore:
    """An account's latest mule score."""

    account_no: str
    bank: str
    model_version: str
    probability: float
    action: Action
    contributions: tuple[ScoreContribution, ...] | None
    """Largest first; None when not computed (scored below the alert threshold)."""
    computed_at: datetime


def _champion(uow: UnitOfWork) -> Model:
    champion = running_models(uow.session, Target.ACCOUNTS).get(ModelState.CHAMPION)
    if champion is None:
        raise NotFound("champion model of accounts", "promote one (fundwall models)")
    return champion


def model_matrix(features: pa.Table, model: Model) -> npt.NDArray[np.float64]:
    """The columns of an `account_features` table that `model` reads, in its order."""
    missing = [name for name in model.card.features if name not in features.column_names]
    if missing:
        raise InvalidInput(
            f"model {model.version} reads features the account features do not compute: "
            + ", ".join(missing[:5]),
            "features",
        )
    return feature_matrix(features, model.card.features)


def probabilities_of(model: Model, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The model's probability for each row of `matrix`, scored in bulk."""
    if not len(matrix):
        return np.empty(0)
    raw = model.trees.raw_many(matrix)
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(raw, -700.0, 700.0))), np.float64)


def _top(names: tuple[str, ...], row: np.ndarray, phi: np.ndarray) -> list[dict[str, Any]]:
    """The features that pushed this row's score up most, as stored."""
    order = np.argsort(-phi, kind="stable")[:TOP_CONTRIBUTIONS]
    return [
        {
            "name": names[i],
            "value": None if math.isnan(row[i]) else float(row[i]),
            "contribution": round(float(phi[i]), 6),
        }
        for i in order.tolist()
        if phi[i] > 0
    ]


@use_case(Permission.PROMOTE_MODELS)
def refresh_account_scores(uow: UnitOfWork, actor: Actor) -> ScoreRun:
    """Score every account with the accounts champion, replace the stored scores and raise
    cases for the accounts flagged (alert or more) that are in no open case."""
    model = _champion(uow)
    session = uow.session
    now = uow.clock.now()
    inputs = store_inputs(session)
    seeds = known_fraud(session, now)
    features = account_features(inputs, seeds=seeds)
    assert inputs.accounts is not None  # store_inputs always reads the accounts
    bank_of = dict(
        zip(
            inputs.accounts["account_no"].to_pylist(),
            inputs.accounts["bank"].to_pylist(),
            strict=True,
        )
    )
    accounts = features["account_no"].to_pylist()
    matrix = model_matrix(features, model)
    probabilities = probabilities_of(model, matrix)
    policy = model.card.policy
    actions = [policy.action_for(float(p)) for p in probabilities]
    flagged = [i for i, action in enumerate(actions) if action is not Action.PASS]
    explained: dict[int, str] = {}
    if flagged:
        phi = model.trees.contributions_many(matrix[flagged])[:, :-1]
        for row, i in enumerate(flagged):
            top = _top(model.card.features, matrix[i], phi[row])
            explained[i] = json.dumps(top, ensure_ascii=False)
    rows = [
        {
            "account_no": account_no,
            "bank": bank_of[account_no],
            "model_version": model.version,
            "probability": float(probabilities[i]),
            "action": actions[i].value,
            "contributions": explained.get(i),
            "computed_at": now,
        }
        for i, account_no in enumerate(accounts)
        if account_no in bank_of  # an account no member holds has nobody to answer for it
    ]
    replace_scores(session, rows)
    counts = Counter(row["action"] for row in rows)
    uow.audit.record(
        actor,
        "refresh_account_scores",
        f"model:{model.version}",
        {"accounts": len(rows), "actions": dict(sorted(counts.items())), "seeds": len(seeds)},
    )
    flagged_at = {
        row["account_no"]: row["bank"] for row in rows if row["action"] != Action.PASS.value
    }
    networks = flagged_networks(inputs.transactions, flagged_at, passes_through(features))
    cases = open_score_cases(uow, actor, flagged_at, networks)
    return ScoreRun(
        model_version=model.version,
        computed_at=now,
        accounts=len(rows),
        actions=dict(sorted(counts.items())),
        explained=sum(1 for row in rows if row["contributions"] is not None),
        seeds=len(seeds),
        cases=tuple(cases),
    )


def _contribution(item: dict[str, Any]) -> ScoreContribution:
    """A stored contribution with its feature's words (a feature the code no longer knows,
    from an older model, reads by its name)."""
    name = item["name"]
    words = _WORDS.get(name)
    return ScoreContribution(
        name=name,
        zh=words.zh if words else name,
        en=words.en if words else name,
        kind=words.kind if words else Kind.COUNT,
        value=item["value"],
        contribution=item["contribution"],
    )


@use_case(Permission.VIEW_CUSTOMER_DATA)
def account_score(uow: UnitOfWork, actor: Actor, account_no: str) -> AccountScore | None:
    """The latest mule score of an account the actor's member holds (NotFound for any other);
    None when it has none yet."""
    row = score_row(uow.session, actor, account_no)
    if row is None:
        return None
    stored = contributions_of(row)
    contributions = None
    if stored is not None:
        contributions = tuple(_contribution(item) for item in stored)
    return AccountScore(
        account_no=row.account_no,
        bank=row.bank,
        model_version=row.model_version,
        probability=row.probability,
        action=Action(row.action),
        contributions=contributions,
        computed_at=row.computed_at,
    )
