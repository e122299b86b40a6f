"""`fundwall decide` over the configured store, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_store import seed
from sqlalchemy import Engine
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.config import get_settings
from fundwall.crypto import Keyring

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("configured_store")


def test_decide_answers_json_lines_once_logged(database: Engine, tmp_path: Path) -> None:
    seed(database, Keyring.from_settings(get_settings()))
    sent = [
        {"tx_id": "J1", "ts": "2024-06-01T16:00:00+08:00", "kind": "transfer",
         "payer_account": "A1", "payee_account": "B1", "payer_bank": "301",
         "payee_bank": "301", "amount": "100.00", "channel": "mobile"},
        {"tx_id": "J2", "ts": "2024-06-01T16:01:00+08:00", "kind": "deposit",
         "payee_account": "C3", "payee_bank": "303", "amount_fen": 150_000, "channel": "counter"},
    ]  # fmt: skip
    lines = "".join(json.dumps(tx) + "\n" for tx in [*sent, sent[0]])
    result = runner.invoke(app, ["decide"], input=lines)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["tx_id"] for a in answers] == ["J1", "J2", "J1"]
    assert answers[2] == answers[0]
    assert answers[1]["action"] == "block"  # class III: ¥1,000 + ¥1,500 passes the ¥2,000 cap
    assert answers[1]["reasons"][0]["rule_id"] == "HC17"


def test_decide_names_the_bad_line(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"tx_id": "J1"}\n')
    result = runner.invoke(app, ["decide", "in.jsonl"])
    assert result.exit_code != 0
    assert "record line 1" in str(result.exception)
