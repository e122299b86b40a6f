"""Clue transfer (线索移送): a bank sends a clue from one of its cases to a police unit (the
accounts, their holders as the police may see them, the transactions, the evidence and the
analyst's summary, as one package); the police answer it (received, accepted with their case
number, rejected with a reason, a result); both sides see its status and history, the hub
its counts. Every public function of `transfer` and `views` is a use case."""

from fundwall.clues.model import (
    ClueAccount,
    ClueAnswer,
    ClueCounts,
    ClueEvent,
    ClueEvidence,
    ClueFilter,
    ClueHolder,
    ClueItem,
    ClueView,
)
from fundwall.clues.transfer import answer_clue, send_clue
from fundwall.clues.views import (
    ClueListing,
    case_clues,
    clue_counts,
    clue_evidence,
    clue_inbox,
    clue_outbox,
    get_clue,
    police_units,
    sent_clue,
)

__all__ = [
    "ClueAccount",
    "ClueAnswer",
    "ClueCounts",
    "ClueEvent",
    "ClueEvidence",
    "ClueFilter",
    "ClueHolder",
    "ClueItem",
    "ClueListing",
    "ClueView",
    "answer_clue",
    "case_clues",
    "clue_counts",
    "clue_evidence",
    "clue_inbox",
    "clue_outbox",
    "get_clue",
    "police_units",
    "send_clue",
    "sent_clue",
]
