"""Training on a region, the model in replay and online, and the backtest's --model/--from."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.domain.transactions import Transaction
from fundwall.engine.backtest.run import backtest_region
from fundwall.engine.features.inputs import logins_from_table
from fundwall.engine.models.artifact import Model, Target, read_model, write_model
from fundwall.engine.models.scoring import MODEL_REASON
from fundwall.engine.replay import replay
from fundwall.engine.rules import default_pack, empty_pack
from fundwall.engine.service import DecisionService
from fundwall.models.account_features import AccountInputs, account_feature_names, account_features
from fundwall.models.training import train_region, transaction_examples
from fundwall.region import read_table

from .conftest import ACCOUNTS_MODEL_GROUP

runner = CliRunner()


def test_the_card_says_what_was_trained_and_how_it_did_on_later_time(
    tiny_region: Path, tiny_model: Model
) -> None:
    card = tiny_model.card
    examples = transaction_examples(tiny_region)
    assert card.target is Target.TRANSACTIONS
    assert card.features == examples.features
    assert card.until is not None
    until_us = int(datetime.fromisoformat(card.until).timestamp() * 1_000_000)
    assert card.rows == int(np.count_nonzero(examples.ts < until_us))
    assert card.positives == int(np.count_nonzero(examples.labels[examples.ts < until_us]))
    holdout = card.metrics["holdout"]
    assert holdout["rows"] == int(np.count_nonzero(examples.ts >= until_us))
    assert holdout["pr_auc"] is not None and 0.0 < float(holdout["pr_auc"]) <= 1.0
    thresholds = card.policy.to_dict()
    assert thresholds["alert"] <= thresholds["delay"] <= thresholds["block"]
    assert tiny_model.version.startswith("tx-")


def test_training_is_deterministic(tiny_region: Path, tiny_model: Model) -> None:
    again = train_region(tiny_region, Target.TRANSACTIONS)
    assert again.text == tiny_model.text


def test_until_before_any_fraud_is_refused(tiny_region: Path) -> None:
    ts = read_table(tiny_region, "transactions")["ts"]
    first = pc.min(ts).as_py() + timedelta(minutes=1)
    with pytest.raises(InvalidInput) as error:
        train_region(tiny_region, Target.TRANSACTIONS, until=first)
    assert error.value.field == "until"


def test_a_model_folder_round_trips(tmp_path: Path, tiny_model: Model) -> None:
    write_model(tmp_path / "m", tiny_model)
    again = read_model(tmp_path / "m")
    assert again.version == tiny_model.version
    assert again.card == tiny_model.card


def test_replay_scores_with_the_model_and_the_policy_combines_actions(
    tiny_region: Path, tiny_model: Model
) -> None:
    rules_alone = replay(tiny_region, default_pack())
    both = replay(tiny_region, default_pack(), model=tiny_model)
    assert both["model_version"].to_pylist() == [tiny_model.version] * both.num_rows
    probabilities = np.asarray(both["model_score"].to_numpy())
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    severity = {action.value: action.severity for action in Action}
    before = np.array([severity[a] for a in rules_alone["action"].to_pylist()])
    after = np.array([severity[a] for a in both["action"].to_pylist()])
    # The model only ever adds to what the rules and controls decide (while nothing the
    # model holds changes a later balance: a tiny region's model holds only fraud).
    modelled = np.array(
        [tiny_model.card.policy.action_for(float(p)).severity for p in probabilities]
    )
    assert np.all(after >= np.minimum(before, after))
    assert np.all(after >= modelled)


def test_online_decisions_score_as_replay_does(tiny_region: Path, tiny_model: Model) -> None:
    """Online-bulk parity of the model's score: the same vectors, the same probabilities,
    the same actions."""
    bulk = replay(tiny_region, default_pack(), model=tiny_model)
    service = DecisionService.from_region(tiny_region, pack=default_pack(), model=tiny_model)
    # A login is a fact at its own time, read by the transactions at or after it: the
    # region's logins may all arrive first.
    for login in logins_from_table(read_table(tiny_region, "logins")):
        service.core.observe_login(login)
    table = read_table(tiny_region, "transactions")
    by_id = {row: i for i, row in enumerate(bulk["tx_id"].to_pylist())}
    actions = bulk["action"].to_pylist()
    scores = bulk["model_score"].to_pylist()
    explained = 0
    for record in table.to_pylist():
        decision = service.decide(Transaction.from_mapping(record))
        i = by_id[decision.tx_id]
        assert decision.action.value == actions[i], decision.tx_id
        assert decision.model_version == tiny_model.version
        model_reasons = [r for r in decision.reasons if r.rule_id == MODEL_REASON]
        if decision.action is Action.PASS:
            assert not model_reasons
            continue
        assert len(model_reasons) == 1
        reason = model_reasons[0]
        assert reason.values["model_score"] == pytest.approx(scores[i], abs=1e-4)
        assert "模型评分" in reason.text_zh and "Model score" in reason.text_en
        # The main factors are named only when the model's own score reached a threshold.
        reached = tiny_model.card.policy.action_for(scores[i]) is not Action.PASS
        assert ("主要因素" in reason.text_zh) is (reached and len(reason.values) > 1)
        explained += 1
    assert explained > 0


def test_backtest_from_scores_only_the_later_period(tiny_region: Path, tiny_model: Model) -> None:
    assert tiny_model.card.until is not None
    since = datetime.fromisoformat(tiny_model.card.until)
    whole = backtest_region(tiny_region, empty_pack(), lambda f, p: replay(f, p, model=tiny_model))
    later = backtest_region(
        tiny_region, empty_pack(), lambda f, p: replay(f, p, model=tiny_model), since=since
    )
    assert later.to_dict()["transactions"]["total"] == tiny_model.card.metrics["holdout"]["rows"]
    assert later.to_dict()["transactions"]["total"] < whole.to_dict()["transactions"]["total"]
    assert later.to_dict()["model_version"] == tiny_model.version
    assert later.to_dict()["score"]["pr_auc"] == pytest.approx(
        tiny_model.card.metrics["holdout"]["pr_auc"], abs=1e-9
    )


def test_the_commands_train_and_backtest_with_the_model(tiny_region: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(tiny_region), "--out", str(out), "--json"])
    assert trained.exit_code == 0, trained.output
    card = json.loads(trained.stdout[trained.stdout.index("{") :])
    result = runner.invoke(
        app,
        [
            "backtest",
            str(tiny_region),
            "--rules",
            "none",
            "--model",
            str(out),
            "--from",
            card["until"][:19],
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["model_version"] == card["version"]
    assert body["transactions"]["total"] == card["metrics"]["holdout"]["rows"]


def test_a_model_folder_that_is_not_one_is_a_clear_error(
    tiny_region: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad").mkdir()
    argv = ["fundwall", "backtest", str(tiny_region), "--model", str(tmp_path / "bad")]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "has no model.txt" in capsys.readouterr().err


def test_the_since_moment_without_zone_is_utc() -> None:
    from fundwall.cli.backtest import aware

    assert aware(datetime(2024, 3, 1)).tzinfo is UTC


@pytest.mark.xdist_group(ACCOUNTS_MODEL_GROUP)
def test_an_accounts_model_is_trained_and_judged_on_later_time(
    tiny_region: Path, accounts_model: Model
) -> None:
    model = accounts_model
    card = model.card
    assert model.version.startswith("acct-")
    assert card.features == account_feature_names()
    assert card.positives > 0 and card.rows >= card.positives
    holdout = card.metrics["holdout"]
    assert holdout["positives"] and holdout["pr_auc"] is not None
    # The compiled trees score the account rows as LightGBM does.
    inputs = AccountInputs.from_region(tiny_region)
    table = account_features(inputs)
    matrix = np.column_stack([table[name].to_numpy() for name in card.features])
    raw = model.trees.raw_many(matrix)
    assert np.all(np.isfinite(raw))
