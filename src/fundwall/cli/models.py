"""`fundwall models`: the model registry (模型库) from the command line — list the models,
register a model folder, move a model between states, show a model's card in words.

Every command calls the use cases of `fundwall.models.registry` as the operator who holds
the database (`system:cli` in the audit log), as `fundwall packs` does for rule packs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from fundwall.engine.languages import Language
from fundwall.engine.models.kinds import ModelState, Target

if TYPE_CHECKING:
    from fundwall.engine.models.artifact import ModelCard
    from fundwall.models.registry import ModelEvent, ModelRecord


BEIJING: Final = timezone(timedelta(hours=8))

app = typer.Typer(
    name="models",
    help="The model registry: list models, register a model folder, promote, show a card.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON value.")]


def _local(moment: datetime | None) -> str:
    """Beijing time, as everything is shown."""
    return "—" if moment is None else f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M}"


def _figure(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _line(record: ModelRecord) -> str:
    pr_auc = record.holdout_pr_auc
    changed = ""
    if record.changed_at is not None:
        changed = f", changed {_local(record.changed_at)} by {record.changed_by}"
    return (
        f"{record.version}  {record.state.value:<10}  {record.target.value:<12}  "
        f"{record.rows:,} rows, {record.positives:,} positive, held-out PR-AUC "
        f"{_figure(pr_auc) if pr_auc is not None else '—'}  trained {record.trained_at}  "
        f"registered {_local(record.registered_at)} by {record.registered_by}{changed}"
    )


@app.command("list")
def list_command(
    target: Annotated[Target | None, typer.Option(help="Only the models of this target.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every registered model: by target, the champion first, with its state and figures."""
    from fundwall import bootstrap
    from fundwall.models.registry import list_models

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        records = list_models(uow, platform.operator, target)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        console.print("no models registered yet")
    for record in records:
        console.print(_line(record))


@app.command("register")
def register_command(
    model_dir: Annotated[Path, typer.Argument(help="A model folder (model.txt, card.json).")],
) -> None:
    """Check MODEL_DIR and register its model (registering it again changes nothing)."""
    from fundwall import bootstrap
    from fundwall.models.registry import register_model

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        record = register_model(uow, platform.operator, model_dir)
    console.print(
        f"registered {record.version} ({record.target.value}, "
        f"{len(record.features)} features), state {record.state.value}"
    )


@app.command("promote")
def promote_command(
    version: Annotated[str, typer.Argument(help="A registered model version.")],
    state: Annotated[
        ModelState, typer.Option(help="The state to move the model to.")
    ] = ModelState.CHAMPION,
    reason: Annotated[str, typer.Option(help="Why, kept with the change.")] = "",
) -> None:
    """Move VERSION to a state (champion by default: the previous champion is retired)."""
    from fundwall import bootstrap
    from fundwall.models.registry import set_state

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        record = set_state(uow, platform.operator, version, state, reason)
    console.print(f"{record.version} is {record.state.value}")


@app.command("show")
def show_command(
    version: Annotated[str, typer.Argument(help="A registered model version.")],
    lang: Annotated[Language, typer.Option(help="Language of the words.")] = "zh",
    as_json: JsonOption = False,
) -> None:
    """A model's card in words: purpose, limits, features, figures, state and history."""
    from fundwall import bootstrap
    from fundwall.models.registry import get_model, model_history

    with bootstrap.opened() as platform, platform.unit_of_work() as uow:
        record, model = get_model(uow, platform.operator, version)
        history = model_history(uow, platform.operator, version)
    if as_json:
        shown = {
            **record.to_dict(),
            "card": model.card.to_dict(),
            "history": [_event_dict(event) for event in history],
        }
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for line in _card_lines(record, model.card, lang):
        console.print(line)
    console.print("history:")
    for event in history:
        step = (
            event.state.value
            if event.previous is None
            else (f"{event.previous.value} → {event.state.value}")
        )
        why = f": {event.reason}" if event.reason else ""
        console.print(f"  {_local(event.at)}  {step} by {event.by}{why}")


def _card_lines(record: ModelRecord, card: ModelCard, language: Language) -> list[str]:
    from fundwall.models.views import feature_words

    words = card.purpose.get(language) or next(iter(card.purpose.values()), "—")
    until = f", data until {card.until}" if card.until else ""
    lines = [
        f"model {record.version}: {record.target.value}, {record.state.value}",
        f"purpose: {words}",
        f"trained {card.trained_at} on {card.region}{until}: {card.rows:,} rows, "
        f"{card.positives:,} positive (data fingerprint {card.fingerprint})",
        "thresholds: "
        + (
            ", ".join(f"{a.value} ≥ {_figure(p)}" for a, p in card.policy.thresholds.items())
            or "none"
        ),
        f"features ({len(card.features)}):",
    ]
    lines += [f"  {f.name}  {f.words(language) or ''}".rstrip() for f in feature_words(card)]
    for part, figures in card.metrics.items():
        shown = ", ".join(f"{name} {_figure(value)}" for name, value in figures.items())
        lines.append(f"{part}: {shown or '—'}")
    limits = card.limits.get(language) or next(iter(card.limits.values()), ())
    lines.append("limits:" if limits else "limits: none stated")
    lines += [f"  - {limit}" for limit in limits]
    return lines


def _event_dict(event: ModelEvent) -> dict[str, object]:
    return {
        "state": event.state.value,
        "previous": event.previous.value if event.previous else None,
        "reason": event.reason,
        "at": event.at.isoformat(),
        "by": event.by,
    }
