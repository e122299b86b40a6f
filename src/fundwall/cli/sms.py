"""`fundwall sms`: the SMS outbox from the server's command line.

`received PHONE` prints what the local gateway (the embedded default, `outreach.gateway =
"local"`) delivered to a phone: the handset of a laptop deployment, where whoever tries the
portal reads the one-time code the demo's or their own sign-in sent. It acts as the operator
(`system:cli`), and each reading is audited (the phone masked). A real provider's messages
are on the phones they went to, not here.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="sms", help="The SMS outbox: what the local gateway's handset received.",
    no_args_is_help=True,
)  # fmt: skip
console = Console(highlight=False, soft_wrap=True)


@app.command("received")
def received(
    phone: Annotated[str, typer.Argument(help="A mainland mobile number.")],
    last: Annotated[int, typer.Option(min=1, max=100, help="How many of the latest.")] = 5,
) -> None:
    """The latest messages the local gateway delivered to PHONE, oldest first."""
    from fundwall import bootstrap
    from fundwall.domain.errors import InvalidInput
    from fundwall.domain.identity import MobilePhone
    from fundwall.outreach.outbox import delivered_to
    from fundwall.reports.period import BEIJING

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        try:
            got = delivered_to(uow, phone)
        except InvalidInput as refused:
            console.print(f"[red]{refused.message()}[/]")
            raise typer.Exit(2) from None
        masked = str(MobilePhone.parse(phone, field="phone"))
        uow.audit.record(
            platform.operator, "read_local_handset", f"phone:{masked}", {"messages": len(got)}
        )
        uow.commit()
    if not got:
        console.print(f"{masked} received nothing through the local gateway")
    for sms in got[-last:]:
        console.print(f"{sms.delivered_at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}  {sms.text}")
