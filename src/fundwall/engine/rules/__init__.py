"""Rule packs (规则包): a safe expression language over features, YAML packs, policy, diff.

`default_pack()` is the pack Fundwall ships; `load_pack(path)` reads another. A pack
evaluates one transaction (`RulePack.evaluate`) or whole feature columns at once
(`RulePack.evaluate_bulk`) with the same results.
"""

from fundwall.engine.rules.diff import FieldChange, PackDiff, RuleChange, diff_packs
from fundwall.engine.rules.errors import ExpressionError, Problem, RulePackError
from fundwall.engine.rules.loader import default_pack, empty_pack, load_pack, parse_pack
from fundwall.engine.rules.nodes import features_of, unparse
from fundwall.engine.rules.pack import (
    TYPOLOGIES,
    BulkEvaluation,
    Evaluation,
    FiredRule,
    Rule,
    RulePack,
    Text,
)
from fundwall.engine.rules.parser import parse, parse_condition
from fundwall.engine.rules.policy import ACTIONS_BY_CODE, Policy
from fundwall.engine.rules.templates import Language, format_money, format_value

__all__ = [
    "ACTIONS_BY_CODE",
    "TYPOLOGIES",
    "BulkEvaluation",
    "Evaluation",
    "ExpressionError",
    "FieldChange",
    "FiredRule",
    "Language",
    "PackDiff",
    "Policy",
    "Problem",
    "Rule",
    "RuleChange",
    "RulePack",
    "RulePackError",
    "Text",
    "default_pack",
    "diff_packs",
    "empty_pack",
    "features_of",
    "format_money",
    "format_value",
    "load_pack",
    "parse",
    "parse_condition",
    "parse_pack",
    "unparse",
]
