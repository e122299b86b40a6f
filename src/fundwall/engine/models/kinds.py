"""What a model scores and where it stands in the registry: plain enums, importable without
numpy, LightGBM or the store (the command line's options are made of them)."""

from __future__ import annotations

from enum import StrEnum


class Target(StrEnum):
    """What a model scores: one transaction, or one account (its mule score)."""

    TRANSACTIONS = "transactions"
    ACCOUNTS = "accounts"

    @property
    def short(self) -> str:
        return "tx" if self is Target.TRANSACTIONS else "acct"


class ModelState(StrEnum):
    REGISTERED = "registered"
    CHALLENGER = "challenger"
    SHADOW = "shadow"
    CHAMPION = "champion"
    RETIRED = "retired"
