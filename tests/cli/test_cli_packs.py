"""`fundwall packs` over the configured store, SQLite and PostgreSQL: the registry's use
cases, acted on as the operator (`system:cli`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.engine.registry import shipped_content
from fundwall.engine.rules import default_pack, parse_pack
from fundwall.store import UnitOfWork, open_database

runner = CliRunner()


def pack_text(version: str) -> bytes:
    """The shipped pack declared as `version`."""
    return shipped_content().replace(b'version: "2025.1"', f'version: "{version}"'.encode())


@pytest.fixture(autouse=True)
def configured(configured_store: str) -> str:
    """Every test here runs with its own settings and store."""
    return configured_store


def test_packs_register_promote_shadow_and_list(tmp_path: Path, configured: str) -> None:
    (tmp_path / "first.yaml").write_bytes(pack_text("2025.7"))
    (tmp_path / "second.yaml").write_bytes(pack_text("2025.8"))
    first = parse_pack(pack_text("2025.7"), "f").version
    second = parse_pack(pack_text("2025.8"), "s").version
    rules = len(parse_pack(pack_text("2025.7"), "f").active)
    for args, said in [
        (["packs", "register", "first.yaml"], f"registered {first} ({rules} rules), status "),
        (["packs", "register", "second.yaml"], f"registered {second}"),
        (["packs", "promote", first], f"{first} is live"),
        (["packs", "shadow", second], f"{second} runs in shadow"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert said in result.stdout
    listing = runner.invoke(app, ["packs", "list"])
    assert listing.exit_code == 0, listing.output
    lines = {line.split()[0]: line.split()[1] for line in listing.stdout.splitlines()}
    assert lines == {first: "live", second: "shadow"}
    stopped = runner.invoke(app, ["packs", "shadow"])
    assert "no shadow pack" in stopped.stdout
    database = open_database(configured)
    try:
        with UnitOfWork(database) as uow:
            actors = {record.actor for record in uow.audit.tail(10)}
    finally:
        database.dispose()
    assert actors == {"system:cli"}


def test_pack_errors_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.yaml").write_bytes(pack_text("2025.7").replace(b"payer_in_sum_1h >=", b"x >="))
    for args, message in [
        (["packs", "register", "bad.yaml"], "bad.yaml:"),
        (["packs", "promote", "nosuch:1"], "rule pack version not found: nosuch:1"),
    ]:
        monkeypatch.setattr("sys.argv", ["fundwall", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 2
        assert message in capsys.readouterr().err


def test_a_registered_version_is_replayed_shown_and_compared(tmp_path: Path) -> None:
    (tmp_path / "first.yaml").write_bytes(pack_text("2025.7"))
    version = parse_pack(pack_text("2025.7"), "f").version
    assert runner.invoke(app, ["packs", "register", "first.yaml"]).exit_code == 0
    (tmp_path / "transactions.csv").write_text(
        "tx_id,ts,kind,payer_account,payee_account,payer_bank,payee_bank,amount_fen,channel\n"
        "T1,2024-06-01T08:00:00+00:00,transfer,A1,B1,301,302,10000,mobile\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["replay", "transactions.csv", "--rules", version, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pack_version"] == version
    unknown = runner.invoke(app, ["replay", "transactions.csv", "--rules", "nosuch:1"])
    assert "rule pack version not found: nosuch:1" in str(unknown.exception)
    shown = runner.invoke(app, ["rules", "show", version, "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    assert f"pack default version {version}" in shown.stdout
    diff = runner.invoke(app, ["rules", "diff", "default", version])
    assert diff.exit_code == 0, diff.output
    assert f"{default_pack().version} → {version}\nno differences" in diff.stdout
