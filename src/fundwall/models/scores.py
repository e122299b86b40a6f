"""Every account's mule score (涉诈账户风险评分), kept current by the hub (docs/models.md,
"Account scores").

`refresh_account_scores` reads the store's history (`fundwall.models.queries.store_inputs`),
computes every account's features as of now from the known fraud accounts (listed on the
shared risk list as fraud accounts or mules, or closed as mules in their member's case:
`fundwall.models.queries.known_fraud`), scores them all with the accounts champion, and
replaces the stored scores. An account at or above the model's alert threshold also gets the
features that pushed its score up most (tree SHAP contributions, about a millisecond an
account, so only for those), and the accounts flagged so become cases of the members holding
them (`fundwall.cases.scoring`), a detected network (flagged accounts tied by money over every
member's transfers, `fundwall.models.account_networks`) one case at each member holding part
of it. Each refresh is recorded with what it read (`score_runs`:
`fundwall.models.queries.DataMark`), so `refresh_if_due`, which the server's timer calls
every minute or so, refreshes only when the data, the known fraud or the model changed, or
the scores have grown old. `account_score` is a member's reading of one of its
accounts' score, as the account page shows it.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.accounts.model import model_tier
from fundwall.accounts.queries import write_model_tiers
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.scoring import open_score_cases
from fundwall.config import PolicySettings
from fundwall.domain.accounts import RiskTier
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.features.catalog import Kind
from fundwall.engine.model_registry import ModelState, running_models
from fundwall.engine.models.artifact import Model, Target
from fundwall.models.account_features import ACCOUNT_FEATURES, account_features, feature_matrix
from fundwall.models.account_networks import flagged_networks, passes_through
from fundwall.models.queries import (
    DataMark,
    contributions_of,
    data_mark,
    known_fraud,
    latest_run,
    record_run,
    replace_scores,
    score_row,
    store_inputs,
)
from fundwall.store.uow import UnitOfWork

TOP_CONTRIBUTIONS: Final = 5
"""Features a score names: enough to say why, few enough to read at a glance."""
RISK_FLOW: Final = (
    "seed_rank_downstream",
    "seed_rank_upstream",
    "seed_share_1hop",
    "seed_share_2hop",
)
"""The graph features saying how money flows between an account and the known fraud accounts,
kept with every score for the account page."""
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
    """Accounts known as fraud (listed, or confirmed as mules in a case): the seeds."""
    cases: tuple[int, ...]
    """The cases opened."""
    networks: int
    """Detected networks: groups of flagged accounts tied by money (one case each per member)."""
    tied: int
    """Accounts in a detected network whose own score did not flag them (relays, collectors)."""
    tiers_changed: int
    """Accounts whose risk tier the scores changed."""
    data_until: datetime | None
    """The latest time of the transactions and logins scored over."""
    seconds: float
    """How long the refresh took."""

    def to_dict(self) -> dict[str, Any]:
        """What `fundwall scores refresh --json` prints."""
        return {
            "model_version": self.model_version,
            "computed_at": self.computed_at.isoformat(),
            "data_until": self.data_until.isoformat() if self.data_until else None,
            "accounts": self.accounts,
            "actions": self.actions,
            "explained": self.explained,
            "seeds": self.seeds,
            "cases": list(self.cases),
            "networks": self.networks,
            "tied": self.tied,
            "tiers_changed": self.tiers_changed,
            "seconds": round(self.seconds, 3),
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
class RiskFlowFigure:
    """One of the account's risk-flow features (`RISK_FLOW`) in words; None when unknown."""

    name: str
    zh: str
    en: str
    kind: Kind
    value: float | None


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
    data_until: datetime | None
    """The latest time of the data the refresh read; None when not recorded."""
    risk_flow: tuple[RiskFlowFigure, ...]
    """The account's risk-flow features at the refresh, in `RISK_FLOW`'s order."""


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
def refresh_account_scores(uow: UnitOfWork, actor: Actor, policy: PolicySettings) -> ScoreRun:
    """Score every account with the accounts champion, replace the stored scores, set the
    risk tiers the scores lead to (`policy`) and raise cases for the accounts flagged (alert
    or more) that are in no open case."""
    model = _champion(uow)
    seeds = known_fraud(uow.session, uow.clock.now())
    mark = data_mark(uow.session, model.version, seeds)
    return _refresh(uow, actor, model, seeds, mark, policy)


@use_case(Permission.PROMOTE_MODELS)
def refresh_if_due(
    uow: UnitOfWork, actor: Actor, max_age: timedelta, policy: PolicySettings
) -> ScoreRun | None:
    """Refresh the scores (`refresh_account_scores`) when what a refresh reads changed since
    the last one — transactions, logins, accounts, the known fraud accounts or the champion —
    or when the last one is `max_age` old (features as of now age with time: the last 7 days'
    window moves on); None, having read a few counts, when nothing is due."""
    model = _champion(uow)
    now = uow.clock.now()
    seeds = known_fraud(uow.session, now)
    mark = data_mark(uow.session, model.version, seeds)
    last = latest_run(uow.session)
    if last is not None and mark.same_as(last) and now - last.computed_at < max_age:
        return None
    return _refresh(uow, actor, model, seeds, mark, policy)


def _refresh(
    uow: UnitOfWork,
    actor: Actor,
    model: Model,
    seeds: set[str],
    mark: DataMark,
    policy: PolicySettings,
) -> ScoreRun:
    """Score every account over what `mark` took stock of (read after it: what arrives
    meanwhile is scored too, and the next check sees it as new) and record the run."""
    started = time.perf_counter()
    session = uow.session
    now = uow.clock.now()
    run = record_run(session, mark, now)
    inputs = store_inputs(session)
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
    actions = [model.card.policy.action_for(float(p)) for p in probabilities]
    flagged = [i for i, action in enumerate(actions) if action is not Action.PASS]
    explained: dict[int, str] = {}
    if flagged:
        phi = model.trees.contributions_many(matrix[flagged])[:, :-1]
        for row, i in enumerate(flagged):
            top = _top(model.card.features, matrix[i], phi[row])
            explained[i] = json.dumps(top, ensure_ascii=False)
    flow = {name: _known(features[name].to_numpy(zero_copy_only=False)) for name in RISK_FLOW}
    rows = [
        {
            "account_no": account_no,
            "bank": bank_of[account_no],
            "model_version": model.version,
            "probability": float(probabilities[i]),
            "action": actions[i].value,
            "contributions": explained.get(i),
            "computed_at": now,
            "run_id": run.id,
            **{name: values[i] for name, values in flow.items()},
        }
        for i, account_no in enumerate(accounts)
        if account_no in bank_of  # an account no member holds has nobody to answer for it
    ]
    replace_scores(session, rows)
    counts = Counter(row["action"] for row in rows)
    run.scored = len(rows)
    uow.audit.record(
        actor,
        "refresh_account_scores",
        f"model:{model.version}",
        {
            "accounts": len(rows),
            "actions": dict(sorted(counts.items())),
            "seeds": len(seeds),
            "data_until": mark.data_until.isoformat() if mark.data_until else None,
        },
    )
    flagged_at = {
        row["account_no"]: row["bank"] for row in rows if row["action"] != Action.PASS.value
    }
    tiers = write_model_tiers(uow, actor, _tiers_wanted(rows, policy), policy)
    networks = flagged_networks(inputs.transactions, flagged_at, passes_through(features))
    # A network's relays and collectors the score missed are raised with it.
    raised = flagged_at | {
        account_no: bank_of[account_no]
        for network in networks
        for account_no in network
        if bank_of.get(account_no) is not None
    }
    run.seconds = seconds = time.perf_counter() - started
    cases = open_score_cases(uow, actor, raised, networks)
    return ScoreRun(
        model_version=model.version,
        computed_at=now,
        accounts=len(rows),
        actions=dict(sorted(counts.items())),
        explained=sum(1 for row in rows if row["contributions"] is not None),
        seeds=len(seeds),
        cases=tuple(cases),
        networks=len(networks),
        tied=len(raised) - len(flagged_at),
        tiers_changed=len(tiers),
        data_until=mark.data_until,
        seconds=seconds,
    )


def _tiers_wanted(
    rows: list[dict[str, Any]], policy: PolicySettings
) -> dict[str, tuple[RiskTier, str]]:
    """The accounts whose scores lead above the low tier, with the tier and why."""
    wanted: dict[str, tuple[RiskTier, str]] = {}
    for row in rows:
        tier = model_tier(row["action"], policy)
        if tier is not RiskTier.LOW:
            why = f"mule score {row['probability']:.2f} ({row['model_version']}): {row['action']}"
            wanted[row["account_no"]] = (tier, why)
    return wanted


def _known(values: np.ndarray) -> list[float | None]:
    """Feature values as stored: NaN (unknown) as null."""
    return [None if math.isnan(value) else float(value) for value in values.tolist()]


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
    found = score_row(uow.session, actor, account_no)
    if found is None:
        return None
    row, run = found
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
        data_until=run.data_until if run is not None else None,
        risk_flow=tuple(
            RiskFlowFigure(
                name=name,
                zh=_WORDS[name].zh,
                en=_WORDS[name].en,
                kind=_WORDS[name].kind,
                value=getattr(row, name),
            )
            for name in RISK_FLOW
        ),
    )
