"""Putting the console into the API's FastAPI app.

    app = create_app(service, settings, access=access)        # the HTTP API, API keys
    install_console(app, keyring=keyring,                      # + console, users, API data
                    keys_dir=settings.keys_dir, telecom_registry=registry,
                    recycled_days=settings.phones.recycled_days,
                    policy=settings.policy, data_dir=settings.data_dir)

`fundwall.bootstrap` (`Platform.app`) assembles both as `fundwall serve` runs them.

The console's pages sit beside the API's routes in one app, on one port. Its static files
are under /static, its JSON reads of member data under /v1/ (with the API's problem
errors). It also installs the app's HTTP front (`fundwall.web.middleware`): the client as a
trusted proxy names it, and the security headers on every answer, the API's included.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from fundwall.api.cases import case_router
from fundwall.api.clues import clue_router
from fundwall.api.member_data import member_data_router
from fundwall.api.orders import order_router
from fundwall.api.outreach import outreach_router
from fundwall.api.returns import router as return_router
from fundwall.api.sharing import share_router
from fundwall.api.traces import trace_router
from fundwall.auth.dependencies import installed_access
from fundwall.config import CaseSettings, PolicySettings, SecuritySettings
from fundwall.crypto import Keyring
from fundwall.phones.registry import TelecomRegistry
from fundwall.rulepacks.library import PackLibrary
from fundwall.web.errors import install_error_pages
from fundwall.web.middleware import STATIC_PATH, SecurityHeaders, TrustedFront
from fundwall.web.pages import console_routers
from fundwall.web.state import ConsoleConfig


def install_console(
    app: FastAPI,
    *,
    keyring: Keyring,
    keys_dir: Path,
    telecom_registry: TelecomRegistry,
    recycled_days: int,
    policy: PolicySettings,
    data_dir: Path | None = None,
    packs_dir: Path | None = None,
    security: SecuritySettings | None = None,
    cases: CaseSettings | None = None,
    demo_notice: str | None = None,
    poll_seconds: int = 5,
) -> None:
    """Add the console, sign-in and the member-data API to `app`, an app `create_app` made
    with `access` (the users, sessions and keys the console signs in with).

    `keys_dir` holds the key files (the regional sharing keys a phone finding is hashed with
    before it is published); `telecom_registry` is the registry a phone re-check asks, and
    `recycled_days` how far back the recycled-number investigation looks by default.
    `policy` gives the figures of the risk tiers' measures and of simplified opening.
    `data_dir` is the deployment's data directory: stored backtests are read from
    `<data_dir>/backtests`, and rule pack files shown beside the default pack from
    `packs_dir` (default `<data_dir>/packs`). `demo_notice` (the demo only) is shown on the
    sign-in page. `poll_seconds` is how often the overview refreshes. `security` are the
    deployment's form, proxy and TLS settings, `cases` its case work settings (the defaults
    if not given). Call before the app serves.
    """
    if installed_access(app) is None:
        raise TypeError("install_console needs an app made by create_app(..., access=...)")
    security = security or SecuritySettings()
    if packs_dir is None and data_dir is not None:
        packs_dir = data_dir / "packs"
    library = PackLibrary(packs_dir)
    config = ConsoleConfig(
        keyring,
        library,
        demo_notice,
        security.form_max_bytes,
        data_dir,
        poll_seconds,
        keys_dir=keys_dir,
        telecom_registry=telecom_registry,
        recycled_days=recycled_days,
        policy=policy,
        cases=cases or CaseSettings(),
    )
    app.state.fundwall_console = config
    app.include_router(member_data_router(keyring, library))
    app.include_router(order_router(keyring))
    app.include_router(trace_router())
    app.include_router(clue_router(keyring))
    app.include_router(share_router(config.risk_index))
    app.include_router(case_router())
    app.include_router(return_router)
    app.include_router(outreach_router())
    for router in console_routers():
        app.include_router(router)
    static = Path(__file__).parent / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=static), name="static")
    app.add_middleware(SecurityHeaders, hsts_seconds=security.hsts_seconds)
    if security.trusted_proxies or security.tls:
        # Added last, so it runs first: the headers then see the scheme it settles.
        app.add_middleware(TrustedFront, proxies=security.trusted_proxies, tls=security.tls)
    install_error_pages(app)
