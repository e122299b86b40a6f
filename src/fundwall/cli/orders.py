"""`fundwall orders`: the police orders from the server's command line.

`list` shows the orders with their timers; `expire` marks those whose time has run out as
expired (the scheduler inside `fundwall serve` does the same every
`orders.expiry_interval_seconds`; run this from cron where no server runs). Both act as the
operator (`system:cli`), who sees every unit's orders.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundwall.domain.police import OrderKind, OrderStatus

app = typer.Typer(
    name="orders", help="Police orders: list them, expire those whose time ran out.",
    no_args_is_help=True,
)  # fmt: skip
console = Console(highlight=False, soft_wrap=True)


def _left(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m"


@app.command("list")
def list_command(
    status: Annotated[OrderStatus | None, typer.Option(help="Only orders in this status.")] = None,
    kind: Annotated[OrderKind | None, typer.Option(help="Only orders of this kind.")] = None,
    page: Annotated[int, typer.Option(min=1, help="Page of 50, newest first.")] = 1,
) -> None:
    """The orders, newest first, with the time each has left."""
    from fundwall import bootstrap
    from fundwall.police import OrderFilter, list_orders

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        found = list_orders(uow, platform.operator, OrderFilter(kind, status, None, page))
    table = Table("id", "document", "kind", "status", "unit", "bank", "account", "ends", "left")
    for order in found.items:
        table.add_row(
            str(order.id),
            order.document_no,
            order.kind.value,
            order.status.value,
            order.police_unit,
            order.bank_code,
            order.account_no,
            order.ends_at.isoformat(timespec="seconds") if order.ends_at else "",
            _left(order.remaining_seconds),
        )
    console.print(table)
    if found.more:
        console.print(f"more on page {found.number + 1}")


@app.command("expire")
def expire_command() -> None:
    """Mark every order whose time has run out as expired (idempotent)."""
    from fundwall import bootstrap
    from fundwall.police import expire_orders

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        expired = expire_orders(uow, platform.operator)
    console.print(f"{len(expired)} orders expired" + (f": {expired}" if expired else ""))
