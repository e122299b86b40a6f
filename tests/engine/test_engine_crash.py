"""A decision service killed with SIGKILL mid-stream loses nothing it answered and counts
nothing twice: the restarted service repeats its answers and goes on exactly as a service
that never stopped. (`test_serve_crash` does the same to `fundwall serve` under load.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from crash_checks import decided, essence, live_decisions, probe, state
from engine_store import region_store

from fundwall.domain.transactions import Transaction
from fundwall.region import read_table

SENT = 900
KILLED_AFTER = 300


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
    url, keyring = region_store(crashed_dir, region)

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

    # Every answered decision is in the log, as answered, and none twice.
    logged = live_decisions(url)
    assert len(logged) >= KILLED_AFTER
    for answer in answered:
        assert logged[answer["tx_id"]].to_dict() == answer

    # Restarted, the service repeats the answers and carries on; a service that never
    # stopped, over a fresh store, decides every transaction the same and ends in the same
    # state: nothing was lost, nothing counted twice.
    after, restarted = decided(url, keyring, txs)
    for answer, decision in zip(answered, after, strict=False):
        assert decision.to_dict() == answer
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    clean_url, clean_keyring = region_store(clean_dir, region)
    reference, clean = decided(clean_url, clean_keyring, txs)
    assert [essence(d) for d in after] == [essence(d) for d in reference]
    assert state(restarted) == state(clean)
    assert probe(restarted, txs) == probe(clean, txs)
