"""The region layout is a package of its own: the engine, ingest and the store read regions
without depending on the simulator that writes them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fundwall

SOURCE = Path(fundwall.__file__).parent


def _imports(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import of fundwall.* in the package's sources."""
    found = []
    for path in sorted((SOURCE / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(str(path.relative_to(SOURCE)), name) for name in names]
    return found


@pytest.mark.parametrize("package", ["engine", "ingest", "region", "store", "domain"])
def test_the_readers_of_regions_do_not_import_the_simulator(package: str) -> None:
    offending = [
        (path, name)
        for path, name in _imports(package)
        if name == "fundwall.sim" or name.startswith("fundwall.sim.")
    ]
    assert offending == []


def test_the_region_package_builds_on_the_domain_alone() -> None:
    ours = {name.split(".")[1] for _, name in _imports("region") if name.startswith("fundwall.")}
    assert ours <= {"domain", "region"}
