"""The member-data API: accounts, their transactions, transactions and alerts, as JSON.

The same use cases as the console's pages, for a member's systems (API key) or a signed-in
console user; they refuse an actor without the member's customer data (403). Another
member's record answers 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fundwall.accounts.views import account_profile
from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.auth.dependencies import (
    ApiActor,
    UnitOfWorkDep,
)
from fundwall.cases import AlertFilter, AlertItem, AlertStatus, AssigneeFilter, alert_queue
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action
from fundwall.monitoring.transactions import PackFinder, TxItem, transaction_view
from fundwall.store.paging import MAX_PAGE

TAG = "member data"


class HolderOut(BaseModel):
    party_id: str
    kind: str
    name: str = Field(description="masked for a person (王**); a firm's name in full")
    id_number: str = Field(description="masked (3502**********1234)")
    phone: str | None = Field(description="masked (138****5678)")


class AccountOut(BaseModel):
    account_no: str
    member: str
    account_class: str
    status: str
    risk_tier: str
    opened_at: datetime | None = Field(
        description="null when unknown (accounts loaded from imported public data)"
    )
    balance_fen: int
    in_fen: int = Field(description="money received in the stored history")
    out_fen: int = Field(description="money paid out in the stored history")
    holder: HolderOut


class TransactionOut(BaseModel):
    tx_id: str
    ts: datetime
    kind: str
    payer_account: str | None
    payee_account: str | None
    payer_bank: str | None
    payee_bank: str | None
    amount_fen: int
    channel: str
    action: Action | None = Field(description="the live decision, when this member made it")
    score: int | None

    @classmethod
    def of(cls, item: TxItem) -> TransactionOut:
        return cls(**{name: getattr(item, name) for name in cls.model_fields})


class ReasonOut(BaseModel):
    rule_id: str
    text_zh: str
    text_en: str
    values: dict[str, float | str]


class DecisionOut(BaseModel):
    action: Action
    score: int
    pack_version: str
    model_version: str | None
    shadow: bool
    decided_at: datetime
    reasons: list[ReasonOut]


class TransactionDetailOut(TransactionOut):
    decisions: list[DecisionOut]
    cancelled_at: datetime | None = Field(
        default=None,
        description="when the payer cancelled this warned or delayed payment (劝阻止付): "
        "its money never moved",
    )


class AlertOut(BaseModel):
    tx_id: str
    ts: datetime
    payer_account: str | None
    payee_account: str | None
    amount_fen: int
    action: Action
    score: int
    top_rule: str | None
    status: AlertStatus
    assignee: str | None
    disposition: str | None

    @classmethod
    def of(cls, item: AlertItem) -> AlertOut:
        return cls(
            **{name: getattr(item, name) for name in cls.model_fields if name != "disposition"},
            disposition=item.disposition.value if item.disposition else None,
        )


class PageOut(BaseModel):
    page: int
    more: bool = Field(description="true when a next page exists")


class TransactionPage(PageOut):
    items: list[TransactionOut]


class AlertPage(PageOut):
    items: list[AlertOut]


PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]


_RECORD_PROBLEMS: Final = problem_responses(401, 403, 404, 422)
"""A read of one record: no key (401), a console role without customer data (403), a record
that does not exist or is another member's (404), a bad parameter (422)."""
_LIST_PROBLEMS: Final = problem_responses(401, 403, 422)


def member_data_router(keyring: Keyring, packs: PackFinder) -> APIRouter:
    """The routes, reading holders with `keyring` and naming rules from `packs`."""
    router = APIRouter(prefix="/v1", tags=[TAG])

    @router.get(
        "/accounts/{account_no}",
        response_model=AccountOut,
        responses=_RECORD_PROBLEMS,
        openapi_extra=KEYED,
    )
    def get_account(
        account_no: str,
        actor: ApiActor,
        uow: UnitOfWorkDep,
    ) -> dict[str, Any]:
        """One of the member's accounts, its holder masked."""
        profile = account_profile(uow, actor, account_no, keyring)
        holder = profile.holder
        return {
            "account_no": profile.account_no,
            "member": profile.member,
            "account_class": profile.account_class.value,
            "status": profile.status.value,
            "risk_tier": profile.risk_tier.value,
            "opened_at": profile.opened_at,
            "balance_fen": profile.balance_fen,
            "in_fen": profile.in_fen,
            "out_fen": profile.out_fen,
            "holder": {
                "party_id": holder.party_id,
                "kind": holder.kind.value,
                "name": holder.name,
                "id_number": holder.id_number,
                "phone": holder.phone,
            },
        }

    @router.get(
        "/accounts/{account_no}/transactions",
        response_model=TransactionPage,
        responses=_RECORD_PROBLEMS,
        openapi_extra=KEYED,
    )
    def get_account_transactions(
        account_no: str,
        actor: ApiActor,
        uow: UnitOfWorkDep,
        page: PageNumber = 1,
    ) -> TransactionPage:
        """Money in and out of one of the member's accounts, newest first."""
        flows = account_profile(uow, actor, account_no, keyring, page).flows
        return TransactionPage(
            page=flows.number, more=flows.more, items=[TransactionOut.of(i) for i in flows.items]
        )

    @router.get(
        "/transactions/{tx_id}",
        response_model=TransactionDetailOut,
        responses=_RECORD_PROBLEMS,
        openapi_extra=KEYED,
    )
    def get_transaction(
        tx_id: str,
        actor: ApiActor,
        uow: UnitOfWorkDep,
    ) -> TransactionDetailOut:
        """A transaction the member pays or receives, with the decisions the member made
        (on those that belong to it: its customers' payments and the cash they deposit)."""
        view = transaction_view(uow, actor, tx_id, packs)
        decisions = [
            DecisionOut(
                action=d.action,
                score=d.score,
                pack_version=d.pack_version,
                model_version=d.model_version,
                shadow=d.shadow,
                decided_at=d.decided_at,
                reasons=[
                    ReasonOut(
                        rule_id=r.rule_id,
                        text_zh=r.text.zh,
                        text_en=r.text.en,
                        values={v.name: v.value for v in r.values},
                    )
                    for r in d.reasons
                ],
            )
            for d in ([view.live] if view.live else []) + list(view.shadows)
        ]
        return TransactionDetailOut(
            **TransactionOut.of(view.tx).model_dump(),
            decisions=decisions,
            cancelled_at=view.cancelled_at,
        )

    @router.get("/alerts", response_model=AlertPage, responses=_LIST_PROBLEMS, openapi_extra=KEYED)
    def get_alerts(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        status: AlertStatus | None = None,
        action: Action | None = None,
        page: PageNumber = 1,
    ) -> AlertPage:
        """The member's alerts, newest first."""
        found = alert_queue(uow, actor, AlertFilter(status, action, AssigneeFilter.ANYONE, page))
        return AlertPage(
            page=found.number,
            more=found.more,
            items=[AlertOut.of(a) for a in found.items],
        )

    return router
