"""`fundwall serve`: the command starts the server and says where the documentation is."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from fundwall.auth import Actor, ActorKind, Role, SystemActor, create_api_key
from fundwall.cli.serve import build_app, docs_url
from fundwall.config import load_settings
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.engine.backtest import FORMAT
from fundwall.engine.backtest.storage import backtest_path
from fundwall.ingest import parse_transaction
from fundwall.sim.run import simulate
from fundwall.store import UnitOfWork
from fundwall.store.mapping import institution_row
from fundwall.store.tables import TransactionRow
from fundwall.web.data.backtests import stored_backtests

from .records import record
from .service import RuleOfThumbService


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/docs"),
        ("0.0.0.0", "http://127.0.0.1:8000/docs"),
        ("::1", "http://[::1]:8000/docs"),
        ("risk.bank.example", "http://risk.bank.example:8000/docs"),
    ],
)
def test_the_docs_url_is_one_a_browser_here_can_open(host: str, expected: str) -> None:
    assert docs_url(host, 8000) == expected


def test_the_console_reads_the_backtests_of_the_data_directory(tmp_path: Path) -> None:
    stored = backtest_path(tmp_path, "2025.1:abc", "small7")
    stored.parent.mkdir()
    body = {
        "format": FORMAT,
        "region": {"name": "small7", "source": "sim"},
        "pack_version": "2025.1:abc",
        "saved_at": "2025-01-02T03:04:05+00:00",
    }
    stored.write_bytes(orjson.dumps(body))
    app = build_app(RuleOfThumbService(), load_settings(config_file=None, data_dir=tmp_path))
    try:
        hub = Actor(ActorKind.USER, "supervisor", Role.HUB_SUPERVISOR)
        listed = stored_backtests(hub, app.state.fundwall_console.data_dir)
        assert [(each.pack_version, each.region) for each in listed] == [("2025.1:abc", "small7")]
    finally:
        app.state.fundwall_access.engine.dispose()


@pytest.mark.parametrize("in_memory", [False, True], ids=["store", "region"])
def test_served_transaction_ids_belong_to_the_member_that_used_them_first(
    tmp_path: Path, migrated_database_url: str, engine: Engine, in_memory: bool
) -> None:
    """Over the store, the ids in its log count (T-0, logged before the start; the rule of
    thumb logs nothing, so not T-1); over a region, the ids sent since the start (T-1)."""
    with UnitOfWork(engine) as uow:
        for code in ("B001", "B002"):
            uow.session.add(
                institution_row(Institution(code, code, code, InstitutionKind.BANK, "350200"))
            )
        uow.commit()
        keys = {
            code: {"x-api-key": create_api_key(uow, SystemActor("test"), code)[1]}
            for code in ("B001", "B002")
        }
    logged = parse_transaction(record("T-0", payer_bank="B001"))
    with engine.begin() as connection:
        connection.execute(insert(TransactionRow), [logged.as_row()])
    settings = load_settings(
        config_file=None,
        data_dir=tmp_path,
        database_url=migrated_database_url,
        api={"check_time": False},  # the records are stamped in 2024
    )
    app = build_app(RuleOfThumbService(), settings, in_memory=in_memory)
    try:
        with TestClient(app) as client:

            def send(tx_id: str, bank: str) -> int:
                sent = record(tx_id, payer_bank=bank)
                return client.post("/v1/transactions", json=sent, headers=keys[bank]).status_code

            logged_first = send("T-0", "B002")
            assert send("T-1", "B001") == 200
            seen_first = send("T-1", "B002")
        assert (logged_first, seen_first) == ((200, 422) if in_memory else (422, 200))
    finally:
        app.state.fundwall_access.engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_starts_the_api_and_prints_its_docs_url(tmp_path: Path) -> None:
    region = tmp_path / "region"
    simulate("tiny", 7, region)
    port = free_port()
    fundwall = Path(sys.executable).with_name("fundwall")
    environment = {**os.environ, "FUNDWALL_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [str(fundwall), "serve", "--port", str(port), "--region", str(region)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        unauthenticated = httpx.post(f"http://127.0.0.1:{port}/v1/transactions", json={})
        assert unauthenticated.status_code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert re.search(rf"API docs: http://127\.0\.0\.1:{port}/docs", output), output
