"""The account profile (账户画像): holder, class, status, risk, flows, alerts. Its
counterparties, as a graph with the risk reaching it, are `fundwall.accounts.graph`'s.

The holder shows masked. Showing it in full is a separate, deliberate request with a stated
purpose, and each one is audited with who asked, for which account and why. Each read is a
use case (`fundwall.auth.usecase`) for the member's own accounts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, or_, select

from fundwall.accounts.model import TierChange
from fundwall.accounts.queries import latest_tier_change
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import (
    owned_through,
    transactions_visible,
    visible_account,
)
from fundwall.auth.usecase import use_case
from fundwall.cases.model import AlertItem
from fundwall.cases.queries import alert_item, alert_rows
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountClass, AccountStatus, RiskTier
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.domain.parties import PartyKind
from fundwall.monitoring.queries import decided_join
from fundwall.monitoring.transactions import TxItem, tx_item
from fundwall.store.mapping import party_of
from fundwall.store.paging import Page, fetch_page
from fundwall.store.tables import InstitutionRow, PartyRow, TransactionRow
from fundwall.store.uow import UnitOfWork

FLOWS_PAGE: Final = 20
ACCOUNT_ALERTS: Final = 20
PURPOSE_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class HolderView:
    """The account holder, masked unless unmasked on purpose."""

    party_id: str
    kind: PartyKind
    name: str
    id_number: str
    phone: str | None
    home_region: str


@dataclass(frozen=True, slots=True)
class AccountProfile:
    account_no: str
    member: str
    member_name: tuple[str, str]
    holder: HolderView
    account_class: AccountClass
    status: AccountStatus
    risk_tier: RiskTier
    tier_change: TierChange | None
    """The change that set the tier, with its reason (None: the tier it was opened with)."""
    opened_at: datetime | None
    """None when the source does not say (accounts loaded from imported public data)."""
    opening_channel: str
    bound_account: str | None
    balance_fen: int
    in_fen: int
    out_fen: int
    flows: Page[TxItem]
    alerts: tuple[AlertItem, ...]


def _holder(row: PartyRow, keyring: Keyring, *, unmasked: bool) -> HolderView:
    party = party_of(row, keyring)
    if unmasked:
        return HolderView(
            party.party_id,
            party.kind,
            party.name,
            party.id_number.number,
            party.phone.number if party.phone else None,
            party.home_region,
        )
    return HolderView(
        party.party_id,
        party.kind,
        party.shown_name,
        str(party.id_number),
        str(party.phone) if party.phone else None,
        party.home_region,
    )


@use_case(Permission.VIEW_CUSTOMER_DATA)
def account_profile(
    uow: UnitOfWork, actor: Actor, account_no: str, keyring: Keyring, flows_page: int = 1
) -> AccountProfile:
    """The profile of an account the actor's member holds; NotFound for any other. Its alerts
    are those raised on what the member answers for by it: its payments, cash into it."""
    session = uow.session
    account = visible_account(session, actor, account_no)
    party = session.get(PartyRow, account.party_id)
    institution = session.get(InstitutionRow, account.institution_code)
    assert party is not None and institution is not None  # foreign keys guarantee both
    touches = or_(
        TransactionRow.payer_account == account_no, TransactionRow.payee_account == account_no
    )
    decision, condition = decided_join(actor)
    flows = fetch_page(
        session,
        select(TransactionRow, decision.action, decision.score)
        .outerjoin(decision, condition)
        .where(touches, transactions_visible(actor))
        .order_by(TransactionRow.ts.desc(), TransactionRow.tx_id.desc()),
        flows_page,
        FLOWS_PAGE,
        tx_item,
    )
    totals = session.execute(
        select(
            func.coalesce(
                func.sum(TransactionRow.amount_fen).filter(
                    TransactionRow.payee_account == account_no
                ),
                0,
            ),
            func.coalesce(
                func.sum(TransactionRow.amount_fen).filter(
                    TransactionRow.payer_account == account_no
                ),
                0,
            ),
        ).where(touches)
    ).one()
    query, _ = alert_rows(actor)
    alerts = session.execute(
        query.where(owned_through(account_no))
        .order_by(TransactionRow.ts.desc())
        .limit(ACCOUNT_ALERTS)
    ).all()
    return AccountProfile(
        account_no=account.account_no,
        member=account.institution_code,
        member_name=(institution.name_zh, institution.name_en),
        holder=_holder(party, keyring, unmasked=False),
        account_class=AccountClass(account.account_class),
        status=AccountStatus(account.status),
        risk_tier=RiskTier(account.risk_tier),
        tier_change=latest_tier_change(session, account_no),
        opened_at=account.opened_at,
        opening_channel=account.opening_channel,
        bound_account=account.bound_account,
        balance_fen=account.balance_fen,
        in_fen=int(totals[0]),
        out_fen=int(totals[1]),
        flows=flows,
        alerts=tuple(alert_item(row) for row in alerts)
        if actor.can(Permission.WORK_ALERTS)
        else (),
    )


@use_case(Permission.VIEW_CUSTOMER_DATA)
def masked_holder(uow: UnitOfWork, actor: Actor, account_no: str, keyring: Keyring) -> HolderView:
    """The holder of a visible account, masked."""
    account = visible_account(uow.session, actor, account_no)
    party = uow.session.get(PartyRow, account.party_id)
    assert party is not None  # foreign key
    return _holder(party, keyring, unmasked=False)


@use_case(Permission.UNMASK_PERSONAL_DATA)
def unmask_holder(
    uow: UnitOfWork, actor: Actor, account_no: str, purpose: str, keyring: Keyring
) -> HolderView:
    """The holder of an account in full, for a stated purpose; audited and committed.

    The audit record names the account (masked), the fields shown and the purpose; the
    purpose itself must not contain an ID or phone number.
    """
    purpose = purpose.strip()
    if len(purpose) < 2:
        raise InvalidInput("say why the holder's details are needed", "purpose")
    if len(purpose) > PURPOSE_MAX:
        raise InvalidInput(f"at most {PURPOSE_MAX} characters", "purpose")
    account = visible_account(uow.session, actor, account_no)
    party = uow.session.get(PartyRow, account.party_id)
    assert party is not None  # foreign key
    holder = _holder(party, keyring, unmasked=True)
    uow.audit.record(
        actor,
        "unmask_personal_data",
        f"account:{mask_account(account_no)}",
        {
            "party": party.party_id,
            "fields": ["name", "id_number", "phone"],
            "purpose": purpose,
        },
    )
    uow.commit()
    return holder
