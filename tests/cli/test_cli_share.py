"""`fundwall share` over the configured store, SQLite and PostgreSQL: the member hashes its
raw identifiers with an exported key (no database), the hub's operator publishes, matches,
follows the feed, retracts and rotates."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.csv as pa_csv
import pytest
from typer.testing import CliRunner

from fundwall.cli import app, main
from fundwall.domain.identity.resident_id import resident_id_check_char
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.store import UnitOfWork, open_database
from fundwall.store.mapping import institution_row

runner = CliRunner()


def resident_id(day: int) -> str:
    first17 = f"3502031980010{day}123"
    return first17 + resident_id_check_char(first17)


@pytest.fixture(autouse=True)
def configured(configured_store: str) -> str:
    database = open_database(configured_store)
    try:
        with UnitOfWork(database) as uow:
            for code in ("B001", "B002"):
                uow.session.add(institution_row(
                    Institution(code, code, code, InstitutionKind.BANK, "350200")
                ))  # fmt: skip
            uow.commit()
    finally:
        database.dispose()
    return configured_store


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_hash_publish_match_feed_retract(tmp_path: Path) -> None:
    assert "sharing key v1 made" in invoke("share", "key", "rotate")
    key_file = tmp_path / "share-v1.key"
    invoke("share", "key", "export", "--version", "1", "--out", str(key_file))
    assert key_file.stat().st_mode & 0o077 == 0
    raw = tmp_path / "customers.csv"
    raw.write_text(f"value,ref\n{resident_id(1)},C1\n{resident_id(2)},C2\n", encoding="utf-8")
    hashed = tmp_path / "hashed.csv"
    said = invoke("share", "hash", str(raw), "--kind", "id", "--key-file", str(key_file),
                  "--out", str(hashed))  # fmt: skip
    assert "2 hashed with key v1" in said
    text = hashed.read_text(encoding="utf-8")
    assert resident_id(1) not in text and "v1:" in text
    first = pa_csv.read_csv(hashed).to_pylist()[0]
    entries = tmp_path / "entries.csv"
    entries.write_text(
        f"kind,key,category,evidence,reference\nid_hash,{first['key']},mule,member_verified,C1\n",
        encoding="utf-8",
    )
    published = invoke("share", "publish", str(entries), "--member", "B001")
    found = re.search(r"published 1 entries for B001 \(ids (\d+)–(\d+);", published)
    assert found is not None and found.group(1) == found.group(2), published
    entry = found.group(1)
    hits = tmp_path / "hits.csv"
    assert "2 identifiers, 1 hits" in invoke("share", "match", str(hashed), "--out", str(hits))
    (hit,) = pa_csv.read_csv(hits).to_pylist()
    assert (hit["ref"], hit["category"], hit["reporting_member"]) == ("C1", "mule", "B001")
    assert re.search(r"next: --after \d+\n", invoke("share", "feed"))
    retracted = invoke("share", "retract", entry, "--reason", "wrong person")
    assert f"entry {entry} retracted" in retracted
    assert "0 entries" in invoke("share", "query", "--kind", "id_hash", "--key", first["key"])
    assert "1 entries shared" in invoke("share", "counts")


def test_a_bad_raw_row_is_named_and_skipped_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke("share", "key", "rotate")
    key_file = tmp_path / "k.key"
    invoke("share", "key", "export", "--version", "1", "--out", str(key_file))
    raw = tmp_path / "phones.csv"
    raw.write_text("value\n13812345678\n02512345678\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["share", "hash", str(raw), "--kind", "phone", "--key-file", str(key_file),
            "--out", str(out)]  # fmt: skip
    with pytest.raises(SystemExit) as stopped, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.argv", ["fundwall", *args])
        main()
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "line 3" in error and "'value'" in error and "02512345678" not in error
    assert not out.exists()
    assert "1 hashed" in invoke(*args, "--skip-bad")
