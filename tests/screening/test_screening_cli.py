"""`fundwall screen` over the configured store and `fundwall screen --evaluate` over a region
folder: the JSON a job reads (counts per check, the run's time), the table a person reads,
and bad input as one line naming the field (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.domain.errors import FundwallError
from fundwall.domain.screening import PLANTED_CHECKS, Check
from fundwall.screening.base import period_end

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, FundwallError):  # what `main` prints, exit code 2
        return 2, str(result.exception)
    return result.exit_code, result.output


def test_a_member_and_the_region_are_screened_over_the_store(
    tiny: Path, configured_store: str
) -> None:
    assert _run("load", str(tiny))[0] == 0
    code, said = _run("screen", "--member", "302", "--checks", "dormant,shared_phone", "--json")
    assert code == 0, said
    run = json.loads(said)
    assert run["member"] == "302" and set(run["found"]) == {"dormant", "shared_phone"}
    assert run["screened"] > 0 and run["duration_ms"] >= 0 and run["as_of"] and run["items"] > 0
    code, said = _run("screen")
    assert code == 0, said
    # PostgreSQL's ids keep counting across the session's tests: the next run's, whatever.
    assert f"run {run['run'] + 1}: screened 909 accounts of the whole region" in said
    assert all(check.value in said for check in Check)
    assert _run("screen", "--member", "999") == (
        2,
        "field 'member': no bank or payment institution has the code '999'",
    )
    code, said = _run("screen", "--checks", "dormant,,sleepy")
    assert code == 2 and "field 'checks'" in said and "sleepy" in said
    end = period_end(tiny).isoformat()
    code, said = _run("screen", "--as-of", end, "--checks", "dormant", "--json")
    assert code == 0 and json.loads(said)["as_of"] == end, said
    code, said = _run("screen", "--as-of", "2999-01-01T00:00:00+00:00")
    assert code == 2 and "field 'as_of'" in said and "earlier" in said


def test_the_evaluation_prints_precision_and_recall_per_check(tiny: Path) -> None:
    code, said = _run("screen", "--evaluate", str(tiny), "--json")
    assert code == 0, said
    result = json.loads(said)
    assert result["accounts"] == 909
    for check in PLANTED_CHECKS:
        scores = result["checks"][check.value]
        assert (scores["precision"], scores["recall"]) == (1.0, 1.0)
    assert result["checks"]["punished"]["planted"] is None
    code, table = _run("screen", "--evaluate", str(tiny), "--checks", "batch_opened")
    assert code == 0 and "batch_opened" in table and "100.0%" in table and "dormant" not in table
    code, said = _run("screen", "--evaluate", str(tiny), "--as-of", "2024-03-01")
    assert code == 2 and "field 'as_of'" in said
    code, said = _run("screen", "--evaluate", str(tiny), "--member", "302")
    assert code == 2 and "field 'member'" in said
