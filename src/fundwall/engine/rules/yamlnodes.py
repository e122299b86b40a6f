"""Reading composed YAML nodes with line-numbered problems instead of exceptions.

Each reader method returns the value, or None after recording a Problem that names the
node's line; callers go on reading so that one pass reports every mistake in a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from difflib import get_close_matches
from typing import TypeVar

import yaml
from yaml.constructor import SafeConstructor

from fundwall.domain.errors import InvalidInput
from fundwall.engine.rules.errors import Problem

T = TypeVar("T")

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
BOOL = "tag:yaml.org,2002:bool"
MERGE = "tag:yaml.org,2002:merge"


class NodeReader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()

    def problem(self, node: yaml.Node, text: str, line: int | None = None) -> None:
        where = line if line is not None else node.start_mark.line + 1
        self.problems.append(Problem(self.source, where, text))

    def mapping(
        self, node: yaml.Node, where: str, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict[str, yaml.Node] | None:
        """The known keys of a mapping; unknown, repeated and missing keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{where} must be a mapping of {', '.join(required + optional)}")
            return None
        allowed = required + optional
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key_node.tag == MERGE:
                self.problem(key_node, f"{where}: YAML merge keys (<<) are not supported")
            elif not isinstance(key, str) or key_node.tag != STR:
                self.problem(key_node, f"{where}: keys must be words")
            elif key in found:
                self.problem(key_node, f"{where}: '{key}' is given twice")
            elif key not in allowed:
                close = get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
                self.problem(key_node, f"{where}: unknown key '{key}' ({hint})")
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.problem(node, f"{where}: '{key}' is missing")
        return found

    def string(self, node: yaml.Node, where: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR or not node.value.strip():
            self.problem(node, f"{where} must be non-empty text")
            return None
        return str(node.value).strip()

    def integer(self, node: yaml.Node, where: str) -> int | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
            shown = f" (found '{node.value}')" if isinstance(node, yaml.ScalarNode) else ""
            self.problem(node, f"{where} must be a whole number{shown}")
            return None
        return int(self._constructor.construct_yaml_int(node))

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            self.problem(node, f"{where} must be true or false")
            return None
        return bool(self._constructor.construct_yaml_bool(node))

    def word(self, node: yaml.Node, where: str, pattern: re.Pattern[str], shape: str) -> str | None:
        """A scalar written as a code (an id, a version), whatever YAML would make of it."""
        if not isinstance(node, yaml.ScalarNode) or pattern.fullmatch(str(node.value)) is None:
            shown = f" '{node.value}'" if isinstance(node, yaml.ScalarNode) else ""
            self.problem(node, f"{where}{shown} must be {shape}")
            return None
        return str(node.value)

    def choice(self, node: yaml.Node, where: str, choices: Mapping[str, T]) -> T | None:
        text = self.string(node, where)
        if text is None:
            return None
        if text not in choices:
            close = get_close_matches(text, list(choices), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(choices)}"
            self.problem(node, f"{where} '{text}' is unknown ({hint})")
            return None
        return choices[text]

    def attempt(self, node: yaml.Node, where: str, build: Callable[[], T]) -> T | None:
        """Run a domain constructor, turning its InvalidInput into a problem at `node`."""
        try:
            return build()
        except InvalidInput as error:
            self.problem(node, f"{where}: {error.reason}")
            return None
