"""A decision service killed with SIGKILL mid-stream loses nothing it answered and counts
nothing twice: the restarted service repeats its answers and goes on exactly as a service
that never stopped."""

from __future__ import annotations

import json
import marshal
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from engine_store import load_accounts

from fundwall.clock import SystemClock
from fundwall.config import load_settings
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Decision
from fundwall.domain.transactions import Transaction
from fundwall.engine.decide import DecisionService
from fundwall.engine.decider import DecisionEngine
from fundwall.engine.decision_log import DecisionLog
from fundwall.engine.features import TxEvent
from fundwall.sim.schema import read_table
from fundwall.store import open_engine
from fundwall.store.migrate import upgrade
from fundwall.store.tables import DecisionRow

SENT = 900
KILLED_AFTER = 300


def store(folder: Path, region: Path) -> tuple[str, Keyring]:
    """A SQLite store in `folder` holding the region's accounts and parties, no history."""
    url = f"sqlite:///{folder / 'fundwall.db'}"
    upgrade(url)
    keyring = Keyring.from_settings(load_settings(config_file=None, data_dir=folder))
    engine = open_engine(url)
    try:
        load_accounts(region, engine, keyring)
    finally:
        engine.dispose()
    return url, keyring


def decided(
    url: str, keyring: Keyring, txs: list[Transaction]
) -> tuple[list[Decision], DecisionEngine]:
    """Decisions of a service started on `url` for `txs`, and its engine afterwards."""
    service = DecisionService.over(DecisionLog(open_engine(url), SystemClock()), keyring=keyring)
    try:
        return [service.decide(tx) for tx in txs], service.engine
    finally:
        service.close()


def probe(engine: DecisionEngine, txs: list[Transaction]) -> list[list[int | float]]:
    """Feature vectors of a payment from each payer of `txs`, a second after the last one:
    every window, count and balance the state holds for those accounts."""
    later = txs[-1].ts + timedelta(seconds=1)
    payers = list(dict.fromkeys(tx.payer_account for tx in txs if tx.payer_account))
    return [
        list(engine.features.compute(TxEvent(f"probe-{payer}", later, "transfer", payer, "X1",
                                             "301", "302", 100, "mobile")))
        for payer in payers
    ]  # fmt: skip


def essence(decision: Decision) -> tuple[object, ...]:
    """A decision without its latency, which differs from run to run."""
    return decision.tx_id, decision.action, decision.score, decision.reasons, decision.pack_version


def test_kill_9_mid_stream_loses_nothing_and_counts_nothing_twice(
    region: Path, tmp_path: Path
) -> None:
    rows = read_table(region, "transactions").slice(0, SENT).to_pylist()
    txs = [Transaction.from_mapping(row) for row in rows]
    lines = tmp_path / "transactions.jsonl"
    lines.write_text(
        "".join(json.dumps({**tx.as_row(), "ts": tx.ts.isoformat()}) + "\n" for tx in txs)
    )
    crashed_dir = tmp_path / "crashed"
    crashed_dir.mkdir()
    url, keyring = store(crashed_dir, region)

    environment = {
        **os.environ,
        "FUNDWALL_DATABASE_URL": url,
        "FUNDWALL_DATA_DIR": str(crashed_dir),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", "from fundwall.cli import main; main()", "decide", str(lines)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        cwd=tmp_path,
        text=True,
    )
    assert worker.stdout is not None
    answered = []
    for line in worker.stdout:
        answered.append(json.loads(line))
        if len(answered) == KILLED_AFTER:
            worker.send_signal(signal.SIGKILL)
            break
    worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL, worker.stderr.read() if worker.stderr else ""
    assert len(answered) == KILLED_AFTER

    # Every answered decision is in the log, as answered.
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            logged = {
                row.tx_id: row
                for row in connection.execute(
                    DecisionRow.__table__.select().where(DecisionRow.shadow.is_(False))
                )
            }
    finally:
        engine.dispose()
    assert len(logged) >= KILLED_AFTER
    for answer in answered:
        row = logged[answer["tx_id"]]
        assert (row.action, row.score, row.pack_version) == (
            answer["action"],
            answer["score"],
            answer["pack_version"],
        )
        assert row.reasons == answer["reasons"]

    # Restarted, the service repeats the answers and carries on; a service that never
    # stopped, over a fresh store, decides every transaction the same and ends in the same
    # state: nothing was lost, nothing counted twice.
    after, restarted = decided(url, keyring, txs)
    for answer, decision in zip(answered, after, strict=False):
        assert decision.latency_us == answer["latency_us"]
        assert decision.action.value == answer["action"]
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean_url, clean_keyring = store(clean_dir, region)
    reference, clean = decided(clean_url, clean_keyring, txs)
    assert [essence(d) for d in after] == [essence(d) for d in reference]
    assert marshal.loads(restarted.controls.snapshot()) == marshal.loads(clean.controls.snapshot())
    assert probe(restarted, txs) == probe(clean, txs)
