"""The feature vocabulary rules are written in: the engine's feature catalogue.

A rule pack is validated against a `Catalogue` (feature name → kind). The kind decides an
expression type (flags are yes/no, everything else is a number) and how a value reads in a
reason. Tests inject small catalogues; everything else uses `default_catalogue()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from fundwall.engine.features.catalog import Kind, catalogue

Catalogue = Mapping[str, Kind]


@cache
def default_catalogue() -> Mapping[str, Kind]:
    """Every feature of `fundwall.engine.features.catalog` with its kind."""
    return {feature.name: feature.kind for feature in catalogue()}


def is_flag(kind: Kind) -> bool:
    return kind is Kind.FLAG
