"""`fundwall demo`: the main job on the embedded default, from nothing to a working region.

Each step is idempotent, so running the demo again reuses what the last run left in the data
directory: the schema is upgraded, the simulated region is made once per size and seed, and
loading it twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fundwall.cli.sim import load, sim
from fundwall.config import get_settings
from fundwall.sim.params import SIZES
from fundwall.store import display_url, migrate

# The simulator moves a region into place only when complete, so its manifest marks one.
MANIFEST = "manifest.json"

console = Console(highlight=False, soft_wrap=True)


def region_folder(data_dir: Path, size: str, seed: int) -> Path:
    """Where the demo keeps the simulated region of this size and seed."""
    return data_dir / "demo" / f"region-{size}-seed{seed}"


def demo(
    size: Annotated[str, typer.Option(help=f"Region size, one of {', '.join(SIZES)}.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the simulated region.")] = 7,
) -> None:
    """Set up the embedded default and run the demo: simulate a region and load it."""
    settings = get_settings()
    console.print(f"[bold]Fundwall demo[/] — data in {settings.data_dir}")

    console.print(f"1. database: {migrate.upgrade(settings.database_url).summary()}")

    folder = region_folder(settings.data_dir, size, seed)
    if (folder / MANIFEST).is_file():
        console.print(f"2. region: reusing {folder}")
    else:
        console.print(f"2. region: simulating {size} (seed {seed}) into {folder}")
        sim(out=folder, size=size, seed=seed)

    console.print(f"3. store: loading the region into {display_url(settings.database_url)}")
    load(folder)


def register(app: typer.Typer) -> None:
    """Add `fundwall demo` to the application."""
    app.command("demo")(demo)
