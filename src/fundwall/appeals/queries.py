"""The rows the appeals use cases share: whose appeals an actor sees (tenancy in the query),
the measures on a person's accounts, how an appeal is shown, lifting a measure through the
accounts workflow's writers, and the figures the statistics read. Entrypoints never import
this module (tests/test_architecture.py); its writers commit nothing and check nothing of
the actor but which rows it may read."""

from __future__ import annotations

import base64
import binascii
import statistics
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from fundwall.accounts.model import MEMBER_MEASURES, TierSource
from fundwall.accounts.queries import TIER_REFERENCE, end_restriction, write_status, write_tier
from fundwall.appeals import words
from fundwall.appeals.model import (
    OPEN_STATUSES,
    AppealFigures,
    AppealStatus,
    AppealView,
    EvidenceItem,
    Measure,
    Outcome,
    Words,
)
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.config import PolicySettings
from fundwall.crypto import Keyring
from fundwall.domain.accounts import AccountStatus, RiskTier
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.domain.identity import MobilePhone, mask_account
from fundwall.domain.screening import ScreeningAction
from fundwall.engine.controls.model import RestrictionKind
from fundwall.outreach.model import SmsPurpose
from fundwall.outreach.queries import queue_sms
from fundwall.phones.queries import current_binding
from fundwall.screening.queries import undone_on_appeal
from fundwall.store.appeal_tables import AppealEvidenceRow, AppealRow
from fundwall.store.engine_tables import AccountRestrictionRow, AccountStatusChangeRow
from fundwall.store.police_tables import PoliceOrderRow
from fundwall.store.tables import AccountRow, InstitutionRow, PartyRow
from fundwall.store.uow import UnitOfWork

RESTRICTION_KEY: Final = "r"
STATUS_KEY: Final = "s"
"""A measure's key in the portal: `r<restriction id>`, or `s<account number>` for the
account's status (非柜面暂停 set by the bank)."""


def person_actor(id_hash: str) -> Actor:
    """The actor of a person the portal verified, named by the keyed hash of their ID number
    in base32 (52 characters without padding; no 0 or 1, so nothing in it reads as an ID or
    a mobile number to the audit log's guard)."""
    name = base64.b32encode(bytes.fromhex(id_hash)).decode().rstrip("=")
    return Actor(ActorKind.PERSON, name, Role.PUBLIC)


def person_hash(actor: Actor) -> str:
    """The keyed hash of the ID number of the person `actor` is; PermissionDenied for any
    other actor."""
    if actor.kind is not ActorKind.PERSON or actor.role is not Role.PUBLIC:
        raise PermissionDenied(f"only the person verified by the portal ({actor.audit_id})")
    try:
        raw = base64.b32decode(actor.name + "=" * (-len(actor.name) % 8))
    except (binascii.Error, ValueError):
        raise PermissionDenied(f"not a verified person ({actor.audit_id})") from None
    return raw.hex()


def person_accounts(session: Session, id_hash: str) -> list[AccountRow]:
    """Every account of the person (every party with their ID number's keyed hash), closed
    ones included, in a stable order."""
    return list(
        session.scalars(
            select(AccountRow)
            .join(PartyRow, PartyRow.party_id == AccountRow.party_id)
            .where(PartyRow.id_number_hash == id_hash)
            .order_by(AccountRow.institution_code, AccountRow.account_no)
        )
    )


def bank_words(session: Session, codes: Iterable[str]) -> dict[str, Words]:
    """The names of institutions by code, in both languages."""
    rows = session.scalars(select(InstitutionRow).where(InstitutionRow.code.in_(set(codes))))
    return {row.code: Words(row.name_zh, row.name_en) for row in rows}


def _in_force(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        AccountRestrictionRow.lifted_at.is_(None),
        AccountRestrictionRow.starts_at <= now,
        or_(AccountRestrictionRow.ends_at.is_(None), AccountRestrictionRow.ends_at > now),
    )


def _open_appeals(session: Session, measures: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(AppealRow.open_key, AppealRow.id).where(AppealRow.open_key.in_(list(measures)))
    )
    return {key: appeal for key, appeal in rows if key is not None}


def stored_measure(key: str) -> str:
    """How an appeal row names the measure of portal key `key`."""
    if key.startswith(RESTRICTION_KEY) and key[1:].isdigit():
        return f"restriction:{int(key[1:])}"
    if key.startswith(STATUS_KEY) and len(key) > 1:
        return f"status:{key[1:]}"
    raise NotFound("measure", key[:20])


def measures_of(session: Session, id_hash: str, now: datetime) -> list[Measure]:
    """The measures in force on the person's open accounts, each in plain words with where
    to appeal; a police order's reason and documents are the police's and not shown."""
    accounts = {
        row.account_no: row
        for row in person_accounts(session, id_hash)
        if row.status != AccountStatus.CLOSED.value
    }
    if not accounts:
        return []
    restrictions = list(
        session.scalars(
            select(AccountRestrictionRow)
            .where(AccountRestrictionRow.account_no.in_(list(accounts)), *_in_force(now))
            .order_by(AccountRestrictionRow.id)
        )
    )
    orders = dict(
        session.execute(
            select(PoliceOrderRow.restriction_id, PoliceOrderRow.police_unit).where(
                PoliceOrderRow.restriction_id.in_([row.id for row in restrictions])
            )
        ).all()
    )
    suspended = [
        row for row in accounts.values() if row.status == AccountStatus.NON_COUNTER_SUSPENDED.value
    ]
    names = bank_words(
        session, [row.institution_code for row in accounts.values()] + list(orders.values())
    )
    found: list[tuple[str, Measure]] = []
    for restriction in restrictions:
        account = accounts[restriction.account_no]
        bank = names[account.institution_code]
        appealable = RestrictionKind(restriction.kind) in MEMBER_MEASURES
        unit = orders.get(restriction.id)
        authority = names.get(unit, Words("公安机关", "the police")) if unit else bank
        found.append(
            (
                f"restriction:{restriction.id}",
                Measure(
                    key=f"{RESTRICTION_KEY}{restriction.id}",
                    account=mask_account(account.account_no),
                    bank=account.institution_code,
                    bank_name=bank,
                    kind=restriction.kind,
                    what=words.what(restriction.kind, restriction.amount_fen),
                    why=restriction.reason if appealable else "",
                    where=words.where_bank(bank) if appealable else words.where_police(authority),
                    bring=words.bring(appealable),
                    since=restriction.starts_at,
                    until=restriction.ends_at,
                    appealable=appealable,
                    open_appeal=None,
                ),
            )
        )
    for account in suspended:
        change = _latest_status_change(session, account.account_no)
        bank = names[account.institution_code]
        found.append(
            (
                f"status:{account.account_no}",
                Measure(
                    key=f"{STATUS_KEY}{account.account_no}",
                    account=mask_account(account.account_no),
                    bank=account.institution_code,
                    bank_name=bank,
                    kind=words.STATUS_SUSPENDED,
                    what=words.what(words.STATUS_SUSPENDED, None),
                    why=change.reason if change is not None else "",
                    where=words.where_bank(bank),
                    bring=words.bring(True),
                    since=change.changed_at if change is not None else None,
                    until=None,
                    appealable=True,
                    open_appeal=None,
                ),
            )
        )
    appeals = _open_appeals(session, [stored for stored, _ in found])
    return [replace(measure, open_appeal=appeals.get(stored)) for stored, measure in found]


def _latest_status_change(session: Session, account_no: str) -> AccountStatusChangeRow | None:
    return session.scalars(
        select(AccountStatusChangeRow)
        .where(AccountStatusChangeRow.account_no == account_no)
        .order_by(AccountStatusChangeRow.id.desc())
        .limit(1)
    ).first()


def in_force(session: Session, row: AppealRow, now: datetime) -> bool:
    """Whether the measure an appeal is about still holds."""
    kind, _, ref = row.measure.partition(":")
    if kind == "restriction":
        restriction = session.get(AccountRestrictionRow, int(ref))
        return restriction is not None and (
            restriction.lifted_at is None
            and restriction.starts_at <= now
            and (restriction.ends_at is None or restriction.ends_at > now)
        )
    account = session.get(AccountRow, ref)
    return account is not None and account.status == AccountStatus.NON_COUNTER_SUSPENDED.value


_TIER_ACTIONS: Final = frozenset({ScreeningAction.TIER_MEDIUM, ScreeningAction.TIER_HIGH})
_RESTRICT: Final = frozenset({ScreeningAction.RESTRICT})
_SUSPEND: Final = frozenset({ScreeningAction.SUSPEND_NON_COUNTER})
"""The screening actions whose measure each kind of lifting undoes."""


def lift_measure(
    uow: UnitOfWork, actor: Actor, row: AppealRow, why: str, policy: PolicySettings
) -> None:
    """Lift the measure an appeal is about through the accounts workflow's writers, in the
    caller's transaction (a status change commits it: call this last). A tier's measure
    lowers the tier to low, which lifts every measure of the tier; a measure no longer in
    force is left as it is."""
    now = uow.clock.now()
    if not in_force(uow.session, row, now):
        return
    kind, _, ref = row.measure.partition(":")
    if kind == "restriction":
        restriction = uow.session.get(AccountRestrictionRow, int(ref))
        assert restriction is not None  # in force
        if restriction.reference is not None and restriction.reference.startswith(TIER_REFERENCE):
            account = uow.session.get(AccountRow, restriction.account_no)
            assert account is not None
            write_tier(uow, actor, account, RiskTier.LOW, why, TierSource.APPEAL, policy)
            undone_on_appeal(uow.session, account.account_no, _TIER_ACTIONS, None, row.id)
        else:
            end_restriction(uow, actor, restriction, why)
            undone_on_appeal(uow.session, restriction.account_no, _RESTRICT, restriction.id, row.id)
        uow.commit()
        return
    account = uow.session.get(AccountRow, ref)
    assert account is not None  # in force
    undone_on_appeal(uow.session, account.account_no, _SUSPEND, None, row.id)
    write_status(uow, actor, account, AccountStatus.NORMAL, why)


def visible_appeals(actor: Actor) -> Select[AppealRow]:
    """The appeals `actor` may read: a person their own, a police unit those it was asked
    about, a member its own accounts', the hub and the operator every one."""
    query = select(AppealRow)
    if actor.role is Role.PUBLIC:
        return query.where(AppealRow.person_hash == person_hash(actor))
    if actor.role.is_police:
        return query.where(AppealRow.police_unit == (actor.member or ""))
    if actor.member is not None:
        return query.where(AppealRow.member == actor.member)
    return query


def visible_appeal(session: Session, actor: Actor, appeal_id: int) -> AppealRow:
    """One appeal `actor` may read; NotFound for any other, as for one that does not exist."""
    if type(appeal_id) is not int:
        raise NotFound("appeal", str(appeal_id)[:20])
    row = session.scalars(visible_appeals(actor).where(AppealRow.id == appeal_id)).first()
    if row is None:
        raise NotFound("appeal", str(appeal_id))
    return row


def evidence_of(session: Session, appeal_ids: Iterable[int]) -> dict[int, list[EvidenceItem]]:
    found: dict[int, list[EvidenceItem]] = {}
    rows = session.execute(
        select(
            AppealEvidenceRow.appeal_id,
            AppealEvidenceRow.id,
            AppealEvidenceRow.filename,
            AppealEvidenceRow.media_type,
            AppealEvidenceRow.size_bytes,
            AppealEvidenceRow.sm3,
            AppealEvidenceRow.added_at,
        )
        .where(AppealEvidenceRow.appeal_id.in_(list(appeal_ids)))
        .order_by(AppealEvidenceRow.id)
    )
    for appeal_id, evidence_id, name, media_type, size, sm3, added_at in rows:
        item = EvidenceItem(evidence_id, name, media_type, size, sm3, added_at)
        found.setdefault(appeal_id, []).append(item)
    return found


def views(
    session: Session, rows: list[AppealRow], keyring: Keyring, now: datetime
) -> list[AppealView]:
    """The appeals as shown: accounts and the contact phone masked."""
    names = bank_words(session, {row.member for row in rows})
    evidence = evidence_of(session, [row.id for row in rows])
    restriction_ids = [
        int(ref)
        for kind, _, ref in (row.measure.partition(":") for row in rows)
        if kind == "restriction" and ref.isdigit()
    ]
    amounts: dict[int, int | None] = (
        dict(
            session.execute(
                select(AccountRestrictionRow.id, AccountRestrictionRow.amount_fen).where(
                    AccountRestrictionRow.id.in_(restriction_ids)
                )
            ).all()
        )
        if restriction_ids
        else {}
    )
    shown = []
    for row in rows:
        contact = (
            str(MobilePhone(keyring.decrypt(row.contact_enc)))
            if row.contact_enc is not None
            else None
        )
        status = AppealStatus(row.status)
        shown.append(
            AppealView(
                id=row.id,
                member=row.member,
                bank_name=names[row.member],
                account=mask_account(row.account_no),
                measure=row.measure,
                measure_kind=row.measure_kind,
                measure_words=words.what(row.measure_kind, _amount(row.measure, amounts)),
                measure_reason=row.measure_reason,
                reason=row.reason,
                contact=contact,
                status=status,
                filed_at=row.filed_at,
                deadline=row.deadline,
                overdue=status in OPEN_STATUSES and row.deadline <= now,
                police_unit=row.police_unit,
                question=row.question,
                asked_at=row.asked_at,
                opinion=row.opinion,
                opinion_at=row.opinion_at,
                outcome=Outcome(row.outcome) if row.outcome else None,
                answer=row.answer,
                decided_at=row.decided_at,
                evidence=tuple(evidence.get(row.id, ())),
            )
        )
    return shown


def overdue(now: datetime) -> ColumnElement[bool]:
    """WHERE clause: appeals still undecided after their deadline."""
    return (AppealRow.status.in_([s.value for s in OPEN_STATUSES])) & (AppealRow.deadline <= now)


def appeal_figures(
    session: Session, since: datetime, until: datetime, now: datetime, member: str | None = None
) -> list[AppealFigures]:
    """Per member, the appeals filed in [since, until): by outcome, still open, overdue
    (undecided past the deadline, or decided after it) and the hours the decided ones took
    (median, longest). The statistics read this."""
    query = select(
        AppealRow.member,
        AppealRow.status,
        AppealRow.outcome,
        AppealRow.filed_at,
        AppealRow.deadline,
        AppealRow.decided_at,
    ).where(AppealRow.filed_at >= since, AppealRow.filed_at < until)
    if member is not None:
        query = query.where(AppealRow.member == member)
    per: dict[str, list[tuple[str, str | None, datetime, datetime, datetime | None]]] = {}
    for code, status, outcome, filed, deadline, decided in session.execute(query):
        per.setdefault(code, []).append((status, outcome, filed, deadline, decided))
    figures = []
    for code in sorted(per):
        rows = per[code]
        hours = [(d - f).total_seconds() / 3600 for _, _, f, _, d in rows if d is not None]
        figures.append(
            AppealFigures(
                member=code,
                filed=len(rows),
                lifted=sum(o == Outcome.LIFTED.value for _, o, _, _, _ in rows),
                maintained=sum(o == Outcome.MAINTAINED.value for _, o, _, _, _ in rows),
                open=sum(s != AppealStatus.DECIDED.value for s, _, _, _, _ in rows),
                overdue=sum(
                    (d is None and deadline <= now) or (d is not None and d > deadline)
                    for _, _, _, deadline, d in rows
                ),
                answered_median_hours=round(statistics.median(hours), 1) if hours else None,
                answered_max_hours=round(max(hours), 1) if hours else None,
            )
        )
    return figures


def notify_person(
    uow: UnitOfWork,
    actor: Actor,
    row: AppealRow,
    template: str,
    variables: dict[str, str],
) -> int | None:
    """Queue an appeal's SMS (`appeal_received`, `appeal_answer`) in the caller's
    transaction: to the contact phone the person gave, else the phone the bank bound to
    them; None when there is neither (the portal shows it all the same)."""
    if row.contact_enc is not None:
        phone = uow.keyring.decrypt(row.contact_enc)
    else:
        binding = current_binding(uow.session, row.member, row.party_id)
        if binding is None:
            return None
        phone = uow.keyring.decrypt(binding.phone_enc)
    return queue_sms(
        uow,
        actor,
        phone=phone,
        template=template,
        variables={"account_tail": row.account_no[-4:], "appeal_no": str(row.id), **variables},
        member=row.member,
        purpose=SmsPurpose.APPEAL,
        party_id=row.party_id,
        idempotency_key=f"appeal:{row.id}:{template}",
    )


def _amount(measure: str, amounts: dict[int, int | None]) -> int | None:
    """The amount of the restriction an appeal is about (a daily cap's), None for a status."""
    kind, _, ref = measure.partition(":")
    return amounts.get(int(ref)) if kind == "restriction" and ref.isdigit() else None
