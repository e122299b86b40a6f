"""An account's counterparties as a graph (资金关系图), with the risk flowing from known fraud.

The picture on the account page: the account in the middle, the accounts it paid or was paid
by around it, and which of them are known fraud accounts (listed on the shared risk list as
fraud accounts or mules, or closed as mules in a case: `fundwall.models.queries`, the seeds
the mule scores' graph features spread from). Money from a known fraud account reaches the
account directly, or two hops away through one of the member's own accounts; those paths are
drawn where the member's own data shows them.

What a member sees here is what its own account's transfers show it, and no more:

- its own accounts in full, with their mule scores' actions (its own customers);
- another institution's account only as a counterparty of its account (or of its own account
  on a path), by its masked number and its institution, and whether it is a known fraud
  account and on the shared risk list (the list is shared by design; a case's outcome only
  as "known fraud", never which member's case it was);
- never another member's customer's mule score, holder, unmasked number, or the transfers of
  another member's account: a path goes through the member's own accounts only.

A police unit reads the same for the accounts in its scope (`fundwall.auth.tenancy`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, Subquery, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.tenancy import accounts_visible, transactions_visible, visible_account
from fundwall.auth.usecase import use_case
from fundwall.domain.decisions import Action
from fundwall.domain.identity import mask_account
from fundwall.models.queries import known_fraud_accounts, listed_fraud
from fundwall.store.model_tables import AccountScoreRow
from fundwall.store.tables import AccountRow, TransactionRow
from fundwall.store.uow import UnitOfWork

GRAPH_COUNTERPARTIES: Final = 25
"""Counterparties drawn and listed, known fraud accounts first, then by money exchanged."""
RISK_PATHS: Final = 20
"""Two-hop paths drawn, the most money first: enough to see where risk comes from."""


@dataclass(frozen=True, slots=True)
class GraphAccount:
    """An account of the picture as the actor may see it."""

    key: str
    """Its id within this graph (masked numbers may coincide)."""
    shown: str
    """Its number: in full for the actor's own accounts (which link to their page), masked
    otherwise."""
    bank: str | None
    own: bool
    known_fraud: bool
    """Listed on the shared risk list as a fraud account or mule, or closed as a mule."""
    listed: bool
    """On the shared risk list (a known fraud account may be known from a case alone)."""
    action: Action | None
    """Its mule score's action: for the actor's own accounts only, None when not scored."""


@dataclass(frozen=True, slots=True)
class Counterparty:
    """An account this one paid or was paid by, and the money each way."""

    account: GraphAccount
    in_fen: int
    """Received from it."""
    out_fen: int
    """Paid to it."""
    count: int


@dataclass(frozen=True, slots=True)
class RiskPath:
    """Money from a known fraud account that reached one of the actor's own accounts before
    that account paid this one: source → via → this account."""

    source: GraphAccount
    via: GraphAccount
    amount_fen: int
    """What the source paid `via` up to via's last payment to this account."""


@dataclass(frozen=True, slots=True)
class AccountGraph:
    """The account, its counterparties and the risk reaching it (see the module)."""

    account: GraphAccount
    counterparties: tuple[Counterparty, ...]
    risk_paths: tuple[RiskPath, ...]
    fraud_counterparties: int
    """Known fraud accounts among all its counterparties (not only those drawn)."""
    fraud_in_fen: int
    """Received from known fraud accounts, over its whole history."""
    fraud_out_fen: int
    """Paid to known fraud accounts, over its whole history."""


@use_case(Permission.VIEW_CUSTOMER_DATA)
def account_graph(uow: UnitOfWork, actor: Actor, account_no: str) -> AccountGraph:
    """The graph of an account the actor may see (NotFound for any other), as the module
    says."""
    session = uow.session
    account = visible_account(session, actor, account_no)
    now = uow.clock.now()
    seeds = known_fraud_accounts(now).subquery()
    tx = TransactionRow
    other = _other(account_no)
    known = other.in_(select(seeds.c[0]))
    fraud_in, fraud_out, fraud_counterparties = session.execute(
        select(
            func.coalesce(func.sum(tx.amount_fen).filter(tx.payee_account == account_no, known), 0),
            func.coalesce(func.sum(tx.amount_fen).filter(tx.payer_account == account_no, known), 0),
            func.count(distinct(other)).filter(known),
        ).where(_touches(account_no))
    ).one()
    rows = _counterparty_rows(session, account_no, known)
    payers = [number for number, _, received, _, _ in rows if received]
    paths = _path_rows(session, actor, account_no, _own(session, actor, payers), seeds)
    numbers = {account_no, *(row[0] for row in rows), *(row[0] for row in paths)}
    accounts = _Accounts(session, actor, now, numbers)
    bank_of = {number: bank for number, bank, *_ in rows}
    centre = accounts.of(account_no, account.institution_code)
    return AccountGraph(
        account=centre,
        counterparties=tuple(
            Counterparty(accounts.of(number, bank), int(into), int(out), int(count))
            for number, bank, into, out, count in rows
        ),
        risk_paths=tuple(
            RiskPath(accounts.of(source, bank), accounts.of(via, bank_of[via]), int(fen))
            for source, bank, via, fen in paths
        ),
        fraud_counterparties=int(fraud_counterparties),
        fraud_in_fen=int(fraud_in),
        fraud_out_fen=int(fraud_out),
    )


def _touches(account_no: str) -> ColumnElement[bool]:
    """SQL on `transactions`: those the account pays or receives."""
    return or_(
        TransactionRow.payer_account == account_no, TransactionRow.payee_account == account_no
    )


def _other(account_no: str) -> ColumnElement[str | None]:
    """SQL on `transactions`: the other side of a transaction of the account."""
    tx = TransactionRow
    return case((tx.payer_account == account_no, tx.payee_account), else_=tx.payer_account)


def _counterparty_rows(
    session: Session, account_no: str, known: ColumnElement[bool]
) -> list[tuple[str, str | None, int, int, int]]:
    """(number, bank, received, paid, transactions) of the account's counterparties, known
    fraud accounts first, then by the money exchanged."""
    tx = TransactionRow
    other = _other(account_no)
    other_bank = case((tx.payer_account == account_no, tx.payee_bank), else_=tx.payer_bank)
    received = func.coalesce(func.sum(tx.amount_fen).filter(tx.payee_account == account_no), 0)
    paid = func.coalesce(func.sum(tx.amount_fen).filter(tx.payer_account == account_no), 0)
    fraud_first = func.max(case((known, 1), else_=0))
    rows = session.execute(
        select(other, func.max(other_bank), received, paid, func.count())
        .where(
            _touches(account_no),
            tx.payer_account.is_not(None),
            tx.payee_account.is_not(None),
        )
        .group_by(other)
        .order_by(fraud_first.desc(), (received + paid).desc(), other)
        .limit(GRAPH_COUNTERPARTIES)
    ).all()
    return [(str(n), bank, int(i), int(o), int(c)) for n, bank, i, o, c in rows]


def _own(session: Session, actor: Actor, numbers: Collection[str]) -> set[str]:
    """Those of `numbers` the actor may see in full (its member's accounts, or for the
    police, those of its scope)."""
    return set(
        session.scalars(
            select(AccountRow.account_no).where(
                AccountRow.account_no.in_(list(numbers)), accounts_visible(actor)
            )
        )
    )


def _path_rows(
    session: Session, actor: Actor, account_no: str, vias: Collection[str], seeds: Subquery
) -> list[tuple[str, str | None, str, int]]:
    """(source, its bank, via, money) of the known fraud accounts that paid one of `vias` (the
    actor's own accounts that paid this one) before via's last payment to this account."""
    if not vias:
        return []
    tx = TransactionRow
    last_paid = (
        select(tx.payer_account.label("via"), func.max(tx.ts).label("last"))
        .where(tx.payee_account == account_no, tx.payer_account.in_(list(vias)))
        .group_by(tx.payer_account)
        .subquery()
    )
    amount = func.sum(tx.amount_fen)
    rows = session.execute(
        select(tx.payer_account, func.max(tx.payer_bank), tx.payee_account, amount)
        .join(last_paid, and_(tx.payee_account == last_paid.c.via, tx.ts <= last_paid.c.last))
        .where(
            tx.payer_account.in_(select(seeds.c[0])),
            tx.payer_account != account_no,
            transactions_visible(actor),
        )
        .group_by(tx.payer_account, tx.payee_account)
        .order_by(amount.desc(), tx.payer_account, tx.payee_account)
        .limit(RISK_PATHS)
    ).all()
    return [(str(source), bank, str(via), int(fen)) for source, bank, via, fen in rows]


class _Accounts:
    """The graph's accounts as the actor sees them, one key per account number."""

    def __init__(self, session: Session, actor: Actor, now: datetime, numbers: set[str]) -> None:
        wanted = sorted(numbers)
        seeds = known_fraud_accounts(now).subquery()
        listed = listed_fraud(now).subquery()
        self.known = set(session.scalars(select(seeds.c[0]).where(seeds.c[0].in_(wanted))))
        self.listed = set(session.scalars(select(listed.c[0]).where(listed.c[0].in_(wanted))))
        self.own = own = _own(session, actor, wanted)
        self.actions = {
            number: Action(action)
            for number, action in session.execute(
                select(AccountScoreRow.account_no, AccountScoreRow.action)
                .join(AccountRow, AccountRow.account_no == AccountScoreRow.account_no)
                .where(AccountScoreRow.account_no.in_(sorted(own)), accounts_visible(actor))
            )
        }
        self.keys: dict[str, str] = {}

    def of(self, number: str, bank: str | None) -> GraphAccount:
        key = self.keys.setdefault(number, f"a{len(self.keys)}")
        own = number in self.own
        return GraphAccount(
            key=key,
            shown=number if own else mask_account(number),
            bank=bank,
            own=own,
            known_fraud=number in self.known,
            listed=number in self.listed,
            action=self.actions.get(number) if own else None,
        )
