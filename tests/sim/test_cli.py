"""`fundwall sim` and `fundwall import` from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundwall.cli import app, main

runner = CliRunner()


def test_sim_writes_a_region_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "region"
    result = runner.invoke(app, ["sim", "--size", "tiny", "--seed", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "victim losses" in result.output
    assert "fraud transactions" in result.output
    assert (out / "transactions.parquet").is_file()


def test_import_paysim_with_bad_rows_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text(
        "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
        "newbalanceDest,isFraud,isFlaggedFraud\n"
        "1,PAYMENT,5,C1,10,5,M2,0,0,0,0\n1,PAYMENT,-5,C1,10,5,M2,0,0,0,0\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", "paysim", str(src), "--out", str(out)])
    assert result.exit_code == 2
    assert "p.csv line 3" in result.output
    assert not out.exists()
    kept = runner.invoke(app, ["import", "paysim", str(src), "--out", str(out), "--skip-bad"])
    assert kept.exit_code == 0, kept.output
    assert "skipped 1 bad row" in kept.output
    assert (out / "transactions.parquet").is_file()


def test_import_paysim_says_how_many_refused_rows_it_left_out(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text(
        "step,action,amount,nameOrig,nameDest,isFraud,isUnauthorizedOverdraft\n"
        "0,PAYMENT,5,C1,M2,0,0\n0,PAYMENT,9,C1,M2,0,1\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", "paysim", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "left out 1 row(s) the source marks as refused" in result.output
    assert "Imported 1 rows" in result.output


def test_errors_become_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys,
        "argv",
        ["fundwall", "import", "amlsim", str(tmp_path / "none"), "--out", str(tmp_path / "out")],
    )
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert "no such file" in capsys.readouterr().err


def test_load_command_is_idempotent(tmp_path: Path, own_settings: pytest.MonkeyPatch) -> None:
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path / "data"))
    region = tmp_path / "region"
    assert runner.invoke(app, ["sim", "--seed", "2", "--out", str(region)]).exit_code == 0
    first = runner.invoke(app, ["load", str(region)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["load", str(region)])
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    lines = [line for line in second.output.splitlines() if "transactions" in line]
    assert lines and lines[0].split("│")[2].strip() == "0"


def test_import_that_skips_every_row_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text(
        "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,"
        "newbalanceDest,isFraud,isFlaggedFraud\n"
        "1,PAYMENT,-5,C1,10,5,M2,0,0,0,0\n1,PAYMENT,5,C1,10,5,M2,0,0,0,maybe\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", "paysim", str(src), "--out", str(out), "--skip-bad"])
    assert result.exit_code == 2
    assert "p.csv line 3: field 'isFlaggedFraud'" in result.output
    assert "no transaction could be imported (2 bad row(s) skipped)" in result.output
    assert not out.exists()


def test_import_amlsim_reads_the_accounts_layout(tmp_path: Path) -> None:
    src = tmp_path / "aml"
    src.mkdir()
    (src / "accounts.csv").write_text(
        "acct_id,prior_sar_count,initial_deposit\n1,False,5\n2,True,0\n"
    )
    (src / "transactions.csv").write_text(
        "tran_id,orig_acct,bene_acct,base_amt,tran_timestamp,is_sar\n1,1,2,3.5,1,True\n"
    )
    result = runner.invoke(app, ["import", "amlsim", str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Imported 3 rows" in result.output


def test_load_takes_accounts_whose_opening_is_unknown(
    tmp_path: Path, own_settings: pytest.MonkeyPatch
) -> None:
    own_settings.setenv("FUNDWALL_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "p.csv"
    src.write_text(
        "step,type,amount,nameOrig,oldbalanceOrg,nameDest,oldbalanceDest,isFraud\n"
        "1,PAYMENT,5,C1,10,M2,0,0\n"
    )
    region = tmp_path / "region"
    assert runner.invoke(app, ["import", "paysim", str(src), "--out", str(region)]).exit_code == 0
    result = runner.invoke(app, ["load", str(region)])
    assert result.exit_code == 0, result.output
    (accounts,) = [line for line in result.output.splitlines() if line.startswith("│ accounts")]
    assert accounts.split("│")[2].strip() == "2"
