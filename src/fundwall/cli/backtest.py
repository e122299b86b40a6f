"""`fundwall backtest`: a rule pack's decisions on a labelled region against its labels.

A few tables show the main figures; `--json` prints every figure of docs/backtest.md as one
JSON object; `--vs` lists both packs' figures side by side with the difference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Column, Table

from fundwall.cli.bulk import BulkEngine, EngineOption, MasterOption, bulk_features
from fundwall.cli.progress import progress_steps
from fundwall.clock import SystemClock
from fundwall.domain.errors import InvalidInput
from fundwall.domain.money import Money

if TYPE_CHECKING:
    import pyarrow as pa

    from fundwall.engine.backtest import Backtest
    from fundwall.engine.backtest.networks import ScoreFlags
    from fundwall.engine.backtest.run import Replay
    from fundwall.engine.models.artifact import Model
    from fundwall.engine.replay import BulkFeatures
    from fundwall.engine.rules import RulePack


DEFAULT = "default"
NO_RULES = "none"
TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
"""How `--from` and `fundwall train --until` may be written (no zone: UTC, `aware`)."""
NOT_AVAILABLE = "not available"
SHORT_NOT_AVAILABLE = "n/a"
"""What the narrow columns of the one-pack tables show instead; a note below says it."""
_PERCENT = ("rate", "share", "precision", "recall", "prevalence")
DEFAULT_REFRESH_HOURS = 6.0
"""The mule score's refresh in a backtest: production refreshes hourly, but each refresh
recomputes every account's features (about 3 s on the small region); 6 h keeps 9 judged days
at 37 refreshes, and sees a flag at most 6 h after an hourly refresh would."""
MAX_REFRESH_HOURS = 24.0
"""Beyond a day, "flagged within a day" could not be measured at all."""

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _pack(name: str) -> RulePack:
    from fundwall.engine.rules import default_pack, empty_pack, load_pack

    if name == DEFAULT:
        return default_pack()
    return empty_pack() if name == NO_RULES else load_pack(Path(name))


def _yuan(fen: int, signed: bool = False) -> str:
    return ("+" if signed and fen > 0 else "") + str(Money(int(fen)))


def _is_percent(name: str) -> bool:
    return any(name == word or name.startswith(f"{word}_") for word in _PERCENT) or name.endswith(
        "_share"
    )


def format_value(path: str, value: Any, signed: bool = False) -> str:
    """One figure as the table shows it, chosen by the last part of its path."""
    if value is None:
        return NOT_AVAILABLE
    name = path.rsplit(".", 1)[-1]
    plus = "+" if signed else ""
    if name.endswith("_fen"):
        return _yuan(int(value), signed)
    if name == "pr_auc":
        return f"{value:{plus}.4f}"
    if _is_percent(name):
        return f"{value * 100:{plus}.2f}" + (" pp" if signed else "%")
    if name in ("median", "p90"):
        return f"{value:{plus},.1f}"
    return f"{value:{plus},}"


def _label(path: str) -> str:
    words = path.replace("pr_auc", "PR-AUC").replace("_fen", "").split(".")
    return " · ".join(part.replace("_", " ") for part in words)


_CLASSES = (
    ("fraud", "all fraud"),
    ("victim_payment", "victim payments"),
    ("layering", "layering"),
    ("cash_out", "cash-out"),
)
_NETWORK_CLASSES = (
    ("collection", "跑分 collection"),
    ("forwarding", "跑分 forwarding"),
)
"""Shown in the one-pack tables only when the region has 跑分 money (imports have none)."""
_FLAG_SETS = {"detected": "≥ alert", "intercepted": "≥ delay"}
_SKIPPED = frozenset(
    f"{flags}.{role}.{name}"
    for flags in ("detected", "intercepted")
    for role, _ in (*_CLASSES[1:], *_NETWORK_CLASSES)
    for name in ("flagged", "flagged_amount_fen")
)
"""Figures the same for every role as for all fraud; the comparison shows them once."""


def _title(body: Mapping[str, Any]) -> str:
    region = body["region"]
    source = f" ({region['source']})" if region["source"] else ""
    return f"Backtest on {region['name']}{source}"


def _version(body: Mapping[str, Any]) -> str:
    model = body["model_version"]
    version = body["pack_version"] or "?"
    return f"{version} + {model}" if model else version


def _cells(values: Mapping[str, Any], prefix: str, names: tuple[str, ...]) -> list[str]:
    shown = []
    for name in names:
        value = values[f"{prefix}.{name}"]
        shown.append(SHORT_NOT_AVAILABLE if value is None else format_value(name, value))
    return shown


def _flags(body: Mapping[str, Any], values: Mapping[str, Any], flags: str) -> Table:
    table = Table(
        Column("class", no_wrap=True),
        "fraud",
        "hits",
        "precision",
        "recall",
        "prec. ¥",
        "recall ¥",
        title=f"{flags.capitalize()} ({', '.join(body[flags]['actions'])})",
    )
    names = ("positives", "hits", "precision", "recall", "precision_by_amount", "recall_by_amount")
    shown = (*_CLASSES, *(_NETWORK_CLASSES if _has_paofen(body, flags) else ()))
    for key, label in shown:
        table.add_row(label, *_cells(values, f"{flags}.{key}", names))
    return table


def _victim_money(values: Mapping[str, Any]) -> Table:
    table = Table("victim money", "amount", "share of losses", "scams", title="Victim money")
    rows = (
        ("losses", "loss_fen", None, "scams"),
        ("held at the first hop", "first_hop_fen", "first_hop_share", "scams_stopped_first_hop"),
        ("held anywhere in the chain", "chain_fen", "chain_share", "scams_stopped_in_chain"),
    )
    for label, amount, share, scams in rows:
        shares = _cells(values, "victim_money", (share,)) if share else [""]
        table.add_row(
            label,
            *_cells(values, "victim_money", (amount,)),
            *shares,
            f"{values[f'victim_money.{scams}']:,}",
        )
    return table


def render(result: Backtest) -> Group:
    """One pack's figures as a few tables: actions, detection, victim money, accounts and,
    where the region has them, 跑分 networks."""
    from fundwall.engine.backtest import figures

    body = result.to_dict()
    values = figures(body)
    tx = body["transactions"]
    head = (
        f"[bold]{escape(_title(body))}[/], pack {_version(body)}: {tx['total']:,} transactions, "
        f"{tx['decided']:,} decided, {tx['fraud']:,} fraud ({_yuan(tx['fraud_amount_fen'])}); "
        f"score PR-AUC {format_value('pr_auc', body['score']['pr_auc'])} "
        f"(prevalence {format_value('prevalence', body['score']['prevalence'])})"
    )
    actions = Table("action", "count", "rate", "amount", title="Actions")
    for name in body["actions"]:
        actions.add_row(name, *_cells(values, f"actions.{name}", ("count", "rate", "amount_fen")))
    parts: list[Any] = [head, actions, _flags(body, values, "detected")]
    parts += [
        _flags(body, values, "intercepted"),
        _victim_money(values),
        _accounts(body, values),
    ]
    if body["networks"]["planted"]:
        parts.append(_networks(body, values))
    if body["networks"]["mule_score"] is not None:
        parts.append(_scored_networks(body["networks"]["mule_score"]))
    hidden = _hidden(body)
    if any(value is None and not path.startswith(hidden) for path, value in values.items()):
        parts.append(f"{SHORT_NOT_AVAILABLE}: {NOT_AVAILABLE} (nothing of the kind to divide by)")
    return Group(*parts)


def _hidden(body: Mapping[str, Any]) -> tuple[str, ...]:
    """Path prefixes of the figures the tables leave out: the 跑分 ones where the region
    has no networks."""
    hidden = [] if body["networks"]["planted"] else ["networks."]
    for flags in _FLAG_SETS:
        if not _has_paofen(body, flags):
            hidden += [f"{flags}.{key}." for key, _ in _NETWORK_CLASSES]
    return tuple(hidden)


def _has_paofen(body: Mapping[str, Any], flags: str) -> bool:
    return any(body[flags][key]["positives"] for key, _ in _NETWORK_CLASSES)


def _accounts(body: Mapping[str, Any], values: Mapping[str, Any]) -> Table:
    accounts = body["accounts"]
    title = (
        f"Accounts: {accounts['labelled']:,} labelled, {accounts['active']:,} active, "
        f"{accounts['mules']:,} mules; account score PR-AUC "
        f"{format_value('pr_auc', accounts['pr_auc'])} "
        f"(prevalence {format_value('prevalence', accounts['prevalence'])})"
    )
    table = Table(
        Column("actions", no_wrap=True),
        "flagged",
        "mules",
        "prec.",
        "recall",
        "median min",
        "p90 min",
        "before start",
        title=title,
    )
    for flags in ("detected", "intercepted"):
        prefix = f"accounts.{flags}"
        lag = f"{prefix}.minutes_to_flag"
        table.add_row(
            _FLAG_SETS[flags],
            *_cells(values, prefix, ("flagged", "flagged_mules", "precision", "recall")),
            *_cells(values, lag, ("median", "p90", "flagged_before_start")),
        )
    return table


def _networks(body: Mapping[str, Any], values: Mapping[str, Any]) -> Table:
    networks = body["networks"]
    table = Table(
        Column("actions", no_wrap=True),
        "acc.",
        "recall",
        "cov.",
        "cov. share",
        "prec.",
        "day 1 acc.",
        "day 1 recall",
        "day 1 cov.",
        title=(
            f"跑分 networks: {networks['planted']:,} planted, {networks['accounts']:,} accounts "
            "(collection accounts and collectors); recall is the mean share of a network's "
            "accounts flagged, covered means ≥ 90% of them, day 1 counts flags within a day "
            "of the network's first payment"
        ),
    )
    for flags in ("detected", "intercepted"):
        prefix = f"networks.{flags}"
        names = ("accounts_flagged", "recall", "networks_covered", "covered_share")
        table.add_row(
            _FLAG_SETS[flags],
            *_cells(values, prefix, (*names, "precision")),
            *_cells(values, f"{prefix}.within_a_day", names[:3]),
        )
    return table


def _scored_networks(scored: Mapping[str, Any]) -> Table:
    """The networks against the refreshed mule score: one row per flag set, then one per
    planted network."""
    table = Table(
        Column("flags", no_wrap=True),
        "acc.",
        "recall",
        "cov.",
        "prec.",
        "ordinary",
        "day 1 acc.",
        "day 1 recall",
        "detected",
        "matching",
        "largest",
        title=(
            f"跑分 networks by mule score {scored['model_version']}: refreshed every "
            f"{scored['refresh_hours']:g} h from {scored['judged_from']} ({scored['refreshes']} "
            f"refreshes); {scored['judged']} networks judged, {scored['begun']} begun in the "
            "period (day 1: of their accounts active on their first day, those flagged by its "
            "end); detected networks are flagged accounts tied by money, matching when most "
            "of one is one planted network; largest: share of a network in its largest one"
        ),
    )
    for flags in ("detected", "intercepted"):
        found = scored[flags]
        day, groups = found["within_a_day"], found["networks"]
        table.add_row(
            _FLAG_SETS[flags],
            f"{found['accounts_flagged']:,}",
            format_value("recall", found["recall"]),
            f"{found['networks_covered']:,}",
            format_value("precision", found["precision"]),
            f"{found['ordinary_flagged']:,}",
            f"{day['accounts_flagged']:,}",
            format_value("recall", day["recall"]),
            f"{groups['detected']:,}",
            f"{groups['matching']:,} ({groups['planted_found']:,} found)",
            format_value("largest_share", groups["largest_share"]),
        )
    for network in scored["detected"]["per_network"]:
        day = (
            f"{network['first_day_flagged']}/{network['first_day_accounts']}"
            if network["first_day_accounts"]
            else ""
        )
        table.add_row(
            f"  {network['network_id']} (≥ alert)",
            f"{network['flagged']}/{network['judged_accounts']}",
            "",
            "",
            "",
            "",
            day,
            "",
            f"{network['detected_networks']:,}",
            "",
            format_value("largest_share", network["largest_share"]),
        )
    return table


def render_comparison(base: Backtest, other: Backtest) -> Table:
    """Two packs side by side, one row per figure under a row per part, with other − base."""
    from fundwall.engine.backtest import difference, figures

    mine, theirs = base.to_dict(), other.to_dict()
    left, right = figures(mine), figures(theirs)
    table = Table(
        "figure",
        Column("base", no_wrap=True),
        Column("other", no_wrap=True),
        Column("difference", no_wrap=True),
        title=f"{escape(_title(mine))}: base {_version(mine)}, other {_version(theirs)}",
    )
    section = ""
    for path, change in difference(mine, theirs).items():
        if path in _SKIPPED:
            continue
        part, rest = path.split(".", 1)
        if part != section:
            section = part
            table.add_section()
            table.add_row(f"[bold]{_label(part)}[/]", "", "", "")
        table.add_row(
            _label(rest),
            format_value(path, left[path]),
            format_value(path, right.get(path)),
            format_value(path, change, signed=True),
        )
    return table


def run(
    folder: Path,
    rules: str,
    vs: str | None,
    as_json: bool,
    save: bool,
    decide: Replay,
    since: datetime | None = None,
    scores: ScoreFlags | None = None,
) -> None:
    """The command's work, with the replay (and the mule score's flags) passed in."""
    from fundwall.config import get_settings
    from fundwall.engine.backtest import compare
    from fundwall.engine.backtest.run import backtest_region
    from fundwall.engine.backtest.storage import save_backtest

    # Both packs load before the first replay, so a bad second pack fails at once.
    base_pack, other_pack = _pack(rules), None if vs is None else _pack(vs)
    result = backtest_region(folder, base_pack, decide, since=since, scores=scores)
    other = (
        None
        if other_pack is None
        else backtest_region(folder, other_pack, decide, since=since, scores=scores)
    )
    if save:
        settings = get_settings()
        for done in (result, other):
            if done is not None:
                path = save_backtest(done, settings.data_dir, SystemClock())
                err_console.print(f"saved {path}")
    if as_json:
        body = result.to_dict() if other is None else compare(result, other)
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    elif other is None:
        console.print(render(result))
    else:
        console.print(render_comparison(result, other))


def replay_with_progress(
    folder: Path,
    pack: RulePack,
    model: Model | None = None,
    features: BulkFeatures | None = None,
) -> pa.Table:
    """The replay (with `model` scoring beside the pack when given, its features computed by
    `features`, this machine's pass when None), with a progress bar on stderr that is gone
    before anything is printed."""
    from fundwall.engine.replay import LOCAL, replay

    with progress_steps(err_console, f"replaying {folder.name} with {pack.version}") as step:
        return replay(folder, pack, progress=step, model=model, features=features or LOCAL)


def backtest(
    folder: Annotated[Path, typer.Argument(help="A labelled region folder (sim or import).")],
    rules: Annotated[
        str, typer.Option(help=f"Rule pack file, or '{DEFAULT}' for the shipped pack.")
    ] = DEFAULT,
    vs: Annotated[
        str | None, typer.Option(help="A second pack file (or 'default') to put beside it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    save: Annotated[
        bool, typer.Option("--save", help="Keep the result(s) under <data_dir>/backtests.")
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(help="A model folder (fundwall train) scoring beside the pack(s)."),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--from",
            help="Score only the transactions at or after this time (ISO 8601, UTC if no zone; "
            "with --account-model, its training cut by default).",
            formats=TIME_FORMATS,
        ),
    ] = None,
    account_model: Annotated[
        Path | None,
        typer.Option(
            help="An accounts model folder (fundwall train --target accounts): judge the 跑分 "
            "networks against its mule score, refreshed over the judged period."
        ),
    ] = None,
    refresh_hours: Annotated[
        float,
        typer.Option(help="Hours between two refreshes of the mule score (--account-model)."),
    ] = DEFAULT_REFRESH_HOURS,
    engine: EngineOption = BulkEngine.LOCAL,
    master: MasterOption = None,
) -> None:
    """Replay a region through a rule pack (and a model) and score the decisions against its
    labels. `--rules none` leaves the model (and the hard controls) alone."""
    from fundwall.engine.models.artifact import read_model

    scoring = None if model is None else read_model(model)
    start = None if since is None else aware(since)
    scores = None
    if account_model is not None:
        scores = refreshes_with_progress(folder, read_model(account_model), start, refresh_hours)
        start = datetime.fromtimestamp(scores.since_us / 1_000_000, UTC)
    with bulk_features(engine, master) as features:
        run(
            folder,
            rules,
            vs,
            as_json,
            save,
            partial(replay_with_progress, model=scoring, features=features),
            start,
            scores,
        )


def refreshes_with_progress(
    folder: Path, model: Model, since: datetime | None, hours: float
) -> ScoreFlags:
    """The mule score's refreshes over the judged period, with a progress bar on stderr."""
    from fundwall.models.score_backtest import US_PER_HOUR, refreshed_flags

    if not 0 < hours <= MAX_REFRESH_HOURS:
        raise InvalidInput(f"between 0 and {MAX_REFRESH_HOURS} hours", "refresh_hours")
    with progress_steps(err_console, f"refreshing the mule score of {model.version}") as step:
        return refreshed_flags(
            folder,
            model,
            since_us=None if since is None else int(since.timestamp() * 1_000_000),
            every_us=int(hours * US_PER_HOUR),
            progress=step,
        )


def aware(moment: datetime) -> datetime:
    """A time given without a zone is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
