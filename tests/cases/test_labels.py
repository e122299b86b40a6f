"""Labels from closed cases: the use case over the two-bank world (SQLite and PostgreSQL),
read back with pyarrow, and `fundwall labels export` over the configured store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from auth import world  # tests/auth/world.py
from fundwall.auth import Actor
from fundwall.cases import (
    LABEL_SCHEMA,
    CaseKind,
    Outcome,
    close_case,
    export_labels,
    merge_cases,
    open_case,
)
from fundwall.cli import app, main
from fundwall.domain.errors import InvalidInput, PermissionDenied
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
OPERATOR = Actor.operator("test")


def test_closed_cases_label_their_accounts_and_transactions(stocked: Uow, tmp_path: Path) -> None:
    out = tmp_path / "labels.parquet"
    with stocked() as uow:
        ann = world.user_actor(uow, "ann")
        mule = open_case(uow, ann, CaseKind.ACCOUNT, "A1", title="A1", tx_ids=["T1"]).case.id
        merged = open_case(uow, ann, CaseKind.ACCOUNT, "A2", title="A2").case.id
        merge_cases(uow, ann, merged, into=mule)
        open_case(uow, ann, CaseKind.SCAM, "刷单返利", title="still open", tx_ids=["T2"])
        close_case(uow, ann, mule, Outcome.MULE, "sold the card")
        with pytest.raises(PermissionDenied):
            export_labels(uow, ann, out)
        rows = export_labels(uow, OPERATOR, out)
        last = uow.audit.tail(1)[0]
    table = pq.read_table(out)
    assert table.schema.equals(LABEL_SCHEMA) and table.num_rows == rows
    labelled = {
        (row["account_no"], row["tx_id"], row["role"], row["alerted"]) for row in table.to_pylist()
    }
    # A1 pays T1 (alerted) and T2; A2 (merged in) receives T1 and T3.
    assert labelled == {
        ("A1", "T1", "payer", True),
        ("A1", "T2", "payer", False),
        ("A2", "T1", "payee", True),
        ("A2", "T3", "payee", False),
    }
    assert {(row["case_id"], row["member"], row["outcome"]) for row in table.to_pylist()} == {
        (mule, world.BANK_A, "mule")
    }
    assert (last.action, last.details) == ("labels_export", {"cases": 1, "rows": 4})


def test_an_account_without_transactions_has_one_row(stocked: Uow, tmp_path: Path) -> None:
    out = tmp_path / "labels.parquet"
    with stocked() as uow:
        ann = world.user_actor(uow, "ann")
        case_id = open_case(uow, ann, CaseKind.SCAM, "刷单返利", title="x").case.id
        close_case(uow, ann, case_id, Outcome.INCONCLUSIVE, "no money moved")
        assert export_labels(uow, OPERATOR, out) == 0
    assert pq.read_table(out).num_rows == 0


@pytest.mark.parametrize("where", ["folder", "missing/labels.parquet"])
def test_a_path_that_cannot_be_written_is_refused_and_nothing_is_left(
    stocked: Uow, tmp_path: Path, where: str
) -> None:
    base = tmp_path / "exports"
    (base / "folder").mkdir(parents=True)
    with stocked() as uow, pytest.raises(InvalidInput, match="out"):
        export_labels(uow, OPERATOR, base / where)
    assert [p.name for p in base.iterdir()] == ["folder"]


def test_the_command_writes_the_file_and_refuses_a_folder(
    configured_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = CliRunner().invoke(app, ["labels", "export", "--out", "labels.parquet"])
    assert result.exit_code == 0, result.output
    assert "0 label rows written" in result.stdout
    assert pq.read_table(tmp_path / "labels.parquet").schema.equals(LABEL_SCHEMA)
    monkeypatch.setattr("sys.argv", ["fundwall", "labels", "export", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "is a directory" in capsys.readouterr().err
