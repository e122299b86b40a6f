"""Rule pack files (YAML) → validated, compiled RulePack.

The file is composed into YAML nodes rather than loaded into plain objects, so that every
problem names its line. Reading goes on after a problem: one RulePackError reports all of
them. docs/rules.md describes the format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import yaml

from fundwall.domain.decisions import Action
from fundwall.domain.errors import InvalidInput
from fundwall.engine.features.catalog import Role, features_about
from fundwall.engine.rules.errors import ExpressionError, Problem, RulePackError
from fundwall.engine.rules.nodes import Node, features_of
from fundwall.engine.rules.pack import TYPOLOGIES, ReasonTemplate, Rule, RulePack, Text
from fundwall.engine.rules.parser import parse_condition
from fundwall.engine.rules.policy import THRESHOLD_ACTIONS, Policy
from fundwall.engine.rules.templates import Template, parse_template
from fundwall.engine.rules.vocabulary import Catalogue, default_catalogue
from fundwall.engine.rules.yamlnodes import NodeReader

MAX_SCORE = 1000
DEFAULT_PACK = "packs/default.yaml"
EMPTY_PACK = "packs/none.yaml"
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,23}")
_ID_SHAPE = "1 to 24 letters, digits, '.', '_' or '-', starting with a letter"
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,23}")
_VERSION_SHAPE = "1 to 24 letters, digits, '.', '_' or '-'"
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML was built with it: the same nodes and marks, ten times
faster. A file it rejects is composed again by the pure-Python one, for its error text."""
_RULE_REQUIRED = ("id", "name", "when", "score", "typology", "reason")
_RULE_OPTIONAL = ("action", "enabled", "intent", "reason_redacted")
_FORCED = {action.value: action for action in THRESHOLD_ACTIONS}

T = TypeVar("T")


def load_pack(path: str | Path, catalogue: Catalogue | None = None) -> RulePack:
    """Load and validate the rule pack file at `path`."""
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read rule pack {path}: {error.strerror}") from None
    return parse_pack(content, str(path), catalogue)


def default_pack() -> RulePack:
    """The pack Fundwall ships, validated against the engine's feature catalogue."""
    return shipped_pack(DEFAULT_PACK)


def empty_pack() -> RulePack:
    """The shipped pack of no rules: the hard controls and a model decide alone."""
    return shipped_pack(EMPTY_PACK)


def shipped_pack(name: str) -> RulePack:
    """The shipped pack file `name` (under fundwall/engine/rules), as `parsed_pack` has it."""
    resource = files("fundwall.engine.rules").joinpath(name)
    return parsed_pack(resource.read_bytes(), f"fundwall/engine/rules/{name}")


@lru_cache(maxsize=32)
def parsed_pack(content: bytes, source: str) -> RulePack:
    """`parse_pack` on the default catalogue, once per content and source: the shipped
    packs and the registry's rows (the live one is the shipped pack at first) share one."""
    return parse_pack(content, source)


def parse_pack(content: bytes, source: str, catalogue: Catalogue | None = None) -> RulePack:
    """Validate and compile a rule pack from the bytes of its file; `source` names the file."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise RulePackError.of([Problem(source, line, "not UTF-8 text")]) from None
    try:
        root = _composed(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = error.problem or error.context
        raise RulePackError.of([Problem(source, line, f"not valid YAML: {what}")]) from None
    reader = _PackReader(source, text, default_catalogue() if catalogue is None else catalogue)
    pack = reader.pack(root, hashlib.sha256(content).hexdigest())
    if pack is None:
        raise RulePackError.of(reader.problems)
    return pack


def _composed(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)


class _PackReader(NodeReader):
    def __init__(self, source: str, text: str, catalogue: Catalogue) -> None:
        super().__init__(source)
        self.text = text
        self.catalogue = catalogue
        self.payee = features_about(Role.PAYEE)

    def pack(self, root: yaml.Node | None, digest: str) -> RulePack | None:
        if root is None:
            self.problems.append(Problem(self.source, 1, "the file is empty"))
            return None
        top = self.mapping(root, "the file", ("pack", "policy", "rules"), ())
        if top is None:
            return None
        head = (
            self.mapping(top["pack"], "'pack'", ("id", "version", "description"), ())
            if "pack" in top
            else None
        )
        policy = self.policy(top["policy"]) if "policy" in top else None
        rules = self.rules(top["rules"]) if "rules" in top else []
        head = head or {}
        pack_id = self.field(head, "id", lambda n: self.word(n, "the pack id", _ID, _ID_SHAPE))
        version = self.field(
            head, "version", lambda n: self.word(n, "the pack version", _VERSION, _VERSION_SHAPE)
        )
        description = self.field(
            head, "description", lambda n: self.bilingual(n, "the pack description")
        )
        if self.problems or pack_id is None or version is None:
            return None
        if description is None or policy is None:
            return None
        return RulePack(
            pack_id=pack_id,
            declared_version=version,
            digest=digest,
            description=description,
            policy=policy,
            rules=rules,
            catalogue=self.catalogue,
            source=self.source,
        )

    def field(
        self, fields: dict[str, yaml.Node], key: str, read: Callable[[yaml.Node], T | None]
    ) -> T | None:
        return read(fields[key]) if key in fields else None

    def bilingual(self, node: yaml.Node, where: str) -> Text | None:
        fields = self.mapping(node, where, ("zh", "en"), ())
        if fields is None:
            return None
        zh = self.field(fields, "zh", lambda n: self.string(n, f"{where} (zh)"))
        en = self.field(fields, "en", lambda n: self.string(n, f"{where} (en)"))
        return Text(zh, en) if zh is not None and en is not None else None

    def policy(self, node: yaml.Node) -> Policy | None:
        policy = self.mapping(node, "'policy'", ("thresholds",), ())
        if policy is None or "thresholds" not in policy:
            return None
        names = tuple(_FORCED)
        given = self.mapping(policy["thresholds"], "'policy.thresholds'", (), names)
        if given is None:
            return None
        if not given:
            self.problem(
                policy["thresholds"], f"'policy.thresholds' needs one of {', '.join(names)}"
            )
            return None
        thresholds: dict[Action, int] = {}
        for name, value in given.items():
            score = self.integer(value, f"the {name} threshold")
            if score is not None:
                thresholds[_FORCED[name]] = score
        if len(thresholds) < len(given):
            return None
        return self.attempt(policy["thresholds"], "'policy.thresholds'", lambda: Policy(thresholds))

    def rules(self, node: yaml.Node) -> list[Rule]:
        # An empty list is a pack of no rules: the hard controls and a model decide alone.
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "'rules' must be a list of rules")
            return []
        rules: list[Rule] = []
        first_line: dict[str, int] = {}
        for index, item in enumerate(node.value):
            rule = self.rule(item, index)
            if rule is None:
                continue
            if rule.id in first_line:
                self.problem(
                    item, f"rule id {rule.id} is used twice (first at line {first_line[rule.id]})"
                )
                continue
            first_line[rule.id] = rule.line
            rules.append(rule)
        if rules and not any(rule.enabled for rule in rules):
            self.problem(node, "every rule is disabled; a pack needs at least one enabled rule")
        return rules

    def rule(self, node: yaml.Node, index: int) -> Rule | None:
        before = len(self.problems)
        fields = self.mapping(node, f"rule #{index + 1}", _RULE_REQUIRED, _RULE_OPTIONAL)
        if fields is None:
            return None
        rule_id = self.field(
            fields, "id", lambda n: self.word(n, f"rule #{index + 1} id", _ID, _ID_SHAPE)
        )
        label = f"rule {rule_id}" if rule_id else f"rule #{index + 1}"
        name = self.field(fields, "name", lambda n: self.bilingual(n, f"{label} name"))
        when = self.field(fields, "when", lambda n: self.condition(n, label))
        score = self.field(fields, "score", lambda n: self.score(n, label))
        typology = self.field(
            fields,
            "typology",
            lambda n: self.choice(n, f"{label} typology", {t: t for t in TYPOLOGIES}),
        )
        reason = self.field(fields, "reason", lambda n: self.reason(n, label))
        action = self.field(fields, "action", lambda n: self.choice(n, f"{label} action", _FORCED))
        enabled = self.field(fields, "enabled", lambda n: self.boolean(n, f"{label} enabled"))
        intent = self.field(fields, "intent", lambda n: self.bilingual(n, f"{label} intent"))
        redacted = self.field(fields, "reason_redacted", lambda n: self.redacted(n, label, reason))
        if score == 0 and action is None and "action" not in fields:
            self.problem(fields["score"], f"{label}: a rule with score 0 must force an action")
        if len(self.problems) > before or rule_id is None or name is None or when is None:
            return None
        if score is None or typology is None or reason is None:
            return None
        return Rule(
            id=rule_id,
            name=name,
            when=when[0],
            when_text=when[1],
            score=score,
            typology=typology,
            reason=reason,
            action=action,
            enabled=True if enabled is None else enabled,
            intent=intent,
            reason_redacted=redacted,
            line=node.start_mark.line + 1,
        )

    def score(self, node: yaml.Node, label: str) -> int | None:
        score = self.integer(node, f"{label} score")
        if score is not None and not 0 <= score <= MAX_SCORE:
            self.problem(node, f"{label} score must be between 0 and {MAX_SCORE}, not {score}")
            return None
        return score

    def condition(self, node: yaml.Node, label: str) -> tuple[Node, str] | None:
        text = self.string(node, f"{label} 'when'")
        if text is None:
            return None
        try:
            condition = parse_condition(text, self.catalogue)
        except ExpressionError as error:
            line = self.expression_line(node, error.column)
            self.problem(node, f"{label} 'when', column {error.column}: {error.reason}", line)
            return None
        if not features_of(condition):
            self.problem(node, f"{label} 'when' reads no feature: it would fire always or never")
            return None
        return condition, text

    def reason(self, node: yaml.Node, label: str, key: str = "reason") -> ReasonTemplate | None:
        fields = self.mapping(node, f"{label} {key}", ("zh", "en"), ())
        if fields is None:
            return None
        zh = self.field(fields, "zh", lambda n: self.template(n, f"{label} {key} (zh)"))
        en = self.field(fields, "en", lambda n: self.template(n, f"{label} {key} (en)"))
        return ReasonTemplate(zh, en) if zh is not None and en is not None else None

    def redacted(
        self, node: yaml.Node, label: str, reason: ReasonTemplate | None
    ) -> ReasonTemplate | None:
        """The reason for members that do not hold the payee's account: it may quote every
        feature but those of that account, and only a reason that quotes them needs one."""
        redacted = self.reason(node, label, "reason_redacted")
        if redacted is None:
            return None
        quoted = [name for name in redacted.features if name in self.payee]
        if quoted:
            self.problem(
                node,
                f"{label} reason_redacted quotes {', '.join(f'{{{n}}}' for n in quoted)}: "
                "figures of the payee's account, which this wording is for leaving out",
            )
            return None
        if reason is not None and not any(name in self.payee for name in reason.features):
            self.problem(
                node,
                f"{label} reason_redacted is never shown: the reason quotes no figure of the "
                "payee's account, so every member reads it as it is",
            )
            return None
        return redacted

    def template(self, node: yaml.Node, where: str) -> Template | None:
        text = self.string(node, where)
        if text is None:
            return None
        return self.attempt(node, where, lambda: parse_template(text, self.catalogue))

    def expression_line(self, node: yaml.Node, column: int) -> int:
        """The file line holding `column` of a scalar that may span several lines."""
        raw = self.text[node.start_mark.index : node.end_mark.index].split("\n")
        first = node.start_mark.line
        if isinstance(node, yaml.ScalarNode) and node.style in (">", "|"):
            raw, first = raw[1:], first + 1
        lines = [line.strip() for line in raw]
        while lines and not lines[-1]:
            lines.pop()
        if " ".join(lines) != node.value.strip():
            return node.start_mark.line + 1
        offset = column - 1
        for number, line in enumerate(lines):
            if offset <= len(line):
                return first + number + 1
            offset -= len(line) + 1
        return first + len(lines)
