"""`fundwall models` over the configured store, SQLite and PostgreSQL: the registry's use
cases, acted on as the operator (`system:cli`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.engine.models.artifact import CARD_FILE, MODEL_FILE, write_model
from fundwall.store import UnitOfWork, open_database
from models.factory import make_model  # tests/models/factory.py

runner = CliRunner()
FIRST = make_model()
SECOND = make_model(("amount", "hour", "is_night"))


@pytest.fixture(autouse=True)
def configured(configured_store: str) -> str:
    """Every test here runs with its own settings and store."""
    return configured_store


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_models_register_promote_list_and_show(tmp_path: Path, configured: str) -> None:
    write_model(tmp_path / "first", FIRST)
    write_model(tmp_path / "second", SECOND)
    first, second = FIRST.version, SECOND.version
    assert invoke("models", "register", "first") == (
        f"registered {first} (transactions, 2 features), state registered\n"
    )
    assert f"registered {second}" in invoke("models", "register", "second")
    assert invoke("models", "promote", first, "--reason", "first model") == f"{first} is champion\n"
    assert invoke("models", "promote", second, "--state", "shadow") == f"{second} is shadow\n"
    listing = invoke("models", "list", "--target", "transactions")
    assert [line.split()[:2] for line in listing.splitlines()] == [
        [first, "champion"],
        [second, "shadow"],
    ]
    assert invoke("models", "list", "--target", "accounts") == "no models registered yet\n"
    listed = json.loads(invoke("models", "list", "--json"))
    assert [(m["version"], m["state"], m["holdout_pr_auc"]) for m in listed] == [
        (first, "champion", FIRST.card.metrics["holdout"]["pr_auc"]),
        (second, "shadow", SECOND.card.metrics["holdout"]["pr_auc"]),
    ]
    shown = invoke("models", "show", first)
    for said in (
        f"model {first}: transactions, champion",
        "purpose: 测试用模型：随机数据训练",
        "features (2):\n  amount  交易金额\n  hour  ",
        "holdout: pr_auc ",
        "limits:\n  - 仅用于测试",
        "registered → champion by system:cli: first model",
    ):
        assert said in shown
    assert "purpose: A test model trained on random data" in invoke(
        "models", "show", first, "--lang", "en"
    )
    card = json.loads(invoke("models", "show", second, "--json"))
    assert card["card"] == SECOND.card.to_dict()
    assert [event["state"] for event in card["history"]] == ["registered", "shadow"]
    database = open_database(configured)
    try:
        with UnitOfWork(database) as uow:
            trail = [(record.actor, record.action) for record in uow.audit.tail(10)]
    finally:
        database.dispose()
    assert trail == [
        ("system:cli", "register_model"),
        ("system:cli", "register_model"),
        ("system:cli", "set_model_state"),
        ("system:cli", "set_model_state"),
    ]


def test_model_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_model(tmp_path / "edited", FIRST)
    card = json.loads((tmp_path / "edited" / CARD_FILE).read_text("utf-8"))
    card["purpose"]["en"] = "a better model"
    (tmp_path / "edited" / CARD_FILE).write_text(json.dumps(card), "utf-8")
    write_model(tmp_path / "foreign", FIRST)
    (tmp_path / "foreign" / MODEL_FILE).write_text("{}", "utf-8")
    for args, message in [
        (["models", "register", "edited"], "field 'version': the card says version"),
        (["models", "register", "foreign"], "field 'model.txt': not a LightGBM model"),
        (["models", "register", "missing"], "model folder not found: missing"),
        (["models", "promote", "tx-000000000000"], "model version not found: tx-000000000000"),
        (["models", "show", "tx-000000000000"], "model version not found: tx-000000000000"),
    ]:
        monkeypatch.setattr("sys.argv", ["fundwall", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 2
        assert message in capsys.readouterr().err
    refused = runner.invoke(app, ["models", "promote", FIRST.version, "--state", "best"])
    assert refused.exit_code == 2 and "best" in refused.output
