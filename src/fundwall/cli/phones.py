"""`fundwall phones`: phone real-name verification (手机实名验证) from the command line.

`recheck` checks every current binding against the configured telecom registry (a periodic
job: numbers are given up and reissued after they were bound); `overview` prints the
region's counts; `shared`, `many` and `recycled` print a member's investigations
(`--member`, acting as the operator for that member), and `publish` puts one of their rows
on the shared risk list (hashed here under the current sharing key). All act as the operator
(`system:cli`) and are audited like the console's and the API's calls.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from fundwall import bootstrap
    from fundwall.auth.actor import Actor


app = typer.Typer(
    name="phones",
    help="Phone real-name checks: re-check bound phones, the investigations.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)
Member = Annotated[str, typer.Option("--member", help="The member whose customers to show.")]


def _for_member(platform: bootstrap.Platform, member: str | None) -> Actor:
    """The operator, or the operator acting for `member` (its customers only)."""
    from fundwall.auth.actor import Actor, ActorKind
    from fundwall.auth.roles import Role

    if member is None:
        return platform.operator
    operator = platform.operator
    return Actor(ActorKind.SYSTEM, operator.name, Role.OPERATOR, member)


@app.command("recheck")
def recheck_command(
    member: Annotated[
        str | None, typer.Option("--member", help="Only this member's bindings.")
    ] = None,
) -> None:
    """Check every current binding (of the region, or of one member) again."""
    from fundwall import bootstrap
    from fundwall.phones.checks import recheck_bound_phones

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        registry = platform.telecom_registry
        actor = _for_member(platform, member)
        counts = recheck_bound_phones(uow, actor, registry, platform.keyring)
    found = ", ".join(f"{count:,} {result}" for result, count in counts.items())
    console.print(f"checked {sum(counts.values()):,} bound phones with {registry.name}: {found}")


@app.command("overview")
def overview_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON value.")] = False,
) -> None:
    """The region's counts: bindings and their checks, shared phones, recycled still bound."""
    from fundwall import bootstrap
    from fundwall.phones.investigations import phone_overview

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        days = platform.settings.phones.recycled_days
        overview = phone_overview(uow, platform.operator, days=days)
    if as_json:
        typer.echo(json.dumps(asdict(overview), indent=2))
        return
    console.print(
        f"{overview.bindings:,} bound phones; newest checks: {overview.checks_by_result}; "
        f"{overview.shared_phones:,} phones bound to several people "
        f"({overview.people_on_shared_phones:,} people); "
        f"{overview.people_with_many_phones:,} people with several phones; "
        f"{overview.recycled_still_bound:,} recycled numbers still bound"
    )


@app.command("shared")
def shared_command(member: Member, min_people: int = 2) -> None:
    """A member's customers' phones bound to several people (others as counts)."""
    from fundwall import bootstrap
    from fundwall.phones.investigations import shared_phones

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        rows = shared_phones(
            uow, _for_member(platform, member), platform.keyring, min_people=min_people
        )
    table = Table("binding", "phone", "customers", "people", "elsewhere", "institutions")
    for row in rows:
        customers = "; ".join(f"{c.party_id} {c.name}" for c in row.customers)
        table.add_row(
            ",".join(map(str, row.binding_ids)),
            row.phone,
            customers,
            str(row.people),
            str(row.other_people),
            str(row.other_members),
        )
    console.print(table)


@app.command("many")
def many_command(member: Member, min_phones: int = 2) -> None:
    """A member's customers with several phones (other members' as counts)."""
    from fundwall import bootstrap
    from fundwall.phones.investigations import many_phones

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        rows = many_phones(
            uow, _for_member(platform, member), platform.keyring, min_phones=min_phones
        )
    table = Table("binding", "customer", "phones", "here", "elsewhere", "institutions")
    for row in rows:
        table.add_row(
            str(row.binding_id),
            f"{row.customer.party_id} {row.customer.name}",
            str(row.phones),
            str(row.own_phones),
            str(row.other_phones),
            str(row.other_members),
        )
    console.print(table)


@app.command("recycled")
def recycled_command(member: Member, days: int | None = None) -> None:
    """A member's customers whose bound number they gave up recently (per the last check)."""
    from fundwall import bootstrap
    from fundwall.phones.investigations import recycled_still_bound

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        within = days if days is not None else platform.settings.phones.recycled_days
        rows = recycled_still_bound(
            uow, _for_member(platform, member), platform.keyring, days=within
        )
    table = Table("binding", "phone", "customer", "given up", "checked", "institutions")
    for row in rows:
        table.add_row(
            str(row.binding_id),
            row.phone,
            f"{row.customer.party_id} {row.customer.name}",
            row.released_at.date().isoformat() if row.released_at else "?",
            row.checked_at.isoformat(timespec="seconds"),
            str(row.other_members),
        )
    console.print(table)


@app.command("publish")
def publish_command(
    finding: Annotated[str, typer.Argument(help="shared_phone, many_phones or recycled_phone.")],
    binding: Annotated[int, typer.Argument(help="The binding id the investigation shows.")],
    member: Member,
    reference: Annotated[
        str | None, typer.Option(help="The member's own reference for the entry.")
    ] = None,
) -> None:
    """Publish one investigation row to the shared risk list, for the member."""
    from fundwall import bootstrap
    from fundwall.domain.errors import InvalidInput
    from fundwall.phones.listing import Finding, publish_finding
    from fundwall.sharing.keys import accepted_sharing_keys

    if finding not in set(Finding):
        raise InvalidInput(f"one of {', '.join(Finding)}", "finding")
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        actor = _for_member(platform, member)
        keys = accepted_sharing_keys(uow, actor, platform.settings.keys_dir)
        published = publish_finding(
            uow, actor, Finding(finding), binding, platform.keyring,
            keys, reference=reference,
        )  # fmt: skip
    console.print(f"published entry {published.ids[0]} for {member} (key v{keys.current})")
