"""`fundwall serve`: the risk engine's HTTP API and the console, on one port.

One process, one uvicorn worker: the engine keeps its online state (features, controls) in
memory and decides one transaction at a time, so more workers would each hold a different
state. uvicorn runs on uvloop with the httptools parser, the fastest pair measured.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fundwall.bootstrap import Platform
    from fundwall.models.scores import ScoreRun
    from fundwall.outreach.model import DispatchCounts
    from fundwall.screening.model import RunView

console = Console(highlight=False, soft_wrap=True)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8000
FULL_ROUND_SECONDS: Final = 60.0
"""How often the outreach timer looks at the whole lookback for warn decisions (`OutboxDispatch`):
a warning committed out of id order waits at most this long for its task."""
SWITCH_INTERVAL_SECONDS: Final = 0.0005
"""How long the event loop may keep the GIL from a thread back from the database (Python's
default: 5 ms). The decision log's writer (`fundwall.engine.committer`) and the audit head's
reader on PostgreSQL each wait for the GIL after every round trip, while the loop, deciding,
rarely lets it go: at 5 ms a group commit over PostgreSQL took 14–16 ms on a busy machine, at
0.5 ms 9–13 ms, for the same CPU per decision."""


def docs_url(host: str, port: int) -> str:
    """Where the API documentation is served, as a browser on this machine reaches it."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/docs"


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` until Ctrl-C or SIGTERM: one uvicorn worker on uvloop with the httptools
    parser, the GIL handed to waiting threads within `SWITCH_INTERVAL_SECONDS`.

    uvicorn shuts down on SIGTERM (what systemd and docker send) and then raises the signal
    again with the handler it found; the default one would end the process before the caller
    saves the engine's state, so the handler found is one that returns as Ctrl-C does."""
    import uvicorn

    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
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


class Periodic(threading.Thread, metaclass=ABCMeta):
    """A timer inside `fundwall serve`: every `interval` seconds it runs `sweep`, until
    stopped. A daemon thread, so a sweep under way never holds up the server's exit."""

    def __init__(self, name: str, platform: Platform, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.platform, self.interval = platform, interval
        self.stopped = threading.Event()
        self.leads: Callable[[], bool] = _always
        """Whether this process runs the timers now: of several replicas, one at a time
        (`DecisionService.runs_timers`), so no SMS goes out twice."""

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            if self.leads():
                self.sweep()

    @abstractmethod
    def sweep(self) -> object:
        """One round of the timer's work."""

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join()


def _always() -> bool:
    return True


class OrderExpiry(Periodic):
    """The police orders' timer: every `interval` seconds it marks the orders whose time has
    run out as expired (`fundwall.police.expire_orders`, as the operator). The engine stops
    enforcing an order at its end by itself; this writes the order's status, history and
    audit record, so both sides see it ended."""

    def __init__(self, platform: Platform, interval: float) -> None:
        super().__init__("order-expiry", platform, interval)

    def sweep(self) -> list[int]:
        """Expire what is due now; the ids. A failure is printed and the next sweep retries:
        the server goes on deciding whatever the timer meets."""
        from fundwall.police import expire_orders

        try:
            with self.platform.unit_of_work() as uow:
                return expire_orders(uow, self.platform.operator)
        except Exception as error:  # noqa: BLE001 - a timer thread must outlive a bad sweep
            console.print(f"[red]order expiry failed, retrying later:[/] {error}")
            return []


class ScoreRefresh(Periodic):
    """The mule scores' timer: every `interval` seconds it looks whether the scores are due
    and refreshes them if so (`fundwall.models.scores.refresh_if_due`, as the operator):
    when transactions, logins, accounts, the known fraud accounts or the accounts champion
    changed since the last refresh, or the last one is `max_age` seconds old. A refresh
    raises cases for the accounts newly flagged."""

    def __init__(self, platform: Platform, interval: float, max_age: float) -> None:
        super().__init__("score-refresh", platform, interval)
        self.max_age = timedelta(seconds=max_age)
        self.failure: str | None = None
        """The last failure printed: the same one is not printed again every check."""

    def sweep(self) -> ScoreRun | None:
        """Refresh if due; what the refresh did, or None when nothing was due or it could not
        (no accounts champion yet, or a failure, printed once): the next check tries again."""
        from fundwall.models.scores import refresh_if_due

        try:
            with self.platform.unit_of_work() as uow:
                run = refresh_if_due(
                    uow, self.platform.operator, self.max_age, self.platform.settings.policy
                )
        except Exception as error:  # noqa: BLE001 - a timer thread must outlive a bad sweep
            if str(error) != self.failure:
                console.print(f"[red]mule score refresh failed, retrying later:[/] {error}")
            self.failure = str(error)
            return None
        self.failure = None
        return run


class ScreeningSchedule(Periodic):
    """The scheduled screening: every `interval` seconds it looks whether a whole-region run
    is due (`fundwall.screening.runs.screen_region_if_due`, as the operator): when the newest
    one is `every_days` old or there is none."""

    def __init__(self, platform: Platform, interval: float, every_days: int) -> None:
        super().__init__("screening", platform, interval)
        self.every = timedelta(days=every_days)

    def sweep(self) -> RunView | None:
        """Screen the region if due; the run, or None when not due or it failed (printed):
        the next check tries again."""
        from fundwall.screening.runs import screen_region_if_due

        try:
            with self.platform.unit_of_work() as uow:
                run = screen_region_if_due(
                    uow, self.platform.operator, self.platform.settings.policy, self.every
                )
        except Exception as error:  # noqa: BLE001 - a timer thread must outlive a bad sweep
            console.print(f"[red]scheduled screening failed, retrying later:[/] {error}")
            return None
        if run is not None:
            console.print(f"screened the region: run {run.id}, {run.items:,} on the work list")
        return run


class OutboxDispatch(Periodic):
    """Outreach's timer: every `interval` seconds it makes the dissuasion tasks of new warn
    decisions (`fundwall.outreach.dissuasion.raise_dissuasion_tasks`, as the operator, the
    last `task_lookback_hours`), then sends one round of the SMS outbox through the
    configured gateway (`fundwall.outreach.dispatch_outbox`): a warning queued by a task
    goes out in the same round; then it asks the gateway for the receipts due
    (`fundwall.outreach.collect_receipts`).

    A round looks only at the decisions logged since the last round that saw them all (the
    warn decisions of a year would otherwise be read again every second); every
    `full_every` seconds it looks at the whole lookback again, for a decision committed
    after a later one (on PostgreSQL ids are taken before commits) or whose account came
    into the store since."""

    def __init__(
        self,
        platform: Platform,
        interval: float,
        *,
        raise_tasks: bool = True,
        full_every: float = FULL_ROUND_SECONDS,
    ) -> None:
        super().__init__("sms-outbox", platform, interval)
        self.failure: str | None = None
        """The last failure printed: the same one is not printed again every second."""
        self.raise_tasks = raise_tasks
        """Whether a round makes the dissuasion tasks first (the demo's rounds only send:
        its own step makes the tasks it tells of)."""
        self.full_every = full_every
        self._after: int | None = None
        """Every decision up to this id was looked at (None: look at the whole lookback)."""
        self._last_full = 0.0
        """When (`time.monotonic`) a round last looked at the whole lookback and saw it all."""

    def sweep(self) -> DispatchCounts | None:
        """Raise the tasks due and send what is due; the round's counts, or None after a
        failure (printed once): the next round tries again."""
        from fundwall.outreach import collect_receipts, dispatch_outbox

        settings = self.platform.settings.outreach
        lookback = timedelta(hours=settings.task_lookback_hours)
        try:
            if self.raise_tasks:
                self._raise_tasks(lookback)
            with self.platform.unit_of_work() as uow:
                counts = dispatch_outbox(
                    uow, self.platform.sms_gateway, limit=settings.dispatch_batch, settings=settings
                )
            with self.platform.unit_of_work() as uow:
                collect_receipts(uow, self.platform.sms_gateway, limit=settings.dispatch_batch)
        except Exception as error:  # noqa: BLE001 - a timer thread must outlive a bad round
            if str(error) != self.failure:
                console.print(f"[red]outreach round failed, retrying:[/] {error}")
            self.failure = str(error)
            return None
        self.failure = None
        return counts

    def _raise_tasks(self, lookback: timedelta) -> None:
        """The tasks of the warn decisions logged since the last complete round (or of the
        whole lookback, when due)."""
        from fundwall.outreach.dissuasion import (
            ROUND_TASKS,
            newest_decision,
            raise_dissuasion_tasks,
        )

        started = time.monotonic()
        full = self._after is None or started - self._last_full >= self.full_every
        with self.platform.unit_of_work() as uow:
            newest = newest_decision(uow, self.platform.operator)
            made = raise_dissuasion_tasks(
                uow,
                self.platform.operator,
                since=uow.clock.now() - lookback,
                after_decision=None if full else self._after,
                settings=self.platform.settings.outreach,
            )
        if len(made) < ROUND_TASKS:  # all seen up to `newest`; else the next round goes on
            self._after = newest
            if full:
                self._last_full = started


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
    # to import (the platform imports them when asked), and every other command would pay.
    from fundwall.engine.collector import collector_paused

    with ExitStack() as stack:
        # No collection while the start imports and builds its modules, routes and state:
        # each would walk all of them so far, a fifth of the start's CPU for almost nothing;
        # the service collects once when its state is built (`settle_gc`).
        with collector_paused():
            from fundwall import bootstrap
            from fundwall.store import display_url

            platform = stack.enter_context(bootstrap.opened())
            service = platform.decision_service(region=region)
            stack.callback(service.close)
            expiry = OrderExpiry(platform, platform.settings.orders.expiry_interval_seconds)
            models = platform.settings.models
            refresh = ScoreRefresh(
                platform, models.score_check_seconds, models.score_refresh_seconds
            )
            screening = platform.settings.screening
            schedule = ScreeningSchedule(
                platform, screening.check_seconds, screening.region_every_days
            )
            outbox = OutboxDispatch(platform, platform.settings.outreach.dispatch_seconds)
            for timer in (expiry, refresh, schedule, outbox):
                stack.callback(timer.stop)
            app = platform.app(service, accounts=region is None)
        source = region if region is not None else display_url(platform.settings.database_url)
        console.print(f"Fundwall deciding over {source}")
        console.print(f"API docs: {docs_url(host, port)}")
        if region is None:  # orders and scores live in the store; a region folder has none
            for timer in (expiry, refresh, schedule, outbox):
                timer.leads = service.runs_timers
            expiry.start()
            refresh.start()
            if screening.region_every_days:
                schedule.start()
            outbox.start()
        run_server(app, host, port)
