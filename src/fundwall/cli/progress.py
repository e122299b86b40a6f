"""A progress bar for the long commands: on stderr, gone before anything is printed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Step = Callable[[int, int], None]
"""Told (done, total) as the work goes on."""


@contextmanager
def progress_steps(console: Console, description: str, *, disable: bool = False) -> Iterator[Step]:
    """A bar headed `description` on `console` (stderr), and the step that moves it."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=disable,
    ) as bar:
        task = bar.add_task(description, total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step
