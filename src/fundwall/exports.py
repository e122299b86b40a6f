"""Exports of a package imported on first use (PEP 562 module `__getattr__`).

Importing any module of a package runs the package's `__init__` first. When that `__init__`
imports its heavy modules (numba kernels, Arrow readers) to export their names, importing
one light module of the package (a catalogue, an enum) pays for all of them, and so does
every command that only reads a table. A package whose `__init__` uses `lazy_exports`
imports each exported name's module when the name is first read instead; `from package
import Name` works as before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(package: str, where: Mapping[str, Sequence[str]]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`, which exports the names `where` lists under the
    name of their module (relative to the package)."""
    modules = {name: f"{package}.{module}" for module, names in where.items() for name in names}

    def attribute(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # a plain attribute from now on
        return value

    return attribute
