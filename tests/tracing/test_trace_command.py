"""`fundwall trace` on the tiny simulated region: a report as a table, as JSON, and every
report scored against the region's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.region import read_table
from fundwall.sim.run import simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trace") / "region"
    simulate("tiny", 1, out)
    return out


def test_a_report_is_traced_to_its_accounts_and_what_they_still_hold(region: Path) -> None:
    report = read_table(region, "victim_reports")["report_id"][0].as_py()
    shown = runner.invoke(app, ["trace", str(region), "--report", report])
    assert shown.exit_code == 0, shown.output
    assert f"{report}: lifo" in shown.stdout and "proposed stop-payments:" in shown.stdout
    printed = runner.invoke(app, ["trace", str(region), "--report", report, "--json"])
    body = json.loads(printed.stdout)
    assert body["rule"] == "lifo" and body["accounts"][0]["hop"] == 1
    # What the accounts still hold is part of what the victim paid (booked within 20% of what
    # the report remembers); what they received counts money that came back again too.
    remembered = sum(start["amount_fen"] for start in body["starts"])
    held = sum(sum(account["held"].values()) for account in body["accounts"])
    assert 0 <= held <= remembered * 1.2


def test_every_report_is_scored_against_the_labels(region: Path) -> None:
    scored = runner.invoke(app, ["trace", str(region), "--all-reports", "--evaluate"])
    assert scored.exit_code == 0, scored.output
    figures = json.loads(scored.stdout)
    assert figures["reports"] > 0
    assert figures["mule_recall"] >= 0.9 and figures["mule_precision"] >= 0.9
    assert {"amount_error", "p50_ms", "p99_ms"} <= figures.keys()


def test_an_unknown_report_is_refused_by_name(region: Path) -> None:
    refused = runner.invoke(app, ["trace", str(region), "--report", "R999999"])
    assert refused.exit_code != 0
    assert "R999999" in str(refused.exception) or "R999999" in refused.output
