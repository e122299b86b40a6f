"""`fundwall share`: the risk-information sharing hub from the command line.

    fundwall share hash customers.csv --kind id --key-file share-v1.key --out hashed.csv
    fundwall share publish entries.csv --member B001
    fundwall share query --kind account --key 6222021234567890128 --bank B002
    fundwall share match hashed.csv --out hits.csv
    fundwall share feed --after 120
    fundwall share retract 42 --reason "reported in error"
    fundwall share key rotate | key export --version 2 --out share-v2.key | key retire 1 …
    fundwall share suspend B001 --reason "…" | resume B001 --reason "…" | counts | rekey …

`hash` is the member's tool: it reads the member's raw identifiers and an exported key file
and needs no database, so the raw values stay with the member. The other commands run on the
hub's server as its operator (`system:cli`), who names the member a publication is for and
sees every entry's reporter.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundwall.domain.risk_lists import ListKind
from fundwall.sharing.model import FEED_PAGE

if TYPE_CHECKING:
    from fundwall.sharing.model import EntryView


app = typer.Typer(
    name="share",
    help="The risk-information sharing hub: hash, publish, query, match, follow, keys.",
    no_args_is_help=True,
)
key_app = typer.Typer(name="key", help="The regional sharing keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

Format = Annotated[str | None, typer.Option(help="csv or parquet (default: from the suffix).")]
Reason = Annotated[str, typer.Option(help="Why (kept with the change and audited).")]


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path`, readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


@app.command("hash")
def hash_command(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet: value, optional ref.")],
    kind: Annotated[str, typer.Option(help="id, phone or credit_code.")],
    key_file: Annotated[Path, typer.Option(help="The sharing key file the hub exported.")],
    out: Annotated[Path, typer.Option(help="The file of shared hashes to write.")],
    file_format: Format = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Report bad rows and hash the others.")
    ] = False,
) -> None:
    """Check and hash raw identifiers with the regional key, on the member's side."""
    from fundwall.crypto import SharingKeys
    from fundwall.sharing.files import format_of, write_table
    from fundwall.sharing.hashing import hash_identifiers, read_raw

    keys = SharingKeys.read_export(key_file)
    raw = read_raw(source, format_of(source, file_format))
    hashed = hash_identifiers(raw, kind, keys, skip_bad=skip_bad)
    for bad in hashed.bad:
        err_console.print(f"bad row skipped: {bad}")
    _write_private(out, write_table(hashed.table, format_of(out)))
    console.print(f"{hashed.table.num_rows:,} hashed with key v{keys.current} → {out}")


@app.command("publish")
def publish_command(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet of entries.")],
    member: Annotated[str, typer.Option(help="The member the entries are published for.")],
    file_format: Format = None,
) -> None:
    """Publish a file of entries for a member, all or nothing."""
    from fundwall import bootstrap
    from fundwall.sharing.files import ENTRY_COLUMNS, ENTRY_REQUIRED, format_of, read_file
    from fundwall.sharing.model import PUBLISH_MAX_ROWS
    from fundwall.sharing.risk_list import entries_of, publish_entries

    file = read_file(
        source,
        format_of(source, file_format),
        ENTRY_COLUMNS,
        ENTRY_REQUIRED,
        max_rows=PUBLISH_MAX_ROWS,
    )
    entries = entries_of(file.table.to_pylist(), file.locate)
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        published = publish_entries(
            uow, platform.operator, entries, member=member, locate=file.locate
        )
    console.print(
        f"published {published.entries:,} entries for {member} "
        f"(ids {published.ids[0]}–{published.ids[-1]}; {published.replaced} re-keyed)"
    )


@app.command("query")
def query_command(
    kind: Annotated[ListKind, typer.Option(help="What the key names.")],
    key: Annotated[str, typer.Option(help="The identifier (a shared hash for IDs and phones).")],
    bank: Annotated[str | None, typer.Option(help="An account's bank.")] = None,
) -> None:
    """The entries in force on one identifier."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import query_identifier

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        found = query_identifier(uow, platform.operator, kind, key, bank=bank)
    _show(found)


@app.command("match")
def match_command(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet: kind, key, bank, ref.")],
    out: Annotated[Path, typer.Option(help="The file of hits to write.")],
    file_format: Format = None,
) -> None:
    """Bulk-match a file of identifiers; write the hits."""
    from fundwall import bootstrap
    from fundwall.sharing.files import (
        IDENTIFIER_COLUMNS,
        IDENTIFIER_REQUIRED,
        format_of,
        read_file,
        write_table,
    )
    from fundwall.sharing.index import RiskIndex
    from fundwall.sharing.matching import match_identifiers
    from fundwall.sharing.model import MATCH_MAX_ROWS

    file = read_file(
        source,
        format_of(source, file_format),
        IDENTIFIER_COLUMNS,
        IDENTIFIER_REQUIRED,
        max_rows=MATCH_MAX_ROWS,
    )
    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        result = match_identifiers(uow, platform.operator, RiskIndex(), file)
    _write_private(out, write_table(result.hits, format_of(out)))
    console.print(f"{result.identifiers:,} identifiers, {result.hits.num_rows:,} hits → {out}")


@app.command("feed")
def feed_command(
    after: Annotated[int, typer.Option(min=0, help="The cursor to read after.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=FEED_PAGE)] = 100,
) -> None:
    """The list's changes after a cursor."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import risk_feed

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        feed = risk_feed(uow, platform.operator, after, limit)
    table = Table("cursor", "event", "at", "entry", "kind", "key", "category", "member")
    for event in feed.events:
        entry = event.entry
        table.add_row(str(event.cursor), event.event.value, event.at.isoformat(timespec="seconds"),
                      str(entry.id), entry.kind.value, entry.key, entry.category.value,
                      entry.reporting_member or "")  # fmt: skip
    console.print(table)
    console.print(f"next: --after {feed.cursor}" + (" (more waiting)" if feed.more else ""))


@app.command("retract")
def retract_command(
    entry: Annotated[int, typer.Argument(help="The entry's id.")], reason: Reason
) -> None:
    """Retract an entry (as the hub)."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import retract_risk

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        retract_risk(uow, platform.operator, entry, reason)
    console.print(f"entry {entry} retracted")


@app.command("suspend")
def suspend_command(member: Annotated[str, typer.Argument()], reason: Reason) -> None:
    """Suspend a member's publishing."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import suspend_publishing

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        suspend_publishing(uow, platform.operator, member, reason)
    console.print(f"{member}'s publishing suspended")


@app.command("resume")
def resume_command(member: Annotated[str, typer.Argument()], reason: Reason) -> None:
    """Lift a member's publishing suspension."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import resume_publishing

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        resume_publishing(uow, platform.operator, member, reason)
    console.print(f"{member}'s publishing resumed")


@app.command("counts")
def counts_command() -> None:
    """Entries shared by month, member and category."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import risk_list_counts

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        counts = risk_list_counts(uow, platform.operator)
    table = Table("month", "member", "category", "shared", "in force")
    for count in counts:
        table.add_row(count.month, count.member, count.category.value, f"{count.entries:,}",
                      f"{count.active:,}")  # fmt: skip
    console.print(table)
    console.print(f"{sum(c.entries for c in counts):,} entries shared")


@app.command("rekey")
def rekey_command(member: Annotated[str, typer.Option(help="The reporting member.")]) -> None:
    """A member's entries under an older key version, to re-publish with `replaces`."""
    from fundwall import bootstrap
    from fundwall.sharing.risk_list import entries_to_rekey

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        _show(entries_to_rekey(uow, platform.operator, member))


@key_app.command("rotate")
def rotate_command() -> None:
    """Make the next sharing key version; new hashes use it from now on."""
    from fundwall import bootstrap
    from fundwall.sharing.keys import rotate_sharing_key

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        version = rotate_sharing_key(uow, platform.operator, platform.settings.keys_dir)
    console.print(f"sharing key v{version} made; export it to the members")


@key_app.command("export")
def export_command(
    version: Annotated[int, typer.Option(min=1, help="The version to export.")],
    out: Annotated[Path, typer.Option(help="The key file to write (0600).")],
) -> None:
    """Write a version's key file for the members."""
    from fundwall import bootstrap
    from fundwall.sharing.keys import export_sharing_key

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        text = export_sharing_key(uow, platform.operator, platform.settings.keys_dir, version)
    _write_private(out, text.encode("ascii"))
    console.print(f"sharing key v{version} → {out}")


@key_app.command("retire")
def retire_command(version: Annotated[int, typer.Argument()], reason: Reason) -> None:
    """Stop accepting a version; its entries still in force are retracted."""
    from fundwall import bootstrap
    from fundwall.sharing.keys import retire_sharing_key

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        retracted = retire_sharing_key(uow, platform.operator, version, reason)
    console.print(f"sharing key v{version} retired; {retracted:,} entries retracted")


@key_app.command("list")
def list_command() -> None:
    """The versions, newest first."""
    from fundwall import bootstrap
    from fundwall.sharing.keys import sharing_key_versions

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        versions = sharing_key_versions(uow, platform.operator)
    table = Table("version", "made", "state", "entries in force")
    for v in versions:
        state = "current" if v.current else "retired" if v.retired_at else "accepted"
        table.add_row(f"v{v.version}", v.created_at.isoformat(timespec="seconds"), state,
                      f"{v.entries:,}")  # fmt: skip
    console.print(table)


def _show(entries: list[EntryView]) -> None:
    table = Table("id", "kind", "key", "bank", "category", "evidence", "until", "member", "ref")
    for e in entries:
        until = e.valid_until.isoformat(timespec="seconds") if e.valid_until else ""
        member, reference = e.reporting_member or "", e.reference or ""
        table.add_row(str(e.id), e.kind.value, e.key, e.bank or "", e.category.value,
                      e.evidence.value, until, member, reference)  # fmt: skip
    console.print(table)
    console.print(f"{len(entries)} entries")
