"""Errors of the rule layer: a bad expression (with its column) and a bad rule pack (with the
file and line of every problem found)."""

from __future__ import annotations

from dataclasses import dataclass

from fundwall.domain.errors import InvalidInput


@dataclass(eq=False)
class ExpressionError(InvalidInput):
    """An expression that cannot be parsed or type-checked; `column` is 1-based."""

    column: int = 0

    def message(self) -> str:
        located = InvalidInput(f"column {self.column}: {self.reason}", self.field, self.record)
        return located.message()


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a rule pack file."""

    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


@dataclass(eq=False)
class RulePackError(InvalidInput):
    """A rule pack that failed validation; lists every problem found, not only the first."""

    problems: tuple[Problem, ...] = ()

    @classmethod
    def of(cls, problems: list[Problem]) -> RulePackError:
        ordered = sorted(problems, key=lambda p: (p.file, p.line))
        if len(ordered) == 1:
            return cls(str(ordered[0]), problems=tuple(ordered))
        lines = "\n".join(f"  {problem}" for problem in ordered)
        return cls(f"{len(ordered)} problems in rule pack:\n{lines}", problems=tuple(ordered))
