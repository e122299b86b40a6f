"""The garbage collector around the engine's bulk work: paused while many objects are built,
so no collection walks them only to find them alive."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collections while millions of acyclic containers are built or walked: each one
    would scan everything allocated so far, for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
