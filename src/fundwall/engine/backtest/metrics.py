"""The backtest figures over one pack's decisions: a pure function of tables, no I/O.

`evaluate(decisions, transactions, tx_labels, account_labels, region)` takes the replay's
decision table (tx_id, action, score, optionally pack_version and model_version) and the
region's files as read by `fundwall.region.read_table`; docs/backtest.md defines each
figure.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from fundwall.domain.decisions import Action
from fundwall.engine.backtest.accounts import account_labels_of, account_report
from fundwall.engine.backtest.frame import ACTIONS, ROLES, Frame, frame
from fundwall.engine.backtest.networks import ScoreFlags, network_report
from fundwall.engine.backtest.ranking import average_precision
from fundwall.engine.backtest.result import (
    ActionCount,
    Backtest,
    Detection,
    FlagReport,
    Region,
    ScoreRanking,
    TransactionCounts,
    VictimMoney,
    ratio,
)

DETECTED: Final = (Action.ALERT, Action.WARN, Action.DELAY, Action.BLOCK)
"""Actions that count as detecting a transaction: anything above pass."""
INTERCEPTED: Final = (Action.DELAY, Action.BLOCK)
"""Actions that count as intercepting one: the money is held or refused."""

Mask = npt.NDArray[np.bool_]


def _fen(amount: npt.NDArray[np.int64], mask: Mask) -> int:
    return int(amount[mask].sum())


def detection(amount: npt.NDArray[np.int64], positive: Mask, flagged: Mask) -> Detection:
    """Precision and recall of `flagged` against `positive`, by count and by amount.

    A class the region does not have (no positive) has no ratios at all: a precision of 0
    would say the flags missed it, when there was nothing to catch.
    """
    hit = positive & flagged
    positives, hits, flags = (int(np.count_nonzero(m)) for m in (positive, hit, flagged))
    positives_fen, hits_fen, flags_fen = (_fen(amount, m) for m in (positive, hit, flagged))
    present = positives > 0
    return Detection(
        positives=positives,
        positives_amount_fen=positives_fen,
        flagged=flags,
        flagged_amount_fen=flags_fen,
        hits=hits,
        hits_amount_fen=hits_fen,
        precision=ratio(hits, flags) if present else None,
        recall=ratio(hits, positives),
        precision_by_amount=ratio(hits_fen, flags_fen) if present else None,
        recall_by_amount=ratio(hits_fen, positives_fen),
    )


def flag_report(f: Frame, actions: tuple[Action, ...]) -> FlagReport:
    flagged = f.flagged(actions)
    by_role = {
        name: detection(f.amount, f.role == code, flagged) for code, name in enumerate(ROLES)
    }
    return FlagReport(
        actions=tuple(a.value for a in actions),
        fraud=detection(f.amount, f.fraud, flagged),
        victim_payment=by_role["victim_payment"],
        layering=by_role["layering"],
        cash_out=by_role["cash_out"],
        collection=by_role["collection"],
        forwarding=by_role["forwarding"],
    )


def action_counts(f: Frame) -> dict[str, ActionCount]:
    decided = int(np.count_nonzero(f.decided))
    counts = {}
    for action in ACTIONS:
        taken = f.severity == action.severity
        count = int(np.count_nonzero(taken))
        counts[action.value] = ActionCount(count, ratio(count, decided), _fen(f.amount, taken))
    return counts


def victim_money(f: Frame) -> VictimMoney:
    """First hop: victim payments intercepted. Chain: per scam, its intercepted transfers of
    any role, capped at the scam's loss (the victim payments), summed over scams."""
    intercepted = f.flagged(INTERCEPTED)
    victim = f.role == ROLES.index("victim_payment")
    scams = int(f.scam.max(initial=-1)) + 1
    loss = np.zeros(scams, np.int64)
    np.add.at(loss, f.scam[victim], f.amount[victim])
    stopped = np.zeros(scams, np.int64)
    held = intercepted & f.fraud
    np.add.at(stopped, f.scam[held], f.amount[held])
    chain = np.minimum(stopped, loss)
    first_hop = intercepted & victim
    loss_fen = int(loss.sum())
    first_hop_fen = _fen(f.amount, first_hop)
    chain_fen = int(chain.sum())
    return VictimMoney(
        scams=int(np.count_nonzero(loss)),
        loss_fen=loss_fen,
        first_hop_fen=first_hop_fen,
        first_hop_share=ratio(first_hop_fen, loss_fen),
        chain_fen=chain_fen,
        chain_share=ratio(chain_fen, loss_fen),
        scams_stopped_first_hop=int(np.unique(f.scam[first_hop]).size),
        scams_stopped_in_chain=int(np.count_nonzero(chain)),
    )


def evaluate(
    decisions: pa.Table,
    transactions: pa.Table,
    tx_labels: pa.Table,
    account_labels: pa.Table,
    region: Region,
    scores: ScoreFlags | None = None,
) -> Backtest:
    """Score one pack's decisions on a region against its labels (and, given `scores`, its
    跑分 networks against an accounts model's refreshed mule score)."""
    f = frame(decisions, transactions, tx_labels)
    labels = account_labels_of(f, account_labels)
    fraud = f.fraud
    return Backtest(
        region=region,
        pack_version=f.pack_version,
        model_version=f.model_version,
        transactions=TransactionCounts(
            total=int(f.role.size),
            decided=int(np.count_nonzero(f.decided)),
            fraud=int(np.count_nonzero(fraud)),
            fraud_amount_fen=_fen(f.amount, fraud),
        ),
        actions=action_counts(f),
        score=ScoreRanking(
            pr_auc=average_precision(f.score, fraud),
            prevalence=ratio(int(np.count_nonzero(fraud)), int(f.role.size)),
        ),
        detected=flag_report(f, DETECTED),
        intercepted=flag_report(f, INTERCEPTED),
        victim_money=victim_money(f),
        accounts=account_report(f, labels, DETECTED, INTERCEPTED),
        networks=network_report(f, account_labels, labels, DETECTED, INTERCEPTED, scores),
    )
