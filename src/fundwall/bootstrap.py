"""The composition root: every entrypoint (CLI command, `serve`, `demo`, `bench`, tests'
fixtures) builds the parts it needs here, once, instead of wiring them itself.

    with bootstrap.opened() as platform:          # the settings' database, schema checked
        with platform.unit_of_work() as uow:
            record = promote(uow, platform.operator, version)

    with bootstrap.opened() as platform:          # what `fundwall serve` runs
        service = platform.decision_service()
        app = platform.app(service)

`Platform` holds the settings, the database, the clock, the password hasher and the keyring,
and builds from them the access control, the decision service and the app (the HTTP API with
its API keys, and the console); it disposes of the database when the block ends. Workflows'
use cases take the unit of work and the actor from their caller; nothing below this module
opens a database of its own. Heavy parts (the engine, the web app) are imported when first
asked for, so a command that needs only the database starts fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fundwall.auth.actor import Actor
from fundwall.clock import Clock, SystemClock
from fundwall.config import Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Engine

    from fundwall.api import DecisionServiceProtocol
    from fundwall.auth.dependencies import AccessConfig
    from fundwall.auth.passwords import Passwords
    from fundwall.crypto import Keyring
    from fundwall.engine.service import DecisionService
    from fundwall.engine.shared import SharedState
    from fundwall.outreach.gateway import SmsGateway
    from fundwall.phones.registry import TelecomRegistry
    from fundwall.store.audit_seal import AuditSeal
    from fundwall.store.database import Checkpoints
    from fundwall.store.uow import UnitOfWork

CLI_OPERATOR = "cli"
"""How the audit log names whoever runs `fundwall` commands (`system:cli`)."""


@dataclass(eq=False)
class Platform:
    """The deployment's parts, built once per process (or per command)."""

    settings: Settings
    database: Engine
    passwords: Passwords
    """Hashes and checks the console users' passwords."""
    clock: Clock = field(default_factory=SystemClock)
    operator: Actor = field(default_factory=lambda: Actor.operator(CLI_OPERATOR))
    """Who acts when the server's own operator runs a command."""
    checkpoints: Checkpoints | None = None
    """The thread checkpointing a SQLite database's write-ahead log, when the commits do not
    (`store.database.checkpoint_apart`)."""

    @cached_property
    def keyring(self) -> Keyring:
        """The deployment's personal-data keys (read, or made on first use)."""
        from fundwall.crypto import Keyring

        return Keyring.from_settings(self.settings)

    @cached_property
    def telecom_registry(self) -> TelecomRegistry:
        """The telecom real-name registry the phone checks ask (`phones.registry`)."""
        from fundwall.phones.adapters import configured_registry

        return configured_registry(self.settings.phones, self.database, self.keyring, self.clock)

    @cached_property
    def sms_gateway(self) -> SmsGateway:
        """The SMS gateway the outbox sends through (`outreach.gateway`)."""
        from fundwall.outreach.gateway import configured_gateway

        return configured_gateway(self.settings.outreach)

    @cached_property
    def access(self) -> AccessConfig:
        """Access control over the database's users, sessions and API keys, with the
        deployment's sign-in and session settings; one key cache and sign-in throttle."""
        from fundwall.auth.dependencies import AccessConfig
        from fundwall.auth.sessions import SessionPolicy
        from fundwall.auth.throttle import AddressThrottle

        security = self.settings.security
        return AccessConfig(
            database=self.database,
            passwords=self.passwords,
            policy=SessionPolicy.of(security),
            addresses=AddressThrottle.of(security),
            clock=self.clock,
            keyring=self.keyring,
        )

    def unit_of_work(
        self, *, audit_seal: AuditSeal | None = None, clock: Clock | None = None
    ) -> UnitOfWork:
        """A new unit of work over the database, on the platform's clock unless `clock` is
        given (`audit_seal`: the audit key and checkpoint file, by default the deployment's),
        with the platform's keyring."""
        from fundwall.store.uow import UnitOfWork

        return UnitOfWork(
            self.database, clock=clock or self.clock, audit_seal=audit_seal, keyring=self.keyring
        )

    def decision_service(
        self, *, region: Path | None = None, snapshot_every: int | None = None
    ) -> DecisionService:
        """The decision service: over the store (durable: decisions are logged and survive a
        restart; `snapshot_every` saves the state after that many transactions), or in memory
        over a region folder's accounts (nothing logged). Close it when done."""
        if region is not None:
            from fundwall.engine.controls.batch import warm_up
            from fundwall.engine.features import settle_gc

            service = region_service(region, self.settings)
            warm_up()
            settle_gc()  # as the durable service does: no compile or full collection mid-call
            return service
        from fundwall.engine.decision_log import DecisionLog
        from fundwall.engine.service import DecisionService

        return DecisionService.over(
            DecisionLog(self.database, self.clock),
            policy=self.settings.policy,
            keyring=self.keyring,
            keys_dir=self.settings.keys_dir,
            snapshot_every=snapshot_every,
            shared=self._shared_state(),
        )

    def _shared_state(self) -> SharedState | None:
        """The replicas' shared state when the deployment names a Redis (`[replicas]`)."""
        replicas = self.settings.replicas
        if replicas.redis_url is None:
            return None
        from fundwall.engine.shared import SharedState

        return SharedState(
            replicas.redis_url,
            namespace=replicas.namespace,
            lease_ms=replicas.lease_ms,
            wait_s=replicas.wait_seconds,
            cluster=replicas.redis_cluster,
            gather_s=replicas.gather_ms / 1000,
        )

    def app(
        self,
        service: DecisionServiceProtocol,
        *,
        accounts: bool = True,
        api_keys_required: bool = True,
        demo_notice: str | None = None,
        packs_dir: Path | None = None,
        poll_seconds: int = 5,
    ) -> FastAPI:
        """The HTTP API over `service`, with API keys, the console and the public portal (at
        /portal), as `fundwall serve` runs it: stored backtests from `<data_dir>/backtests`,
        pack files from `packs_dir` (default `<data_dir>/packs`), the overview refreshed
        every `poll_seconds`, the screening routes on the deployment's policy and the
        official statistics on its report settings.

        With `accounts`, members report their accounts at `/v1/accounts` to the store the
        service reads; a service deciding in memory over a region folder reads no store, so
        its server has no account routes. `api_keys_required=False` (the demo alone) takes
        transactions without a key; `demo_notice` names the demo users on the sign-in page.
        """
        from fundwall.api import create_app
        from fundwall.api.accounts import AccountReports
        from fundwall.api.appeals import appeals_router
        from fundwall.api.reports import reports_router
        from fundwall.api.screening import screening_router
        from fundwall.portal import install_portal
        from fundwall.web import install_console

        app = create_app(
            service,
            self.settings,
            access=self.access,
            api_keys_required=api_keys_required,
            clock=self.clock,
            accounts=(
                AccountReports(
                    self.unit_of_work,
                    self.keyring,
                    self.settings.policy,
                    self.telecom_registry,
                    self.settings.keys_dir,
                )
                if accounts
                else None
            ),
        )
        install_console(
            app,
            keyring=self.keyring,
            keys_dir=self.settings.keys_dir,
            telecom_registry=self.telecom_registry,
            recycled_days=self.settings.phones.recycled_days,
            policy=self.settings.policy,
            data_dir=self.settings.data_dir,
            packs_dir=packs_dir,
            security=self.settings.security,
            cases=self.settings.cases,
            demo_notice=demo_notice,
            poll_seconds=poll_seconds,
        )
        app.include_router(screening_router(self.settings.policy))
        app.include_router(
            appeals_router(self.keyring, self.settings.appeals, self.settings.policy)
        )
        app.include_router(reports_router(self.settings.reports))
        install_portal(
            app,
            keyring=self.keyring,
            settings=self.settings.portal,
            appeals=self.settings.appeals,
            policy=self.settings.policy,
        )
        return app

    def close(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.stop()
        self.database.dispose()


def region_service(folder: Path, settings: Settings | None = None) -> DecisionService:
    """An in-memory decision service over a region folder's accounts, on the policy of
    `settings` (default: the process's); it needs no database."""
    from fundwall.engine.service import DecisionService

    settings = settings if settings is not None else get_settings()
    return DecisionService.from_region(folder, policy=settings.policy)


@contextmanager
def opened(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    operator: str = CLI_OPERATOR,
    passwords: Passwords | None = None,
    check_schema: bool = True,
) -> Iterator[Platform]:
    """The platform over `settings` (default: the process's), disposed of at the end.

    `check_schema` refuses a database that is not at the newest migration, with the command
    that fixes it. A database that fails (down, locked, wrong password) anywhere in the block
    is one `DatabaseUnavailableError` naming it. `passwords` is the hasher (the standard
    cost by default; tests pass a cheap one)."""
    from fundwall.auth.passwords import Passwords
    from fundwall.store.database import checkpoint_apart, open_database, reachable
    from fundwall.store.schema import require_current

    settings = settings if settings is not None else get_settings()
    database = open_database(settings.database_url)
    platform = Platform(
        settings,
        database,
        passwords if passwords is not None else Passwords(),
        clock if clock is not None else SystemClock(),
        Actor.operator(operator),
        checkpoint_apart(database),
    )
    try:
        with reachable(settings.database_url):
            if check_schema:
                require_current(platform.database)
            yield platform
    finally:
        platform.close()
