"""The house rules of the code, as tests (docs/design.md, "Layout" and "A new workflow").

- `domain` imports nothing of ours; each layer imports only the layers below it.
- Entrypoints (`api`, `web`, `cli`) reach the database only through use cases: they import
  no SQLAlchemy, no store tables, no tenancy filters, and never touch a unit of work's session.
- Every public function of a workflow package that takes an `actor` is a use case
  (`@use_case`), except in the workflow's `queries` module (the tenancy-narrowed reads and
  shared writes its use cases are built of, which no entrypoint may import); and every use
  case refuses each actor that lacks its permission before it does anything.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

import fundwall
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.auth.usecase import USE_CASES
from fundwall.domain.errors import PermissionDenied

SRC: Final = Path(fundwall.__file__).parent
WORKFLOWS: Final = (
    "accounts",
    "appeals",
    "auditing",
    "cases",
    "clues",
    "fund_returns",
    "members",
    "models",
    "monitoring",
    "outreach",
    "phones",
    "police",
    "rulepacks",
    "screening",
    "sharing",
    "tracing",
)
"""One package a workflow: its use cases and the queries they read through."""
ENTRYPOINTS: Final = ("api", "web", "cli", "portal")
CORE: Final = ("domain", "region", "engine", "store", "auth", "ingest", "crypto", "config")

MAY_IMPORT: Final[dict[str, frozenset[str]]] = {
    "domain": frozenset(),
    "region": frozenset({"domain"}),
    "ingest": frozenset({"domain", "region", "exports"}),
    "store": frozenset({"domain", "config", "crypto", "clock"}),
    "auth": frozenset({"domain", "config", "crypto", "clock", "store"}),
    "engine": frozenset(
        {"domain", "region", "config", "crypto", "clock", "store", "ingest", "exports"}
    ),
    "sim": frozenset({"domain", "region", "config", "crypto", "clock", "store", "ingest"}),
    "spark": frozenset(
        {"domain", "region", "config", "crypto", "clock", "store", "ingest", "exports", "engine"}
    )
    | frozenset(WORKFLOWS),
}
"""What each lower room may import of ours; workflows and entrypoints sit above them all,
but for `spark`, which sits between the workflows (whose bulk passes it runs on Apache Spark)
and the entrypoints. (`exports`, the lazy package exports, imports nothing of ours.)"""
ENTRYPOINT_FORBIDDEN: Final = (
    "sqlalchemy",
    "fundwall.store.tables",
    "fundwall.store.engine_tables",
    "fundwall.store.auth_tables",
    "fundwall.store.police_tables",
    "fundwall.auth.tenancy",
)
"""Modules that mean talking to the database directly (and each workflow's `queries`)."""
QUERIES: Final = "queries"


@dataclass(frozen=True)
class Import:
    module: str
    target: str
    line: int


def _modules(room: str) -> Iterator[tuple[str, Path]]:
    base = SRC / room
    if base.is_file() or (SRC / f"{room}.py").is_file():
        path = SRC / f"{room}.py"
        yield f"fundwall.{room}", path
        return
    for path in sorted(base.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(("fundwall", *parts)).removesuffix(".__init__")
        yield name, path


def _imports(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text("utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno)


def _room_of(target: str) -> str | None:
    parts = target.split(".")
    return parts[1] if parts[0] == "fundwall" and len(parts) > 1 else None


@pytest.mark.parametrize("room", sorted(MAY_IMPORT))
def test_a_lower_room_imports_only_the_rooms_below_it(room: str) -> None:
    allowed = MAY_IMPORT[room] | {room}
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for module, path in _modules(room)
        for found in _imports(module, path)
        if (other := _room_of(found.target)) is not None and other not in allowed
    ]
    assert not wrong, "\n".join(wrong)


def test_a_workflow_imports_no_entrypoint_and_not_spark() -> None:
    wrong = [
        f"{found.module}:{found.line} imports {found.target}"
        for workflow in WORKFLOWS
        for module, path in _modules(workflow)
        for found in _imports(module, path)
        if _room_of(found.target) in (*ENTRYPOINTS, "spark")
    ]
    assert not wrong, "\n".join(wrong)


def _session_uses(path: Path) -> Iterator[int]:
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "session":
            yield node.lineno


@pytest.mark.parametrize("room", ENTRYPOINTS)
def test_an_entrypoint_reaches_the_database_only_through_use_cases(room: str) -> None:
    wrong: list[str] = []
    for module, path in _modules(room):
        for found in _imports(module, path):
            parts = found.target.split(".")
            if any(
                found.target == banned or found.target.startswith(f"{banned}.")
                for banned in ENTRYPOINT_FORBIDDEN
            ) or (len(parts) > 2 and parts[1] in WORKFLOWS and parts[2] == QUERIES):
                wrong.append(f"{module}:{found.line} imports {found.target}")
        wrong.extend(
            f"{module}:{line} uses a unit of work's session" for line in _session_uses(path)
        )
    assert not wrong, "\n".join(wrong)


def _import_workflows() -> list[Any]:
    loaded = []
    for workflow in WORKFLOWS:
        package = importlib.import_module(f"fundwall.{workflow}")
        loaded.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            loaded.append(importlib.import_module(info.name))
    return loaded


def test_every_public_function_taking_an_actor_in_a_workflow_is_a_use_case() -> None:
    missing = []
    for module in _import_workflows():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if module.__name__.rpartition(".")[2] == QUERIES:
                continue
            if "actor" in inspect.signature(function).parameters:
                qualified = f"{function.__module__}.{function.__qualname__}"
                if qualified not in USE_CASES:
                    missing.append(qualified)
    assert not missing, "not use cases (no @use_case): " + ", ".join(missing)
    assert USE_CASES, "no use cases registered"


def _actors_without(permission: Permission) -> list[Actor]:
    actors = []
    for role, rights in ROLE_PERMISSIONS.items():
        if permission in rights:
            continue
        member = "301" if role.needs_member else None
        kind = ActorKind.API_KEY if role is Role.MEMBER_SYSTEM else ActorKind.USER
        actors.append(Actor(kind, f"no-{permission.value}", role, member))
    return actors


def _resolve(qualified: str) -> Any:
    module_name, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def test_every_use_case_refuses_each_actor_without_its_permission() -> None:
    _import_workflows()
    refused = 0
    for qualified, permission in sorted(USE_CASES.items()):
        function = _resolve(qualified)
        parameters = inspect.signature(function).parameters
        for actor in _actors_without(permission):
            # Nothing but the actor is real: a use case that got past its check would fail on
            # these placeholders with something other than PermissionDenied.
            arguments = {name: actor if name == "actor" else object() for name in parameters}
            with pytest.raises(PermissionDenied, match=permission.value):
                function(**arguments)
            refused += 1
    assert refused >= len(USE_CASES)
