"""`fundwall backtest`: the table, the JSON object, --vs, --save, and bad input."""

from __future__ import annotations

import io
import json
import shutil
import sys
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pytest
from rich.console import Console, RenderableType
from test_backtest_metrics import ACCOUNTS, ROWS, region_tables
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.cli.backtest import format_value, render, render_comparison, run
from fundwall.domain.errors import InvalidInput
from fundwall.engine.backtest import Backtest, Region, evaluate
from fundwall.engine.rules import RulePack, default_pack, load_pack
from fundwall.region import FILES, SCHEMAS, write_manifest, write_table

runner = CliRunner()


def write_region(out: Path, tables: tuple[pa.Table, ...], source: str) -> Path:
    """A region folder: the hand-made files, every other file empty, and a manifest."""
    _, transactions, labels, account_labels = tables
    given = {"transactions": transactions, "tx_labels": labels, "account_labels": account_labels}
    out.mkdir()
    for name in FILES:
        table = given.get(name)
        columns = {f.name: [] if table is None else table[f.name] for f in SCHEMAS[name]}
        write_table(out, name, columns)
    write_manifest(out, source=source)
    return out


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    return write_region(tmp_path / "hand", region_tables(ROWS, ACCOUNTS), "sim")


def other_pack(tmp_path: Path) -> Path:
    shipped = files("fundwall.engine.rules").joinpath("packs", "default.yaml").read_text("utf-8")
    path = tmp_path / "other.yaml"
    path.write_text(shipped.replace('version: "2025.1"', 'version: "2025.2"', 1), "utf-8")
    return path


def fake_replay(folder: Path, pack: RulePack) -> pa.Table:
    """The hand-made decisions; a pack other than 2025.1 also blocks t1."""
    decisions = region_tables(ROWS, ACCOUNTS)[0]
    if pack.declared_version != "2025.1":
        actions = ["block" if row[0] == "t1" else row[7] for row in ROWS]
        decisions = decisions.set_column(1, "action", pa.array(actions))
    return decisions.set_column(3, "pack_version", pa.array([pack.version] * len(ROWS)))


def test_json_is_the_result_of_the_decisions(
    hand: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(hand, "default", None, as_json=True, save=False, decide=fake_replay)
    body = json.loads(capsys.readouterr().out)
    assert body == json.loads(json.dumps(hand_result(default_pack()).to_dict()))
    assert body["pack_version"].startswith("2025.1:")


def shown(renderable: RenderableType) -> str:
    console = Console(width=200, file=io.StringIO())
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def cells(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines()]


def hand_result(pack: RulePack) -> Backtest:
    _, transactions, labels, account_labels = region_tables(ROWS, ACCOUNTS)
    decisions = fake_replay(Path("hand"), pack)
    return evaluate(decisions, transactions, labels, account_labels, Region("hand", "sim"))


def test_table_shows_the_figures() -> None:
    out = shown(render(hand_result(default_pack())))
    assert "Backtest on hand (sim), pack 2025.1:" in out
    assert "10 transactions, 10 decided, 6 fraud (¥370.00)" in out
    rows = cells(out)
    assert ["block", "2", "20.00%", "¥80.00"] in rows
    assert ["all fraud", "6", "3", "75.00%", "50.00%", "82.35%", "37.84%"] in rows
    assert ["held anywhere in the chain", "¥110.00", "73.33%", "2"] in rows
    assert ["≥ delay", "5", "2", "40.00%", "100.00%", "5.0", "9.0", "0"] in rows
    assert "n/a" not in out


def test_vs_puts_both_packs_side_by_side(
    hand: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = other_pack(tmp_path)
    run(hand, "default", str(other), as_json=True, save=False, decide=fake_replay)
    body = json.loads(capsys.readouterr().out)
    assert body["format"] == "fundwall-backtest-comparison/1"
    assert body["other"]["pack_version"].startswith("2025.2:")
    assert body["difference"]["victim_money.first_hop_fen"] == 10000
    rows = cells(
        shown(render_comparison(hand_result(default_pack()), hand_result(load_pack(other))))
    )
    assert ["victim money", "", "", ""] in rows
    assert ["first hop", "¥50.00", "¥150.00", "+¥100.00"] in rows
    assert ["first hop share", "33.33%", "100.00%", "+66.67 pp"] in rows
    assert ["block · count", "2", "3", "+1"] in rows
    assert ["intercepted · minutes to flag · median", "5.0", "0.0", "-5.0"] in rows
    # Flags per role repeat those of all fraud: shown once.
    assert ["fraud · flagged", "7", "8", "+1"] in rows
    assert not [row for row in rows if row and row[0] == "layering · flagged"]


def test_region_without_victims_reads_not_available(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [("a1", 0, "A", "B", 700, "layering", "P1", "delay", 90)]
    folder = write_region(
        tmp_path / "aml", region_tables(rows, [("A", True, 0), ("B", True, 0)]), "amlsim"
    )

    def decide(folder: Path, pack: RulePack) -> pa.Table:
        return region_tables(rows, [])[0]

    run(folder, "default", None, as_json=False, save=False, decide=decide)
    out = capsys.readouterr().out
    assert "Backtest on aml (amlsim)" in out
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines()]
    assert ["held at the first hop", "¥0.00", "n/a", "0"] in rows
    assert "n/a: not available" in out


@pytest.fixture
def data_dir(tmp_path: Path, own_settings: pytest.MonkeyPatch) -> Path:
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_save_keeps_each_pack_for_the_console(
    hand: Path, tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(hand, "default", str(other_pack(tmp_path)), as_json=False, save=True, decide=fake_replay)
    stored = sorted(p.name.split("_")[0] for p in (data_dir / "backtests").iterdir())
    assert stored == ["2025.1", "2025.2"]
    assert "saved " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("path", "value", "signed", "shown"),
    [
        ("a.loss_fen", 123456, False, "¥1,234.56"),
        ("a.loss_fen", -5, True, "-¥0.05"),
        ("a.recall_by_amount", 0.5, False, "50.00%"),
        ("a.first_hop_share", 0.125, True, "+12.50 pp"),
        ("score.pr_auc", 0.12345, False, "0.1235"),
        ("m.median", 1234.5, False, "1,234.5"),
        ("a.count", 1234, True, "+1,234"),
        ("a.recall", None, False, "not available"),
    ],
)
def test_values_are_formatted_by_their_name(
    path: str, value: float | None, signed: bool, shown: str
) -> None:
    assert format_value(path, value, signed) == shown


def test_a_folder_that_is_not_a_region_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["fundwall", "backtest", str(tmp_path / "none")])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert "is not a region folder" in capsys.readouterr().err


def test_the_command_replays_a_simulated_region(tmp_path: Path) -> None:
    region = tmp_path / "tiny"
    made = runner.invoke(app, ["sim", "--size", "tiny", "--seed", "11", "--out", str(region)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["backtest", str(region), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["region"] == {"name": "tiny", "source": "sim"}
    assert body["transactions"]["decided"] == body["transactions"]["total"]
    assert body["accounts"]["mules"] > 0
    assert body["score"]["pr_auc"] > body["score"]["prevalence"]
    shutil.rmtree(region)


def test_a_bad_second_pack_fails_before_any_replay(hand: Path, tmp_path: Path) -> None:
    replays: list[str] = []

    def decide(folder: Path, pack: RulePack) -> pa.Table:
        replays.append(pack.version)
        return fake_replay(folder, pack)

    with pytest.raises(InvalidInput, match=r"absent\.yaml"):
        run(hand, "default", str(tmp_path / "absent.yaml"), False, False, decide)
    assert replays == []
