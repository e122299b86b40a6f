"""`fundwall rules check | show | diff`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.domain.errors import InvalidInput

runner = CliRunner()


def shipped_text() -> str:
    return files("fundwall.engine.rules").joinpath("packs", "default.yaml").read_text("utf-8")


def test_check_accepts_a_good_pack(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(shipped_text(), encoding="utf-8")
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"ok  {path}: pack default version 2025.1:" in result.output
    assert "46 enabled rules of 46" in result.output


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(shipped_text(), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        shipped_text()
        .replace("score: 40", "score: forty", 1)
        .replace("payer_in_sum_10m >=", "payer_in_sum_10min >=", 1),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rules", "check", str(bad), str(good)])
    assert result.exit_code == 2
    assert f"{bad}:" in result.output
    assert "unknown feature 'payer_in_sum_10min'" in result.output
    assert "score must be a whole number (found 'forty')" in result.output
    assert f"ok  {good}" in result.output


def test_show_lists_policy_and_rules_in_either_language() -> None:
    zh = runner.invoke(app, ["rules", "show"])
    assert zh.exit_code == 0, zh.output
    assert "policy: alert ≥ 30, warn ≥ 50, delay ≥ 70, block ≥ 100" in zh.output
    assert "快进快出" in zh.output
    en = runner.invoke(app, ["rules", "show", "default", "--lang", "en"])
    assert "Quick in, quick out" in en.output
    wrong = runner.invoke(app, ["rules", "show", "--lang", "fr"])
    assert wrong.exit_code == 2
    assert "not a language" in wrong.output


def test_show_of_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rules", "show", str(tmp_path / "absent.yaml")])
    assert isinstance(result.exception, InvalidInput)


def test_diff_shows_field_changes(tmp_path: Path) -> None:
    changed = tmp_path / "changed.yaml"
    text = shipped_text().replace("    score: 40\n", "    score: 45\n", 1)
    changed.write_text(text.replace('version: "2025.1"', 'version: "2025.2"'), encoding="utf-8")
    result = runner.invoke(app, ["rules", "diff", "default", str(changed)])
    assert result.exit_code == 0, result.output
    assert "~ R003 score: 40 → 45" in result.output
    assert "→ 2025.2:" in result.output
    same = runner.invoke(app, ["rules", "diff", "default", "default"])
    assert "no differences in rules or policy" in same.output
