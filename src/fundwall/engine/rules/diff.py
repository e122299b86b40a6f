"""What changed between two versions of a rule pack, rule by rule and field by field."""

from __future__ import annotations

from dataclasses import dataclass

from fundwall.engine.rules.pack import Rule, RulePack, Text
from fundwall.engine.rules.policy import THRESHOLD_ACTIONS
from fundwall.engine.rules.templates import LANGUAGES


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field's value before and after, as text ("" when absent)."""

    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class RuleChange:
    rule_id: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class PackDiff:
    """Rules added, removed and changed from `before_version` to `after_version`."""

    before_version: str
    after_version: str
    added: tuple[Rule, ...]
    removed: tuple[Rule, ...]
    changed: tuple[RuleChange, ...]
    pack: tuple[FieldChange, ...]
    """Changes to the pack's own fields: description and policy thresholds."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.pack)


def diff_packs(before: RulePack, after: RulePack) -> PackDiff:
    """Compare two packs. A condition counts as changed only if its meaning changed, not its
    spacing or redundant parentheses."""
    old = {rule.id: rule for rule in before.rules}
    new = {rule.id: rule for rule in after.rules}
    changed = []
    for rule_id in old.keys() & new.keys():
        changes = _rule_changes(old[rule_id], new[rule_id])
        if changes:
            changed.append(RuleChange(rule_id, changes))
    return PackDiff(
        before_version=before.version,
        after_version=after.version,
        added=tuple(rule for rule in after.rules if rule.id not in old),
        removed=tuple(rule for rule in before.rules if rule.id not in new),
        changed=tuple(sorted(changed, key=lambda change: change.rule_id)),
        pack=_pack_changes(before, after),
    )


def _rule_changes(a: Rule, b: Rule) -> tuple[FieldChange, ...]:
    fields = [
        *_text_pairs("name", a.name, b.name),
        ("when", a.when_text, b.when_text, a.when == b.when),
        ("score", str(a.score), str(b.score), a.score == b.score),
        ("typology", a.typology, b.typology, a.typology == b.typology),
        ("reason.zh", a.reason.zh.text, b.reason.zh.text, None),
        ("reason.en", a.reason.en.text, b.reason.en.text, None),
        *_redacted_pairs(a, b),
        ("action", _action(a), _action(b), None),
        ("enabled", str(a.enabled).lower(), str(b.enabled).lower(), None),
        *_text_pairs("intent", a.intent, b.intent),
    ]
    return tuple(
        FieldChange(name, before, after)
        for name, before, after, same in fields
        if not (before == after if same is None else same)
    )


def _text_pairs(name: str, a: Text | None, b: Text | None) -> list[tuple[str, str, str, None]]:
    return [
        (f"{name}.{language}", a[language] if a else "", b[language] if b else "", None)
        for language in ("zh", "en")
    ]


def _redacted_pairs(a: Rule, b: Rule) -> list[tuple[str, str, str, None]]:
    return [
        (
            f"reason_redacted.{language}",
            a.reason_redacted[language].text if a.reason_redacted else "",
            b.reason_redacted[language].text if b.reason_redacted else "",
            None,
        )
        for language in LANGUAGES
    ]


def _action(rule: Rule) -> str:
    return rule.action.value if rule.action else ""


def _pack_changes(before: RulePack, after: RulePack) -> tuple[FieldChange, ...]:
    pairs = _text_pairs("description", before.description, after.description)
    changes = [FieldChange(name, old, new) for name, old, new, _ in pairs if old != new]
    for action in THRESHOLD_ACTIONS:
        old = before.policy.thresholds.get(action)
        new = after.policy.thresholds.get(action)
        if old != new:
            changes.append(
                FieldChange(
                    f"policy.thresholds.{action.value}",
                    "" if old is None else str(old),
                    "" if new is None else str(new),
                )
            )
    return tuple(changes)
