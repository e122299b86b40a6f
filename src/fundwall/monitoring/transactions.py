"""Transactions of a member: search, and one transaction with its decision explained.

The explanation says which rules fired, with the feature values each saw and what they mean,
the score against the pack's thresholds, and the pack and model versions that decided. Both
reads are use cases (`fundwall.auth.usecase`) for actors with the member's customer data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import (
    accounts_visible,
    decisions_visible,
    transactions_visible,
    visible_transaction,
)
from fundwall.auth.usecase import use_case
from fundwall.cases.model import AlertItem
from fundwall.cases.queries import find_alert
from fundwall.domain.decisions import Action
from fundwall.engine.features.catalog import Feature, catalogue
from fundwall.engine.models.scoring import MODEL_REASON
from fundwall.engine.rules import Language, RulePack, Text, format_value
from fundwall.monitoring.queries import decided_join
from fundwall.store.engine_tables import PaymentCancellationRow
from fundwall.store.mapping import decision_of
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.tables import AccountRow, DecisionRow, TransactionRow
from fundwall.store.uow import UnitOfWork


class PackFinder(Protocol):
    """Finds the rule pack that made a decision, to name its rules and thresholds (the
    console's pack library)."""

    def find(self, version: str, session: Session) -> RulePack | None: ...


@dataclass(frozen=True, slots=True)
class TxFilter:
    account: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    min_fen: int | None = None
    max_fen: int | None = None
    action: Action | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class TxItem:
    tx_id: str
    ts: datetime
    kind: str
    payer_account: str | None
    payee_account: str | None
    payer_bank: str | None
    payee_bank: str | None
    amount_fen: int
    channel: str
    action: Action | None
    """The live decision, when the actor's member made it."""
    score: int | None


@use_case(Permission.VIEW_CUSTOMER_DATA)
def search_transactions(uow: UnitOfWork, actor: Actor, wanted: TxFilter) -> Page[TxItem]:
    """The member's transactions matching `wanted`, newest first."""
    decision, condition = decided_join(actor)
    query = (
        select(TransactionRow, decision.action, decision.score)
        .outerjoin(decision, condition)
        .where(transactions_visible(actor))
    )
    if wanted.account is not None:
        query = query.where(
            or_(
                TransactionRow.payer_account == wanted.account,
                TransactionRow.payee_account == wanted.account,
            )
        )
    if wanted.start is not None:
        query = query.where(TransactionRow.ts >= wanted.start)
    if wanted.end is not None:
        query = query.where(TransactionRow.ts < wanted.end)
    if wanted.min_fen is not None:
        query = query.where(TransactionRow.amount_fen >= wanted.min_fen)
    if wanted.max_fen is not None:
        query = query.where(TransactionRow.amount_fen <= wanted.max_fen)
    if wanted.action is Action.PASS:
        query = query.where(or_(decision.action.is_(None), decision.action == Action.PASS.value))
    elif wanted.action is not None:
        query = query.where(decision.action == wanted.action.value)
    query = query.order_by(TransactionRow.ts.desc(), TransactionRow.tx_id.desc())
    return fetch_page(uow.session, query, wanted.page, PAGE_SIZE, tx_item)


def tx_item(row: Any) -> TxItem:
    tx: TransactionRow = row[0]
    return TxItem(
        tx_id=tx.tx_id,
        ts=tx.ts,
        kind=tx.kind,
        payer_account=tx.payer_account,
        payee_account=tx.payee_account,
        payer_bank=tx.payer_bank,
        payee_bank=tx.payee_bank,
        amount_fen=tx.amount_fen,
        channel=tx.channel,
        action=Action(row[1]) if row[1] is not None else None,
        score=row[2],
    )


@cache
def _features() -> Mapping[str, Feature]:
    return {feature.name: feature for feature in catalogue()}


@dataclass(frozen=True, slots=True)
class FeatureValue:
    """One value a rule saw, with the feature's meaning, in both languages."""

    name: str
    value: float | str
    meaning: Text | None
    shown: Text

    @classmethod
    def of(cls, name: str, value: float | str) -> FeatureValue:
        feature = _features().get(name)
        if feature is None or isinstance(value, str):
            return cls(name, value, None, Text(str(value), str(value)))
        return cls(
            name,
            value,
            Text(feature.zh, feature.en),
            Text(format_value(value, feature.kind, "zh"), format_value(value, feature.kind, "en")),
        )


@dataclass(frozen=True, slots=True)
class ReasonView:
    rule_id: str
    rule_name: Text | None
    """From the pack that decided, when the library has it."""
    score: int | None
    text: Text
    values: tuple[FeatureValue, ...]


@dataclass(frozen=True, slots=True)
class DecisionView:
    action: Action
    score: int
    pack_version: str
    model_version: str | None
    latency_us: int | None
    decided_at: datetime
    shadow: bool
    reasons: tuple[ReasonView, ...]
    thresholds: dict[Action, int] | None
    """The deciding pack's thresholds, when the library has that pack."""

    def summary(self, language: Language) -> str:
        """One sentence: the action, the score against the thresholds, and why."""
        return explain(self, language)


def _decision_view(
    row: DecisionRow, pack: RulePack | None, member: str | None, payee_holder: str | None
) -> DecisionView:
    """The logged decision as `member` may read it (`Decision.seen_by`)."""
    decision = decision_of(row).seen_by(member, payee_holder)
    reasons = []
    for reason in decision.reasons:
        rule = None
        if pack is not None:
            rule = next((r for r in pack.rules if r.id == reason.rule_id), None)
        reasons.append(
            ReasonView(
                rule_id=reason.rule_id,
                rule_name=rule.name if rule is not None else None,
                score=rule.score if rule is not None else None,
                text=Text(reason.text_zh, reason.text_en),
                values=tuple(FeatureValue.of(k, v) for k, v in reason.values.items()),
            )
        )
    thresholds = dict(pack.policy.thresholds) if pack is not None else None
    return DecisionView(
        action=decision.action,
        score=decision.score,
        pack_version=decision.pack_version,
        model_version=decision.model_version,
        latency_us=decision.latency_us,
        decided_at=row.decided_at,
        shadow=decision.shadow,
        reasons=tuple(reasons),
        thresholds=thresholds,
    )


_ACTION_WORDS: dict[Action, Text] = {
    Action.PASS: Text("放行", "passed"),
    Action.ALERT: Text("放行并预警", "passed with an alert"),
    Action.WARN: Text("提示风险", "held for a warning to the payer"),
    Action.DELAY: Text("延迟到账", "delayed"),
    Action.BLOCK: Text("拦截", "blocked"),
}


def explain(decision: DecisionView, language: Language) -> str:
    """The decision in words, e.g. "Blocked: score 130 reached the block threshold 100;
    3 rules fired." """
    zh = language == "zh"
    words = _ACTION_WORDS[decision.action][language]
    modelled = any(reason.rule_id == MODEL_REASON for reason in decision.reasons)
    fired = len(decision.reasons) - modelled
    threshold = (decision.thresholds or {}).get(decision.action)
    # The pack's threshold explains the action only when its score reached it; else the
    # model's score or a hard control decided (their reasons say which).
    reached = threshold is not None and decision.score >= threshold
    if zh:
        parts = [f"{words}：得分{decision.score}"]
        if reached:
            parts.append(f"达到{words}阈值{threshold}")
        parts.append(f"命中{fired}条规则" if fired else "未命中规则")
        if modelled:
            parts.append("另见模型评分")
        return "，".join(parts) + "。"
    parts = [f"{words.capitalize()}: score {decision.score}"]
    if reached:
        parts.append(f"reached the {decision.action.value} threshold {threshold}")
    parts.append(f"{fired} rule{'s' if fired != 1 else ''} fired" if fired else "no rule fired")
    if modelled:
        parts.append("see also the model's score")
    return ", ".join(parts) + "."


@dataclass(frozen=True, slots=True)
class TransactionView:
    tx: TxItem
    device_id: str | None
    ip: str | None
    city: str | None
    purpose: str | None
    own_accounts: frozenset[str]
    """Which of payer and payee accounts the actor's member holds (they link to a page)."""
    live: DecisionView | None
    shadows: tuple[DecisionView, ...]
    alert: AlertItem | None
    cancelled_at: datetime | None = None
    """When its payer cancelled the warned or delayed payment (劝阻止付): it moved nothing."""


@use_case(Permission.VIEW_CUSTOMER_DATA)
def transaction_view(
    uow: UnitOfWork, actor: Actor, tx_id: str, packs: PackFinder
) -> TransactionView:
    """One transaction the actor may see, with the decisions its member made on it, read
    without the figures of a payee account another member holds."""
    session = uow.session
    row = visible_transaction(session, actor, tx_id)
    decisions = list(
        session.scalars(
            select(DecisionRow)
            .join(TransactionRow, TransactionRow.tx_id == DecisionRow.tx_id)
            .where(DecisionRow.tx_id == tx_id, decisions_visible(actor))
            .order_by(DecisionRow.id)
        )
    )
    payee_holder = None
    if row.payee_account is not None:
        payee_holder = session.scalar(
            select(AccountRow.institution_code).where(AccountRow.account_no == row.payee_account)
        )
    views = [
        _decision_view(d, packs.find(d.pack_version, session), actor.customer_member, payee_holder)
        for d in decisions
    ]
    live = [view for view in views if not view.shadow]
    accounts = [a for a in (row.payer_account, row.payee_account) if a is not None]
    own = frozenset(
        session.scalars(
            select(AccountRow.account_no).where(
                AccountRow.account_no.in_(accounts), accounts_visible(actor)
            )
        )
    )
    alert = None
    if live and live[-1].action is not Action.PASS and actor.can(Permission.WORK_ALERTS):
        alert = find_alert(session, actor, tx_id)
    item = tx_item((row, live[-1].action if live else None, live[-1].score if live else None))
    return TransactionView(
        tx=item,
        device_id=row.device_id,
        ip=row.ip,
        city=row.city,
        purpose=row.purpose,
        own_accounts=own,
        live=live[-1] if live else None,
        shadows=tuple(view for view in views if view.shadow),
        alert=alert,
        cancelled_at=session.scalar(
            select(PaymentCancellationRow.cancelled_at).where(PaymentCancellationRow.tx_id == tx_id)
        ),
    )
