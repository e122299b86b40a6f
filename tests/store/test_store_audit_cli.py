"""`fundwall audit verify` and `fundwall audit checkpoint` with the deployment's own audit key
and checkpoint file, as settings give them, on SQLite and PostgreSQL: both attacks of an
unkeyed chain (re-hash everything after an edit; cut the tail and move the head back) and a
forged checkpoint fail the run."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.config import get_settings, load_settings
from fundwall.domain.errors import InvalidInput
from fundwall.store import UnitOfWork

from .test_store_audit_seal import cut_tail, rehash_from

runner = CliRunner()


@pytest.fixture(autouse=True)
def deployment(
    own_settings: pytest.MonkeyPatch, tmp_path: Path, migrated_database_url: str
) -> Path:
    """This test's deployment: settings from the environment alone, data in tmp_path/var."""
    own_settings.setenv("FUNDWALL_DATABASE_URL", migrated_database_url)
    return tmp_path / "var"


def append(database: Engine, count: int) -> None:
    """Records written as a service writes them: the deployment's key and checkpoint file."""
    for n in range(count):
        with UnitOfWork(database) as uow:
            uow.audit.record("user:clerk@B001", "view_account", f"account:A{n}")
            uow.commit()


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["fundwall", *args])
    with pytest.raises(SystemExit) as leaving:
        main()
    return int(leaving.value.code or 0)


def test_verify_holds_a_clean_chain_against_its_checkpoints(
    database: Engine, deployment: Path
) -> None:
    append(database, 3)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("audit log intact: 3 records, head hash ")
    assert "; held against 3 signed checkpoints (the highest at seq 3)" in result.stdout
    key = deployment / "keys" / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text(encoding="ascii"))) == 32
    assert len((deployment / "audit-checkpoints.jsonl").read_text().splitlines()) == 3


def test_verify_fails_on_a_chain_rehashed_with_public_sm3(database: Engine) -> None:
    append(database, 4)
    rehash_from(database, 2, version=2, edit=2)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "record 2 altered: its stored hash does not match its contents" in result.stderr
    assert "intact:" not in result.stdout


def test_verify_fails_on_a_tail_cut_with_the_head_moved_back(database: Engine) -> None:
    append(database, 4)
    cut_tail(database, keep=2)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "record 3 deleted: the chain ends at seq 2, but checkpoint line 3" in result.stderr
    assert "(the 2 records before it are intact)" in result.stderr


def test_verify_fails_on_a_forged_checkpoint(database: Engine, deployment: Path) -> None:
    append(database, 2)
    with (deployment / "audit-checkpoints.jsonl").open("a", encoding="ascii") as out:
        out.write('{"seq":9,"hash":"' + "a" * 64 + '","time":"2030-01-01","sig":"' + "b" * 64)
        out.write('"}\n')
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "checkpoint line 3 forged: its signature does not verify" in result.stderr
    assert "(the chain's 2 records pass the key check)" in result.stderr


def test_checkpoint_signs_the_verified_head_only(database: Engine, deployment: Path) -> None:
    empty = runner.invoke(app, ["audit", "checkpoint"])
    assert (empty.exit_code, empty.stdout) == (0, "the audit log is empty: nothing to checkpoint\n")
    append(database, 2)
    checkpoints = deployment / "audit-checkpoints.jsonl"
    written = runner.invoke(app, ["audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert written.stdout.startswith(f"checkpoint written to {checkpoints}: seq 2, hash ")
    assert len(checkpoints.read_text().splitlines()) == 3

    rehash_from(database, 1, version=2, edit=1)
    refused = runner.invoke(app, ["audit", "checkpoint"])
    assert refused.exit_code == 1
    assert "record 1 altered" in refused.stderr
    assert len(checkpoints.read_text().splitlines()) == 3


def test_a_lost_key_file_is_reported_and_never_replaced_by_a_new_key(
    database: Engine,
    deployment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    append(database, 1)
    key = deployment / "keys" / "audit.key"
    key.unlink()
    assert run_main(monkeypatch, "audit", "verify") == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: field 'keys.audit_key': the audit key file {key} does not")
    assert "restore it, or set keys.audit_key" in error
    assert len(error.splitlines()) == 1
    # Appending does not make a fresh key either: checkpoints were signed with the lost one.
    get_settings.cache_clear()
    with pytest.raises(InvalidInput, match="the audit chain was keyed with it"):
        append(database, 1)
    assert not key.exists()


def test_key_and_checkpoint_file_may_come_from_configuration(
    database: Engine, deployment: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "worm" / "fundwall-audit.jsonl"
    monkeypatch.setenv("FUNDWALL_KEYS__AUDIT_KEY", "11" * 32)
    monkeypatch.setenv("FUNDWALL_AUDIT__CHECKPOINTS", str(elsewhere))
    get_settings.cache_clear()
    append(database, 2)
    assert not (deployment / "keys").exists()
    assert len(elsewhere.read_text().splitlines()) == 2
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0

    monkeypatch.setenv("FUNDWALL_KEYS__AUDIT_KEY", "22" * 32)
    get_settings.cache_clear()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "record 1 altered" in result.stderr


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"keys": {"audit_key": "secret-not-hex"}}, "keys.audit_key"),
        ({"keys": {"audit_key": "ab" * 8 + "c"}}, "keys.audit_key"),
        ({"audit": {"checkpoint_every": 0}}, "audit.checkpoint_every"),
    ],
)
def test_bad_audit_settings_are_named_without_echoing_a_key(
    setting: dict[str, dict[str, object]], named: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_settings(config_file=None, **setting)
    assert named in str(caught.value)
    assert "secret-not-hex" not in str(caught.value)


def test_checkpoints_default_to_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(config_file=None, data_dir=tmp_path / "data")
    assert settings.audit_checkpoints == tmp_path / "data" / "audit-checkpoints.jsonl"
    assert settings.audit.checkpoint_every == 1
