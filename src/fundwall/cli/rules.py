"""`fundwall rules`: check rule pack files, list their rules, compare two packs.

Where a command takes a pack, it takes a file, `default` (the shipped pack) or a version
registered in the store (`2025.2:3f1c…`), read through the `pack_of` use case as the
operator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from fundwall.engine.rules.pack import RulePack
    from fundwall.engine.rules.templates import Language


DEFAULT = "default"
"""Where a command takes a pack file, this word names the pack Fundwall ships."""

app = typer.Typer(
    name="rules",
    help="Rule packs: check files, list their rules, compare two versions.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

PackArg = Annotated[
    str,
    typer.Argument(
        help=f"A rule pack file, '{DEFAULT}' for the shipped pack, or a registered version."
    ),
]


def named_pack(name: str) -> RulePack:
    """A pack file, `default`, or a version registered in the store (a name with ':' that is
    not a file)."""
    from fundwall import bootstrap
    from fundwall.engine.rules.loader import default_pack, load_pack

    if name == DEFAULT:
        return default_pack()
    if ":" not in name or Path(name).is_file():
        return load_pack(Path(name))
    from fundwall.rulepacks.library import PackLibrary
    from fundwall.rulepacks.views import pack_of

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        return pack_of(uow, platform.operator, PackLibrary(None), name)


def _summary(pack: RulePack) -> str:
    return (
        f"pack {pack.id} version {pack.version}: {len(pack.active)} enabled rules "
        f"of {len(pack.rules)}, reading {len(pack.feature_names)} features"
    )


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Rule pack files to validate.")],
) -> None:
    """Validate pack files; list every problem with its file and line, exit 2 if any."""
    from fundwall.engine.rules.errors import RulePackError
    from fundwall.engine.rules.loader import load_pack

    failed = 0
    for path in files:
        try:
            pack = load_pack(path)
        except RulePackError as error:
            failed += 1
            for problem in error.problems:
                err_console.print(f"[bold red]error:[/] {problem}")
            continue
        console.print(f"ok  {path}: {_summary(pack)}")
    if failed:
        raise typer.Exit(2)


@app.command()
def show(
    pack: PackArg = DEFAULT,
    lang: Annotated[str, typer.Option(help="Language of names: zh or en.")] = "zh",
) -> None:
    """List a pack's policy and rules."""
    language = _language(lang)
    loaded = named_pack(pack)
    console.print(_summary(loaded))
    thresholds = ", ".join(f"{a.value} ≥ {s}" for a, s in loaded.policy.thresholds.items())
    console.print(f"policy: {thresholds}")
    table = Table("id", "name", "typology", "score", "forces", "enabled")
    for rule in loaded.rules:
        table.add_row(
            rule.id,
            rule.name[language],
            rule.typology,
            str(rule.score),
            rule.action.value if rule.action else "",
            "yes" if rule.enabled else "no",
        )
    console.print(table)


@app.command()
def diff(before: PackArg, after: PackArg) -> None:
    """Show rules added, removed and changed (field by field) from BEFORE to AFTER."""
    from fundwall.engine.rules.diff import diff_packs

    change = diff_packs(named_pack(before), named_pack(after))
    console.print(f"{change.before_version} → {change.after_version}")
    if change.empty:
        console.print("no differences in rules or policy")
        return
    for field in change.pack:
        console.print(f"~ pack {field.field}: {field.before or '—'} → {field.after or '—'}")
    for rule in change.added:
        console.print(f"+ {rule.id} {rule.name.zh} / {rule.name.en}: {rule.when_text}")
    for rule in change.removed:
        console.print(f"- {rule.id} {rule.name.zh} / {rule.name.en}")
    for changed in change.changed:
        for field in changed.changes:
            console.print(
                f"~ {changed.rule_id} {field.field}: {field.before or '—'} → {field.after or '—'}"
            )


def _language(text: str) -> Language:
    from fundwall.engine.rules.templates import LANGUAGES

    for language in LANGUAGES:
        if text == language:
            return language
    raise typer.BadParameter(f"'{text}' is not a language; use zh or en", param_hint="--lang")
