"""`fundwall serve`: the risk engine's HTTP API and the console, on one port.

One process, one uvicorn worker: the engine keeps its online state (features, controls) in
memory and decides one transaction at a time, so more workers would each hold a different
state. uvicorn runs on uvloop with the httptools parser, the fastest pair measured.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from fundwall.config import Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fundwall.api import DecisionServiceProtocol
    from fundwall.engine.service import DecisionService

console = Console(highlight=False, soft_wrap=True)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8000


def docs_url(host: str, port: int) -> str:
    """Where the API documentation is served, as a browser on this machine reaches it."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/docs"


def open_service(settings: Settings, region: Path | None) -> DecisionService:
    """The decision service: over the configured store (durable: decisions are logged and
    survive a restart), or in memory over a region folder's accounts (nothing logged)."""
    from fundwall.engine.service import DecisionService

    if region is not None:
        return DecisionService.from_region(region, policy=settings.policy)
    return DecisionService.open(settings)


def build_app(
    service: DecisionServiceProtocol,
    settings: Settings,
    *,
    demo_notice: str | None = None,
    in_memory: bool = False,
) -> FastAPI:
    """The API over `service` with the console, over the store and data directory of
    `settings` (stored backtests in `<data_dir>/backtests`, pack files in `<data_dir>/packs`).
    `demo_notice` (the demo only) names the demo users on the sign-in page.

    Members report their accounts (`/v1/accounts`) to the store the service reads; a service
    that decides `in_memory` over a region folder reads no store, so that server has no
    account routes.
    """
    from fundwall.api import create_app
    from fundwall.api.accounts import AccountReports
    from fundwall.crypto import Keyring
    from fundwall.store import open_database
    from fundwall.web import install_console

    store = open_database(settings.database_url)
    keyring = Keyring.from_settings(settings)
    accounts = None if in_memory else AccountReports(store, keyring)
    app = create_app(service, settings, accounts=accounts)
    install_console(
        app,
        database=store,
        keyring=keyring,
        data_dir=settings.data_dir,
        security=settings.security,
        demo_notice=demo_notice,
    )
    return app


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` until Ctrl-C or SIGTERM: one uvicorn worker on uvloop with the httptools
    parser.

    uvicorn shuts down on SIGTERM (what systemd and docker send) and then raises the signal
    again with the handler it found; the default one would end the process before the caller
    saves the engine's state, so the handler found is one that returns as Ctrl-C does."""
    import uvicorn

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        server_header=False,
        # The app alone decides whose X-Forwarded-For to believe (security.trusted_proxies);
        # uvicorn's own handling would believe any caller on 127.0.0.1.
        proxy_headers=False,
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    region: Annotated[
        Path | None,
        typer.Option(
            help="Decide in memory over this region folder's accounts instead of the store "
            "(nothing is logged).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (documented at /docs) and the console, until Ctrl-C."""
    # Imported here, not with the module: the engine, the console and the server take seconds
    # to import, and every other command would pay for them.
    from fundwall.store import display_url

    settings = get_settings()
    service = open_service(settings, region)
    try:
        app = build_app(service, settings, in_memory=region is not None)
        source = region if region is not None else display_url(settings.database_url)
        console.print(f"Fundwall deciding over {source}")
        console.print(f"API docs: {docs_url(host, port)}")
        run_server(app, host, port)
    finally:
        service.close()


def register(app: typer.Typer) -> None:
    """Add `fundwall serve` to the application."""
    app.command("serve")(serve)
