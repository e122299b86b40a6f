"""`fundwall orders list|expire` and the timer inside `fundwall serve`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from fundwall.bootstrap import Platform
from fundwall.cli import app
from fundwall.cli import orders as order_commands
from fundwall.cli.serve import OrderExpiry
from fundwall.clock import FixedClock
from fundwall.domain.police import OrderKind, OrderStatus
from fundwall.police import get_order, issue_order

from .conftest import OFFICER, Uow, request

runner = CliRunner()


def test_orders_are_listed_and_expired_from_the_command_line(
    stocked: Uow, configured_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_commands.console, "width", 200)
    with stocked() as uow:  # issued in 2024: long over by the command's clock
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT))
    listed = runner.invoke(app, ["orders", "list"])
    assert listed.exit_code == 0, listed.output
    assert stop.item.document_no in listed.output and "issued" in listed.output
    expired = runner.invoke(app, ["orders", "expire"])
    assert expired.exit_code == 0 and f"1 orders expired: [{stop.id}]" in expired.output
    again = runner.invoke(app, ["orders", "expire"])
    assert "0 orders expired" in again.output
    assert "expired" in runner.invoke(app, ["orders", "list", "--status", "expired"]).output
    bad = runner.invoke(app, ["orders", "list", "--status", "lost"])
    assert bad.exit_code == 2


def test_the_servers_timer_expires_orders_and_stops_with_the_server(
    stocked: Uow, platform: Platform, clock: FixedClock
) -> None:
    with stocked() as uow:
        stop = issue_order(uow, OFFICER, request(OrderKind.STOP_PAYMENT))
    timer = OrderExpiry(platform, 3600)
    assert timer.sweep() == []
    clock.advance(timedelta(hours=48))
    timer.start()
    assert timer.sweep() == [stop.id]
    timer.stop()
    assert not timer.is_alive()
    with stocked() as uow:
        assert get_order(uow, OFFICER, stop.id).status is OrderStatus.EXPIRED


def test_a_failing_sweep_does_not_end_the_timer(platform: Platform) -> None:
    platform.database.dispose()
    timer = OrderExpiry(platform, 3600)
    timer.platform = None  # type: ignore[assignment]
    assert timer.sweep() == []
