"""The mule score replayed refresh by refresh over a judged period, and `fundwall backtest
--account-model`, on the tiny region with an accounts model trained on it."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest.accounts import NEVER
from fundwall.engine.models.artifact import Model, write_model
from fundwall.models.account_features import AccountInputs, account_features
from fundwall.models.account_protocol import mules_before
from fundwall.models.score_backtest import US_PER_HOUR, refreshed_flags
from fundwall.models.scores import model_matrix, probabilities_of
from fundwall.region import read_table

from .conftest import ACCOUNTS_MODEL_GROUP
from .factory import make_model

pytestmark = pytest.mark.xdist_group(ACCOUNTS_MODEL_GROUP)

DAY = 24 * US_PER_HOUR


def _end(folder: Path) -> int:
    """Just after the last transaction: the last refresh."""
    ts = read_table(folder, "transactions")["ts"].cast("int64")
    return int(pc.max(ts).as_py()) + 1


def _cut(model: Model) -> int:
    assert model.card.until is not None
    return int(datetime.fromisoformat(model.card.until).timestamp() * 1_000_000)


def test_accounts_are_flagged_at_the_refresh_that_first_scores_them_so(
    tiny_region: Path, accounts_model: Model
) -> None:
    flags = refreshed_flags(tiny_region, accounts_model, every_us=DAY)
    cut = _cut(accounts_model)
    assert flags.since_us == cut and flags.every_us == DAY
    alert, delay = flags.first_flagged[Action.ALERT], flags.first_flagged[Action.DELAY]
    end = _end(tiny_region)
    refreshes = [*range(cut, end, DAY), end]
    assert flags.refreshes == len(refreshes)
    moments = {t for t in alert.tolist() if t != NEVER}
    assert moments and moments <= set(refreshes)
    assert ((delay == NEVER) | (alert <= delay)).all()  # who is delayed was alerted, no later
    # The second refresh, by hand: every account scored on the history before it, with the
    # mules known at the cut as seeds.
    moment = cut + DAY
    inputs = AccountInputs.from_region(tiny_region)
    seeds = mules_before(read_table(tiny_region, "account_labels"), cut)
    features = account_features(inputs, until_us=moment, seeds=seeds)
    codes = accounts_model.card.policy.codes_for(
        probabilities_of(accounts_model, model_matrix(features, accounts_model))
    )
    reached = set(features["account_no"].filter(codes >= Action.ALERT.severity).to_pylist())
    by_then = set(flags.accounts.filter(alert <= moment).to_pylist())
    assert reached <= by_then
    grouped = flags.network[Action.ALERT] >= 0
    # A detected network's accounts are flagged: those the score missed from the refresh
    # that found them in it.
    assert (alert[grouped] != NEVER).all()


def test_the_judged_period_never_starts_before_the_training_cut(
    tiny_region: Path, accounts_model: Model
) -> None:
    with pytest.raises(InvalidInput, match="training cut") as before:
        refreshed_flags(tiny_region, accounts_model, since_us=_cut(accounts_model) - 1)
    assert before.value.field == "from"
    with pytest.raises(InvalidInput, match="not accounts"):
        refreshed_flags(tiny_region, make_model())  # a transactions model
    with pytest.raises(InvalidInput, match="positive"):
        refreshed_flags(tiny_region, accounts_model, every_us=0)


def test_the_command_judges_the_networks_against_the_mule_score(
    tiny_region: Path, accounts_model: Model, tmp_path: Path
) -> None:
    folder = write_model(tmp_path / "acct", accounts_model)
    command = ["backtest", str(tiny_region), "--account-model", str(folder)]
    command += ["--refresh-hours", "24"]
    result = CliRunner().invoke(app, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"跑分 networks by mule score {accounts_model.version}: refreshed every 24 h" in (
        " ".join(result.output.split())
    )
    shown = CliRunner().invoke(app, [*command, "--json"])
    body = json.loads(shown.output)
    scored = body["networks"]["mule_score"]
    cut = datetime.fromtimestamp(_cut(accounts_model) / 1e6, UTC)
    assert scored["judged_from"] == cut.isoformat()
    assert scored["model_version"] == accounts_model.version
    # The transactions are judged from the model's cut too.
    ts = read_table(tiny_region, "transactions")["ts"]
    later = int(pc.sum(pc.greater_equal(ts, cut)).as_py())
    assert body["transactions"]["total"] == later
    assert scored["detected"]["accounts_flagged"] >= scored["intercepted"]["accounts_flagged"]
    assert scored["refreshes"] == len(range(_cut(accounts_model), _end(tiny_region), DAY)) + 1


def test_a_bad_refresh_cadence_is_one_line_and_exit_2(
    tiny_region: Path,
    accounts_model: Model,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = write_model(tmp_path / "acct", accounts_model)
    argv = ["fundwall", "backtest", str(tiny_region), "--account-model", str(folder)]
    monkeypatch.setattr(sys, "argv", [*argv, "--refresh-hours", "25"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert "refresh_hours" in capsys.readouterr().err
