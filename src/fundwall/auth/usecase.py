"""`@use_case(permission)`: the one way a workflow's function becomes a use case.

Every use case takes the `actor` as an argument. The decorator refuses an actor without the
permission before the function's body runs, so no entrypoint (route, page, CLI command) can
call a use case around its check: there is no check left to the caller. Checks of *whose*
rows (tenancy) stay in the body, where the rows are read. Each decorated function is
registered in `USE_CASES`; the test suite calls every one of them with actors lacking the
permission and proves each refuses (tests/test_architecture.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Final, ParamSpec, TypeVar

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission

P = ParamSpec("P")
R = TypeVar("R")

ACTOR_PARAMETER: Final = "actor"
USE_CASES: Final[dict[str, Permission]] = {}
"""Every use case by its qualified name (`fundwall.cases.alerts.take_alert`), with the
permission it requires."""


def use_case(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make `function` a use case requiring `permission` of its `actor` argument."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        names = list(inspect.signature(function).parameters)
        if ACTOR_PARAMETER not in names:
            raise TypeError(f"use case {function.__qualname__} takes no `actor`")
        position = names.index(ACTOR_PARAMETER)

        @functools.wraps(function)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = args[position] if position < len(args) else kwargs[ACTOR_PARAMETER]
            if not isinstance(actor, Actor):
                raise TypeError(f"{function.__qualname__}: `actor` is not an Actor")
            actor.require(permission)
            return function(*args, **kwargs)

        checked.permission = permission  # type: ignore[attr-defined]
        USE_CASES[f"{function.__module__}.{function.__qualname__}"] = permission
        return checked

    return decorate
