"""`fundwall traces`: the police's funds-chain traces over the store, from the server's
command line.

    fundwall traces start --unit PSB001 --payment "报案-17,6222…,2024-03-05T13:00,50000.00"
    fundwall traces list --unit PSB001
    fundwall traces batch 7 --prefix "厦公止〔2024〕88号" --officers 王警官 \\
        --case-no A3502002024030001 --basis "《反电信网络诈骗法》第三十二条"

The commands act as the operator (`system:cli`), who names the police unit a trace is made
for and sees every unit's traces. `batch` issues a trace's proposed stop-payments as one
batch of orders, as the console's button does. A payment is written as a line of the
console's trace form: label, account paid, time (Beijing time unless it carries an offset),
amount in yuan. `fundwall trace REGION` traces a region folder instead, without the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundwall.tracing.model import DEFAULT_RULE, AttributionRule

if TYPE_CHECKING:
    from fundwall.tracing.views import TraceView


app = typer.Typer(
    name="traces",
    help="Funds-chain traces over the store: start one, list them, stop a chain in one batch.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)


@app.command("start")
def start_command(
    unit: Annotated[str, typer.Option(help="The police unit the trace is made for.")],
    payment: Annotated[
        list[str],
        typer.Option(help='A victim\'s payment "LABEL,ACCOUNT,TIME,AMOUNT" (repeatable).'),
    ],
    rule: Annotated[
        AttributionRule, typer.Option(help="How money leaving an account is attributed.")
    ] = DEFAULT_RULE,
) -> None:
    """Trace victims' payments forward as of now and store the trace; print it."""
    from fundwall import bootstrap
    from fundwall.tracing.traces import start_trace
    from fundwall.web.pages.traces import trace_starts  # the console form's line grammar

    starts = trace_starts("\n".join(payment))
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        view = start_trace(uow, platform.operator, starts, rule, police_unit=unit)
    _show(view)


@app.command("list")
def list_command(
    unit: Annotated[str | None, typer.Option(help="Only this police unit's traces.")] = None,
    page: Annotated[int, typer.Option(min=1, help="Page of 50, newest first.")] = 1,
) -> None:
    """The traces, newest first."""
    from fundwall import bootstrap
    from fundwall.engine.rules import format_money
    from fundwall.tracing.traces import list_traces

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        found = list_traces(uow, platform.operator, page, police_unit=unit)
    table = Table("id", "unit", "rule", "created", "starts", "accounts", "still held", "batch")
    for item in found.items:
        table.add_row(
            str(item.id),
            item.police_unit,
            item.rule,
            item.created_at.isoformat(timespec="seconds"),
            str(item.starts),
            str(item.accounts),
            format_money(item.held_fen),
            "issued" if item.confirmed else "",
        )
    console.print(table)
    if found.more:
        console.print(f"more on page {found.number + 1}")


@app.command("batch")
def batch_command(
    trace_id: Annotated[int, typer.Argument(help="The trace's id.", min=1)],
    prefix: Annotated[str, typer.Option(help="Document number; each order adds -01, -02 …")],
    officers: Annotated[str, typer.Option(help="The officers handling the case.")],
    case_no: Annotated[str, typer.Option(help="The police case number.")],
    basis: Annotated[str, typer.Option(help="The legal basis of the orders.")],
    major_case: Annotated[bool, typer.Option(help="A major case (longer terms).")] = False,
) -> None:
    """Issue every stop-payment the trace proposes as one batch of orders, each routed to
    its bank and in force at once; print the orders."""
    from fundwall import bootstrap
    from fundwall.engine.rules import format_money
    from fundwall.tracing.traces import confirm_batch
    from fundwall.tracing.views import BatchRequest

    request = BatchRequest(prefix, officers, case_no, basis, major_case)
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        view = confirm_batch(uow, platform.operator, trace_id, request, settings=platform.settings)
    assert view.batch is not None  # just confirmed
    for order in view.batch.orders:
        console.print(
            f"order {order.order_id} {order.document_no}: stop-payment of "
            f"{format_money(order.amount_fen)} on {order.account_no} at {order.bank or '?'}"
        )
    for skipped in view.batch.skipped:
        console.print(f"skipped {skipped.account_no}: {skipped.standing.value} already")


def _show(view: TraceView) -> None:
    from fundwall.engine.rules import format_money

    result = view.result
    console.print(f"trace {view.id} of {view.police_unit} ({result.rule.value})")
    table = Table("hop", "account", "bank", "reached", "received", "still held", "standing")
    for account in result.accounts:
        table.add_row(
            str(account.hop),
            account.account_no,
            account.bank or "",
            account.reached_at.isoformat(timespec="seconds"),
            format_money(account.attributed_fen),
            format_money(account.held_fen),
            view.standing[account.account_no].value,
        )
    console.print(table)
    held = sum(stop.amount_fen for stop in view.stops)
    console.print(
        f"proposed stop-payments: {len(view.stops)} account(s) holding {format_money(held)}"
        + (f"; issue them: fundwall traces batch {view.id} --prefix …" if view.stops else "")
    )
    for stop in view.stops:
        amount = format_money(stop.amount_fen)
        console.print(f"  stop {stop.account_no} at {stop.bank or '?'}: {amount}")
