"""`fundwall db` and `fundwall audit` on SQLite and PostgreSQL, in process and as a program."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.store import UnitOfWork
from fundwall.store.migrate import head_revision

UowFactory = Callable[[], UnitOfWork]
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("own_settings")


def use(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("FUNDWALL_DATABASE_URL", url)


def append(uow_factory: UowFactory, count: int) -> None:
    with uow_factory() as uow:
        for n in range(1, count + 1):
            uow.audit.record("user:clerk@B001", "view_account", f"account:A{n}", {"n": n})
        uow.commit()


def test_db_upgrade_creates_the_schema_then_has_nothing_to_do(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, database_url)
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0, before.output
    assert "no Fundwall schema yet" in before.stdout

    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"to revision {head_revision()}" in first.stdout
    again = runner.invoke(app, ["db", "upgrade"])
    assert f"already at revision {head_revision()} (head)" in again.stdout
    current = runner.invoke(app, ["db", "current"])
    assert f"revision {head_revision()} (head)" in current.stdout


def test_db_upgrade_makes_the_sqlite_file_in_a_new_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data_dir = tmp_path / "fresh" / "var"
    monkeypatch.setenv("FUNDWALL_DATA_DIR", str(data_dir))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (data_dir / "fundwall.db").is_file()
    assert "from a new database" in result.stdout


def test_db_upgrade_to_an_unknown_revision_is_invalid_input(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, database_url)
    result = runner.invoke(app, ["db", "upgrade", "--revision", "nosuch"])
    assert result.exit_code != 0
    assert "nosuch" in str(result.exception)


def test_audit_verify_on_an_intact_log(
    migrated_database_url: str, uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, migrated_database_url)
    append(uow_factory, 3)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("audit log intact: 3 records")


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (["UPDATE audit_log SET subject = 'account:A9' WHERE seq = 2"], "record 2 altered"),
        (["DELETE FROM audit_log WHERE seq = 2"], "record 2 deleted"),
        (
            [
                "UPDATE audit_log SET seq = -1 WHERE seq = 1",
                "UPDATE audit_log SET seq = 1 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = -1",
            ],
            "record 1 reordered",
        ),
    ],
)
def test_audit_verify_fails_naming_the_first_bad_record(
    migrated_database_url: str,
    uow_factory: UowFactory,
    database: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tamper: list[str],
    named: str,
) -> None:
    use(monkeypatch, migrated_database_url)
    append(uow_factory, 4)
    with database.begin() as connection:
        for statement in tamper:
            connection.execute(text(statement))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert named in result.stderr
    assert "intact:" not in result.stdout


def test_audit_tail_shows_the_latest_records(
    migrated_database_url: str, uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, migrated_database_url)
    assert "the audit log is empty" in runner.invoke(app, ["audit", "tail"]).stdout
    append(uow_factory, 3)
    result = runner.invoke(app, ["audit", "tail", "-n", "2"])
    assert result.exit_code == 0, result.output
    # The test clock's time, shown in Asia/Shanghai.
    assert result.stdout.splitlines() == [
        '#2  2024-06-01 16:00:00+08:00  user:clerk@B001  view_account  account:A2  {"n": 2}',
        '#3  2024-06-01 16:00:00+08:00  user:clerk@B001  view_account  account:A3  {"n": 3}',
    ]


def test_program_upgrades_from_any_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real entry point in its own process, far from the source tree: the migrations
    # come from the package, not from an alembic.ini in the working directory.
    upgraded = subprocess.run(
        [sys.executable, "-c", "from fundwall.cli import main; main()", "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**os.environ, "FUNDWALL_DATABASE_URL": database_url},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"to revision {head_revision()}" in upgraded.stdout
    use(monkeypatch, database_url)
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("audit log intact: 0 records")


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Call the entry point in process, as the `fundwall` script does."""
    monkeypatch.setattr(sys, "argv", ["fundwall", *args])
    with pytest.raises(SystemExit) as leaving:
        main()
    return int(leaving.value.code or 0)


def test_database_without_schema_is_refused_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, database_url)
    assert run_main(monkeypatch, "audit", "verify") == 2
    error = capsys.readouterr().err
    assert error.startswith("error: the database ")
    assert "has no Fundwall schema" in error
    assert "run `fundwall db upgrade`" in error
    assert len(error.strip().splitlines()) == 1


def test_unreachable_server_is_reported_in_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, "postgresql://fw:secret@127.0.0.1:1/fw?connect_timeout=2")
    assert run_main(monkeypatch, "db", "upgrade") == 2
    error = capsys.readouterr().err
    assert error.startswith("error: cannot use the database at postgresql+psycopg://fw:***@")
    assert "secret" not in error
    assert len(error.strip().splitlines()) == 1


def test_bad_settings_are_reported_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FUNDWALL_POLICY__FREEZE_MONTHS", "six")
    assert run_main(monkeypatch, "db", "current") == 2
    error = capsys.readouterr().err
    assert error.startswith("error: field 'policy.freeze_months'")
    assert "FUNDWALL_POLICY__FREEZE_MONTHS" in error
    assert len(error.strip().splitlines()) == 1
