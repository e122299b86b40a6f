"""Hard controls (硬性管控): account statuses and restrictions, class limits, the punishment
list and the shared risk list. They come before the rule pack, are not scores, force their
action and state their reason in both languages.

Each control is declared once, in the table `CONTROLS` (`model.py`): what it checks and what
it forces. Two executions read it and give the same answers (a property test holds them to
it): `OnlineControls` per transaction, `BulkControls` over a whole history for replay. Both
read a `ControlBook`, filled from a region's accounts or from the store
(`changes.load_book`), where the workflows' use cases (`fundwall.accounts.controls.restrict`,
`fundwall.sharing.risk_list.list_risk`, `fundwall.accounts.punishments.punish` …) change it
with an audit record.
"""

from typing import TYPE_CHECKING

from fundwall.exports import lazy_exports

if TYPE_CHECKING:
    from fundwall.engine.controls.book import (
        ControlBook,
        Listing,
        PartyHasher,
        PartyKeys,
        Restriction,
        RiskEntry,
    )
    from fundwall.engine.controls.bulk import BulkControls
    from fundwall.engine.controls.model import (
        CONTROL_IDS,
        CONTROLS,
        Control,
        Evidence,
        Hit,
        ListKind,
        ListRole,
        RestrictionKind,
        RiskCategory,
        is_control_id,
    )
    from fundwall.engine.controls.online import OnlineControls, strongest_action

__getattr__ = lazy_exports(
    __name__,
    {
        "book": ("ControlBook", "Listing", "PartyHasher", "PartyKeys", "Restriction", "RiskEntry"),
        "bulk": ("BulkControls",),
        "model": (
            "CONTROL_IDS",
            "CONTROLS",
            "Control",
            "Evidence",
            "Hit",
            "ListKind",
            "ListRole",
            "RestrictionKind",
            "RiskCategory",
            "is_control_id",
        ),
        "online": ("OnlineControls", "strongest_action"),
    },
)

__all__ = [
    "CONTROLS",
    "CONTROL_IDS",
    "BulkControls",
    "Control",
    "ControlBook",
    "Evidence",
    "Hit",
    "ListKind",
    "ListRole",
    "Listing",
    "OnlineControls",
    "PartyHasher",
    "PartyKeys",
    "Restriction",
    "RestrictionKind",
    "RiskCategory",
    "RiskEntry",
    "is_control_id",
    "strongest_action",
]
