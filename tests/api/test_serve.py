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

from fundwall import bootstrap
from fundwall.auth import Actor, ActorKind, Role
from fundwall.cli.serve import docs_url
from fundwall.config import load_settings
from fundwall.engine.backtest import FORMAT
from fundwall.engine.backtest.storage import backtest_path
from fundwall.rulepacks.backtests import stored_backtests
from fundwall.sim.run import simulate
from fundwall.store.migrate import upgrade

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
    settings = load_settings(config_file=None, data_dir=tmp_path)
    # The console reads the backtests from files: no database is read, so none is migrated.
    with bootstrap.opened(settings, check_schema=False) as platform:
        app = platform.app(RuleOfThumbService())
    hub = Actor(ActorKind.USER, "supervisor", Role.HUB_SUPERVISOR)
    listed = stored_backtests(hub, app.state.fundwall_console.data_dir)
    assert [(each.pack_version, each.region) for each in listed] == [("2025.1:abc", "small7")]


@pytest.mark.parametrize("in_memory", [False, True], ids=["store", "region"])
def test_members_report_accounts_only_to_a_server_over_the_store(
    platform: bootstrap.Platform, in_memory: bool
) -> None:
    """A service deciding in memory over a region folder reads no store, so the server it
    runs in has no account routes (it would take reports its engine never reads)."""
    app = platform.app(RuleOfThumbService(), accounts=not in_memory)
    assert ("/v1/accounts" in app.openapi()["paths"]) is not in_memory


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
    refused = subprocess.run(
        [str(fundwall), "serve", "--port", str(port), "--region", str(region)],
        capture_output=True,
        env=environment,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "run `fundwall db upgrade`" in refused.stderr
    upgrade(f"sqlite:///{tmp_path / 'data' / 'fundwall.db'}")
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
