"""`fundwall traces start|list|batch` over the store, as the operator: the police tests'
world, where the victim's ¥2,000 paid into B1 (T2) is passed on to A2 and B2."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.cli import traces as trace_commands
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.police import OrderKind
from fundwall.police import OrderFilter, list_orders
from fundwall.store import UnitOfWork
from tracing.conftest import OFFICER, UNIT, VICTIM

runner = CliRunner()
PAYMENT = f"{VICTIM.source},{VICTIM.account_no},{VICTIM.at.isoformat()},2000.00"
BATCH = [
    "--prefix", "厦公止〔2024〕90号", "--officers", "王警官", "--case-no", "A3502032024060001",
    "--basis", "《中华人民共和国反电信网络诈骗法》第三十二条",
]  # fmt: skip


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace_commands.console, "width", 200)


def test_a_trace_is_started_listed_and_its_batch_issued(
    stocked: Callable[[], UnitOfWork], configured_store: str, wide: None
) -> None:
    started = runner.invoke(
        app, ["traces", "start", "--unit", UNIT, "--payment", PAYMENT, "--rule", "proportional"]
    )
    assert started.exit_code == 0, started.output
    found = re.search(r"trace (\d+) of PSB1 \(proportional\)", started.output)
    assert found is not None, started.output
    trace_id = found.group(1)
    for account, held in (("B1", "833.34"), ("A2", "500.00"), ("B2", "428.57")):
        assert re.search(rf"stop {account} at \w+: ¥?{held}", started.output), started.output
    assert "proposed stop-payments: 3 account(s)" in started.output

    listed = runner.invoke(app, ["traces", "list", "--unit", UNIT])
    assert listed.exit_code == 0 and f"│ {trace_id} " in listed.output and UNIT in listed.output
    assert trace_id not in runner.invoke(app, ["traces", "list", "--unit", "PSB9"]).output

    issued = runner.invoke(app, ["traces", "batch", trace_id, *BATCH])
    assert issued.exit_code == 0, issued.output
    assert issued.output.count("stop-payment of") == 3 and "厦公止〔2024〕90号-01" in issued.output
    with stocked() as uow:
        orders = list_orders(uow, OFFICER, OrderFilter(OrderKind.STOP_PAYMENT)).items
    assert sorted(order.account_no for order in orders) == ["A2", "B1", "B2"]
    assert "issued" in runner.invoke(app, ["traces", "list"]).output

    again = runner.invoke(app, ["traces", "batch", trace_id, *BATCH])
    assert isinstance(again.exception, Conflict) and "confirmed already" in str(again.exception)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--unit", "B001", "--payment", PAYMENT], "not a police unit"),
        (["--unit", UNIT, "--payment", "报案-1,B1,2024-03-05"], "line 1"),
        (["--unit", UNIT, "--payment", "报案-1,B1,2099-01-01T00:00,1.00"], "future"),
    ],
)
def test_a_bad_start_is_refused_with_its_reason(
    stocked: Callable[[], UnitOfWork], configured_store: str, arguments: list[str], reason: str
) -> None:
    refused = runner.invoke(app, ["traces", "start", *arguments])
    assert isinstance(refused.exception, InvalidInput), refused.output
    assert reason in str(refused.exception)
