"""The SQL of screening: the account base read from the store in a few set-wise queries, and
whose runs, items and actions an actor sees. Entrypoints never import this.

A member's actors see the runs they started and the hub's whole-region runs, and of any run
only the items of the member's own accounts; an actor of no member (the hub, the operator)
sees every run and item. Account numbers show in full only to the member holding the
account and to the operator; the hub reads them masked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import ColumnElement, Select, distinct, func, or_, select, true
from sqlalchemy.orm import Session

from fundwall.accounts.queries import moved_money
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Role
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import NotFound
from fundwall.domain.identity import mask_account
from fundwall.domain.parties import PartyKind
from fundwall.domain.screening import Check, Outcome, ScreeningAction
from fundwall.domain.transactions import TransactionKind
from fundwall.screening.base import BASE_SCHEMA
from fundwall.screening.model import MemberFigures, TargetView
from fundwall.store.engine_tables import PunishmentRow
from fundwall.store.phone_tables import PhoneBindingRow
from fundwall.store.screening_tables import (
    ScreeningActionRow,
    ScreeningFindingRow,
    ScreeningItemRow,
    ScreeningRunRow,
    ScreeningTargetRow,
)
from fundwall.store.tables import AccountRow, PartyRow, TransactionRow

_TIME = pl.Datetime("us", "UTC")


def base_table(session: Session, as_of: datetime, member: str | None) -> pa.Table:
    """The store's accounts opened by `as_of` as a table in `BASE_SCHEMA`. Activity and
    balance are read for `member`'s accounts only (every account when None): the checks
    that read them look at the run's own accounts, while the holders, bindings and
    openings of the whole region serve the checks across members."""
    a, p = AccountRow, PartyRow
    accounts = _frame(
        session.execute(
            select(
                a.account_no, a.institution_code, a.party_id, p.id_number_hash, p.kind,
                a.account_class, a.status, a.opened_at, a.last_active_at, a.balance_fen,
                a.opening_device_id, a.opening_ip, a.opening_agent,
            )
            .join(p, p.party_id == a.party_id)
            .where(or_(a.opened_at.is_(None), a.opened_at <= as_of))
        ).all(),
        {
            "account_no": pl.String, "member": pl.String, "party_id": pl.String,
            "holder": pl.String, "kind": pl.String, "account_class": pl.String,
            "status": pl.String, "opened_at": _TIME, "last_active_at": _TIME,
            "balance_fen": pl.Int64, "device": pl.String, "ip": pl.String, "agent": pl.String,
        },
    )  # fmt: skip
    tx = TransactionRow
    paid_here = [tx.payer_bank == member] if member is not None else []
    received_here = [tx.payee_bank == member] if member is not None else []
    activity = (
        _frame(
            session.execute(
                select(tx.payer_account, func.max(tx.ts))
                .where(tx.payer_account.is_not(None), tx.ts <= as_of, *paid_here)
                .group_by(tx.payer_account)
                .union_all(
                    select(tx.payee_account, func.max(tx.ts))
                    .where(tx.kind == TransactionKind.DEPOSIT.value, tx.ts <= as_of, *received_here)
                    .group_by(tx.payee_account)
                )
            ).all(),
            {"account_no": pl.String, "last": _TIME},
        )
        .group_by("account_no")
        .agg(pl.col("last").max())
    )
    moves = (
        _frame(
            session.execute(
                select(tx.payee_account, func.sum(tx.amount_fen))
                .where(tx.payee_account.is_not(None), moved_money(), *received_here)
                .group_by(tx.payee_account)
                .union_all(
                    select(tx.payer_account, -func.sum(tx.amount_fen))
                    .where(tx.payer_account.is_not(None), moved_money(), *paid_here)
                    .group_by(tx.payer_account)
                )
            ).all(),
            {"account_no": pl.String, "moved": pl.Int64},
        )
        .group_by("account_no")
        .agg(pl.col("moved").sum())
    )
    b = PhoneBindingRow
    bindings = _frame(
        session.execute(
            select(b.member, b.party_id, b.phone_hash).where(b.unbound_at.is_(None))
        ).all(),
        {"member": pl.String, "party_id": pl.String, "phone": pl.String},
    )
    listed = PunishmentRow
    punished = _frame(
        session.execute(
            select(listed.id_hash, func.max(listed.listed_until))
            .where(
                listed.listed_from <= as_of,
                listed.listed_until > as_of,
                or_(listed.lifted_at.is_(None), listed.lifted_at > as_of),
            )
            .group_by(listed.id_hash)
        ).all(),
        {"holder": pl.String, "punished_until": _TIME},
    )
    table = (
        accounts.join(activity, on="account_no", how="left")
        .join(moves, on="account_no", how="left")
        .join(bindings, on=["member", "party_id"], how="left")
        .join(punished, on="holder", how="left")
        .sort("account_no")
        .select(
            "account_no",
            "member",
            "party_id",
            "holder",
            (pl.col("kind") == PartyKind.PERSON.value).alias("person"),
            "account_class",
            (pl.col("status") == AccountStatus.CLOSED.value).alias("closed"),
            "opened_at",
            pl.max_horizontal("last_active_at", "last").alias("active_at"),
            (pl.col("balance_fen") + pl.col("moved").fill_null(0)).alias("balance_fen"),
            "device",
            "ip",
            pl.when(pl.col("kind") == PartyKind.PERSON.value).then(pl.col("phone")).alias("phone"),
            "agent",
            "punished_until",
        )
    )
    return table.to_arrow().cast(BASE_SCHEMA)


def _frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def runs_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `screening_runs`: a member's own runs and the hub's whole-region
    runs for an actor of a member; every run for an actor of none."""
    return runs_of(actor.member)


def runs_of(member: str | None) -> ColumnElement[bool]:
    """WHERE clause on `screening_runs`: `member`'s own runs and the hub's whole-region runs
    (every run for None)."""
    if member is None:
        return true()
    return or_(ScreeningRunRow.member == member, ScreeningRunRow.member.is_(None))


def items_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `screening_items`: the member's own accounts (all for no member)."""
    return items_of_member(actor.member)


def items_of_member(member: str | None) -> ColumnElement[bool]:
    """WHERE clause on `screening_items`: `member`'s accounts (all for None)."""
    if member is None:
        return true()
    return ScreeningItemRow.member == member


def visible_run(session: Session, actor: Actor, run_id: int) -> ScreeningRunRow:
    """The run if the actor may see it; NotFound otherwise, as if it did not exist."""
    row = session.scalars(
        select(ScreeningRunRow).where(ScreeningRunRow.id == run_id, runs_visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound("screening run", str(run_id))
    return row


def actions_visible(actor: Actor) -> ColumnElement[bool]:
    """WHERE clause on `screening_actions`: the member's own (every one for no member)."""
    if actor.member is None:
        return true()
    return ScreeningActionRow.member == actor.member


def visible_action(session: Session, actor: Actor, action_id: int) -> ScreeningActionRow:
    row = session.scalars(
        select(ScreeningActionRow).where(ScreeningActionRow.id == action_id, actions_visible(actor))
    ).one_or_none()
    if row is None:
        raise NotFound("screening action", str(action_id))
    return row


def shown_account(actor: Actor, member: str, account_no: str) -> str:
    """An account number in full for the member holding it and the operator, masked for
    anyone else (the hub reads the region's work lists without customers' numbers)."""
    if actor.member == member or actor.role is Role.OPERATOR:
        return account_no
    return mask_account(account_no)


def items_of(run_id: int, actor: Actor) -> Select[ScreeningItemRow]:
    """The run's items the actor sees, in the order they were found."""
    return (
        select(ScreeningItemRow)
        .where(ScreeningItemRow.run_id == run_id, items_visible(actor))
        .order_by(ScreeningItemRow.id)
    )


def targets_of(session: Session, actor: Actor, where: Any) -> list[tuple[int, TargetView]]:
    """(item id, target) of the targets matching `where`, oldest action first."""
    found = session.execute(
        select(ScreeningTargetRow, ScreeningActionRow.action)
        .join(ScreeningActionRow, ScreeningActionRow.id == ScreeningTargetRow.action_id)
        .where(where)
        .order_by(ScreeningTargetRow.id)
    ).all()
    return [(target.item_id, target_view(actor, target, action)) for target, action in found]


def target_view(actor: Actor, target: ScreeningTargetRow, action: str) -> TargetView:
    return TargetView(
        action_id=target.action_id,
        action=ScreeningAction(action),
        account_no=shown_account(actor, target.member, target.account_no),
        member=target.member,
        outcome=Outcome(target.outcome),
        detail=target.detail,
        done_at=target.done_at,
    )


def member_figures(
    session: Session, member: str | None, since: datetime | None, until: datetime | None
) -> list[MemberFigures]:
    """Per member (`member` alone, or every one for None), the screening of the runs started
    and the actions done from `since` to `until` (either open): what `screening_figures`
    answers and the official statistics count (`fundwall.reports`)."""
    run, item, finding = ScreeningRunRow, ScreeningItemRow, ScreeningFindingRow
    period = []
    if since is not None:
        period.append(run.started_at >= since)
    if until is not None:
        period.append(run.started_at < until)
    runs = session.execute(
        select(run.id, run.screened).where(runs_of(member), *period).order_by(run.id)
    ).all()
    run_ids = [run_id for run_id, _ in runs]
    latest: dict[str, int] = {}
    run_count: dict[str, int] = defaultdict(int)
    for _, screened in runs:
        for code, count in screened.items():
            if member is None or code == member:
                latest[code] = count
                run_count[code] += 1
    in_runs = (item.run_id.in_(run_ids), items_of_member(member))
    found = dict(
        session.execute(
            select(item.member, func.count(distinct(item.account_no)))
            .where(*in_runs)
            .group_by(item.member)
        ).all()
    )
    by_check: dict[str, dict[Check, int]] = defaultdict(dict)
    for code, check, count in session.execute(
        select(item.member, finding.check, func.count(distinct(item.account_no)))
        .join(finding, finding.item_id == item.id)
        .where(*in_runs)
        .group_by(item.member, finding.check)
    ):
        by_check[code][Check(check)] = int(count)
    done = _done_accounts(session, member, since, until)
    codes = sorted(set(latest) | set(found) | set(done))
    return [
        MemberFigures(
            member=code,
            runs=run_count.get(code, 0),
            screened=latest.get(code, 0),
            found=int(found.get(code, 0)),
            by_check=by_check.get(code, {}),
            notified=done.get(code, {}).get("notified", 0),
            cleaned=done.get(code, {}).get("cleaned", 0),
            closed=done.get(code, {}).get("closed", 0),
        )
        for code in codes
    ]


def _done_accounts(
    session: Session, member: str | None, since: datetime | None, until: datetime | None
) -> dict[str, dict[str, int]]:
    """Per member, the distinct accounts notified, cleaned (any measure) and closed by
    actions done in the period."""
    target, action = ScreeningTargetRow, ScreeningActionRow
    period = [target.outcome == Outcome.DONE.value]
    if since is not None:
        period.append(target.done_at >= since)
    if until is not None:
        period.append(target.done_at < until)
    if member is not None:
        period.append(target.member == member)
    kinds = {
        "notified": [ScreeningAction.NOTIFY.value],
        "cleaned": [kind.value for kind in ScreeningAction if kind.cleans],
        "closed": [ScreeningAction.CLOSE.value],
    }
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name, chosen in kinds.items():
        for code, count in session.execute(
            select(target.member, func.count(distinct(target.account_no)))
            .join(action, action.id == target.action_id)
            .where(action.action.in_(chosen), *period)
            .group_by(target.member)
        ):
            counts[code][name] = int(count)
    return counts


def undone_on_appeal(
    session: Session,
    account_no: str,
    actions: frozenset[ScreeningAction],
    restriction_id: int | None,
    appeal_id: int,
) -> int:
    """Mark the screening measures done on the account that a lifted appeal undid (`actions`,
    and for a restriction its id) as lifted on the holder's appeal; how many. Not committed:
    the appeal's decision commits it."""
    query = (
        select(ScreeningTargetRow)
        .join(ScreeningActionRow, ScreeningActionRow.id == ScreeningTargetRow.action_id)
        .where(
            ScreeningTargetRow.account_no == account_no,
            ScreeningTargetRow.outcome == Outcome.DONE.value,
            ScreeningActionRow.action.in_([action.value for action in actions]),
        )
    )
    if restriction_id is not None:
        query = query.where(ScreeningTargetRow.restriction_id == restriction_id)
    targets = session.scalars(query).all()
    for target in targets:
        target.outcome = Outcome.APPEALED.value
        target.detail = f"lifted on the holder's appeal {appeal_id}"
    return len(targets)
