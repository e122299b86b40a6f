"""The bank's side of appeals (异议申诉): its queue with deadlines, an appeal with its evidence,
asking the anti-fraud centre (a police unit) for an opinion, and the decision: **lifted**,
which lifts the measure through the accounts workflow's writers in the same transaction (the
engine passes the person's next payment), or **maintained**, with a reasoned answer to the
person either way. The police unit asked reads those appeals and answers with its opinion;
the hub reads every member's overdue appeals and the figures.

A member's actor reads and decides its own accounts' appeals only (another's is not found);
a police unit's actor only those it was asked about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select

from fundwall.appeals.filing import written_text
from fundwall.appeals.model import (
    OPEN_STATUSES,
    AppealFigures,
    AppealStatus,
    AppealView,
    EvidenceItem,
    Outcome,
)
from fundwall.appeals.queries import (
    appeal_figures,
    in_force,
    lift_measure,
    notify_person,
    overdue,
    views,
    visible_appeal,
    visible_appeals,
)
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import AppealSettings, PolicySettings, PortalSettings, get_settings
from fundwall.crypto import Keyring, sm3_hex
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.domain.identity import mask_account
from fundwall.domain.institutions import InstitutionKind
from fundwall.outreach.templates import clause
from fundwall.store.appeal_tables import AppealEvidenceRow, AppealRow
from fundwall.store.tables import InstitutionRow
from fundwall.store.uow import UnitOfWork

QUEUE_LIMIT = 500
"""At most this many appeals a queue page lists (oldest deadline first)."""
ANSWER_IN_SMS = 40
"""The answer's first characters the SMS carries (the portal shows it whole): 40 Chinese
characters keep the message within its segments."""
OUTCOME_WORDS = {Outcome.LIFTED: "已解除限制", Outcome.MAINTAINED: "维持原措施"}


def _member(actor: Actor) -> str:
    if actor.member is None or actor.role.is_police:
        raise PermissionDenied(
            f"the appeals of a bank's accounts are the bank's ({actor.audit_id})"
        )
    return actor.member


def _open(row: AppealRow) -> None:
    if AppealStatus(row.status) not in OPEN_STATUSES:
        raise Conflict(f"appeal {row.id} was decided already ({row.outcome})")


@use_case(Permission.REVIEW_APPEALS)
def appeal_queue(
    uow: UnitOfWork, actor: Actor, keyring: Keyring, *, decided: bool = False
) -> list[AppealView]:
    """The member's open appeals, the nearest deadline first (overdue ones flagged), or its
    decided ones, the latest first."""
    _member(actor)
    query = visible_appeals(actor)
    if decided:
        query = query.where(AppealRow.status == AppealStatus.DECIDED.value).order_by(
            AppealRow.decided_at.desc(), AppealRow.id.desc()
        )
    else:
        query = query.where(AppealRow.status.in_([s.value for s in OPEN_STATUSES])).order_by(
            AppealRow.deadline, AppealRow.id
        )
    rows = list(uow.session.scalars(query.limit(QUEUE_LIMIT)))
    return views(uow.session, rows, keyring, uow.clock.now())


@use_case(Permission.REVIEW_APPEALS)
def appeal_detail(uow: UnitOfWork, actor: Actor, appeal_id: int, keyring: Keyring) -> AppealView:
    """One of the member's appeals, whole: the reason, the files, the opinion."""
    _member(actor)
    row = visible_appeal(uow.session, actor, appeal_id)
    (view,) = views(uow.session, [row], keyring, uow.clock.now())
    return view


@use_case(Permission.REVIEW_APPEALS)
def appeal_evidence_file(
    uow: UnitOfWork, actor: Actor, appeal_id: int, evidence_id: int, keyring: Keyring
) -> tuple[EvidenceItem, bytes]:
    """A file of one of the member's appeals, decrypted and held against its SM3 digest;
    reading it is audited."""
    _member(actor)
    visible_appeal(uow.session, actor, appeal_id)
    stored = uow.session.get(AppealEvidenceRow, evidence_id)
    if stored is None or stored.appeal_id != appeal_id:
        raise NotFound("appeal evidence", str(evidence_id))
    content = keyring.decrypt_bytes(stored.content_enc)
    if sm3_hex(content) != stored.sm3:
        raise Conflict(f"appeal evidence {evidence_id} does not match its SM3 digest")
    uow.audit.record(
        actor, "appeal_evidence_read", f"appeal:{appeal_id}", {"evidence": evidence_id}
    )
    uow.commit()
    item = EvidenceItem(
        stored.id, stored.filename, stored.media_type, stored.size_bytes, stored.sm3,
        stored.added_at,
    )  # fmt: skip
    return item, content


@use_case(Permission.REVIEW_APPEALS)
def ask_opinion(
    uow: UnitOfWork,
    actor: Actor,
    appeal_id: int,
    police_unit: str,
    question: str,
    *,
    settings: AppealSettings | None = None,
) -> None:
    """Ask a police unit (the anti-fraud centre) for its opinion on one of the member's open
    appeals; the appeal then awaits it. One question at a time."""
    limits = settings or get_settings().appeals
    _member(actor)
    row = visible_appeal(uow.session, actor, appeal_id)
    _open(row)
    if row.status == AppealStatus.AWAITING_OPINION.value:
        raise Conflict(f"appeal {appeal_id} awaits the opinion of {row.police_unit} already")
    asked = written_text(question, "question", limits.answer_max_chars)
    unit = uow.session.get(InstitutionRow, police_unit) if isinstance(police_unit, str) else None
    if unit is None or unit.kind != InstitutionKind.POLICE_UNIT.value:
        raise InvalidInput("not a police unit of the region", "police_unit")
    record = uow.audit.record(
        actor, "ask_appeal_opinion", f"appeal:{appeal_id}", {"police_unit": unit.code}
    )
    row.status = AppealStatus.AWAITING_OPINION.value
    row.police_unit, row.question = unit.code, asked
    row.asked_at, row.asked_by = record.ts, record.actor
    row.opinion = row.opinion_at = row.opinion_by = None
    row.revision = record.seq
    uow.commit()


@use_case(Permission.REVIEW_APPEALS)
def decide_appeal(
    uow: UnitOfWork,
    actor: Actor,
    appeal_id: int,
    outcome: Outcome,
    answer: str,
    keyring: Keyring,
    *,
    settings: AppealSettings | None = None,
    policy: PolicySettings | None = None,
    portal: PortalSettings | None = None,
) -> AppealView:
    """End one of the member's open appeals: lifted (the measure ends now, in the same
    transaction, so the engine passes the next payment) or maintained (the measure must
    still hold), with the answer the person reads. An appeal awaiting the police's opinion
    may be decided: the bank decides, the opinion informs."""
    limits = settings or get_settings().appeals
    rules = policy or get_settings().policy
    portal = portal or get_settings().portal
    _member(actor)
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise InvalidInput("lifted or maintained", "outcome") from None
    row = visible_appeal(uow.session, actor, appeal_id)
    _open(row)
    said = written_text(answer, "answer", limits.answer_max_chars)
    now = uow.clock.now()
    if outcome is Outcome.MAINTAINED and not in_force(uow.session, row, now):
        raise Conflict(
            f"the measure on account {mask_account(row.account_no)} no longer holds: answer "
            "lifted, telling the person it ended"
        )
    record = uow.audit.record(
        actor,
        "decide_appeal",
        f"appeal:{appeal_id}",
        {"outcome": outcome.value, "overdue": row.deadline <= now},
    )
    row.status = AppealStatus.DECIDED.value
    row.outcome, row.answer = outcome.value, said
    row.decided_at, row.decided_by = record.ts, record.actor
    row.open_key = None
    row.revision = record.seq
    stated = clause(said)
    brief = stated if len(stated) <= ANSWER_IN_SMS else stated[: ANSWER_IN_SMS - 1] + "…"
    notify_person(
        uow, actor, row, "appeal_answer",
        {"outcome": OUTCOME_WORDS[outcome], "reason": brief, "portal_url": portal.public_url},
    )  # fmt: skip
    if outcome is Outcome.LIFTED:
        lift_measure(uow, actor, row, f"appeal {appeal_id} upheld (异议申诉)", rules)
    else:
        uow.commit()
    (view,) = views(uow.session, [row], keyring, now)
    return view


@use_case(Permission.GIVE_APPEAL_OPINIONS)
def opinion_requests(
    uow: UnitOfWork, actor: Actor, keyring: Keyring, *, answered: bool = False
) -> list[AppealView]:
    """The appeals the police unit was asked about and has not answered (or has), without
    the person's contact phone."""
    status = AppealStatus.AWAITING_OPINION.value
    query = visible_appeals(actor)
    query = (
        query.where(AppealRow.opinion.is_not(None)).order_by(AppealRow.opinion_at.desc())
        if answered
        else query.where(AppealRow.status == status).order_by(AppealRow.asked_at)
    )
    rows = list(uow.session.scalars(query.limit(QUEUE_LIMIT)))
    return [replace(v, contact=None) for v in views(uow.session, rows, keyring, uow.clock.now())]


@use_case(Permission.GIVE_APPEAL_OPINIONS)
def opinion_request(uow: UnitOfWork, actor: Actor, appeal_id: int, keyring: Keyring) -> AppealView:
    """One appeal the police unit was asked about (another is not found)."""
    row = visible_appeal(uow.session, actor, appeal_id)
    (view,) = views(uow.session, [row], keyring, uow.clock.now())
    return replace(view, contact=None)


@use_case(Permission.GIVE_APPEAL_OPINIONS)
def give_opinion(
    uow: UnitOfWork,
    actor: Actor,
    appeal_id: int,
    opinion: str,
    *,
    settings: AppealSettings | None = None,
) -> None:
    """Answer the bank's question on an appeal with the unit's opinion; the appeal goes back
    to the bank to decide."""
    limits = settings or get_settings().appeals
    row = visible_appeal(uow.session, actor, appeal_id)
    if row.status != AppealStatus.AWAITING_OPINION.value:
        raise Conflict(f"appeal {appeal_id} awaits no opinion")
    said = written_text(opinion, "opinion", limits.answer_max_chars)
    record = uow.audit.record(actor, "give_appeal_opinion", f"appeal:{appeal_id}", {})
    row.status = AppealStatus.OPEN.value
    row.opinion, row.opinion_at, row.opinion_by = said, record.ts, record.actor
    row.revision = record.seq
    uow.commit()


@use_case(Permission.OVERSEE_APPEALS)
def overdue_appeals(uow: UnitOfWork, actor: Actor, keyring: Keyring) -> list[AppealView]:
    """Every member's appeals undecided past their deadline, the longest overdue first, with
    account numbers masked and no contact phone (the hub supervises; it decides nothing)."""
    now = uow.clock.now()
    query = visible_appeals(actor).where(overdue(now)).order_by(AppealRow.deadline, AppealRow.id)
    rows = list(uow.session.scalars(query.limit(QUEUE_LIMIT)))
    return [
        replace(v, contact=None, reason="", evidence=())
        for v in views(uow.session, rows, keyring, now)
    ]


@use_case(Permission.OVERSEE_APPEALS)
def overdue_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many appeals of every member are undecided past their deadline: the flag the hub
    sees on its overview."""
    query = select(func.count()).select_from(AppealRow).where(overdue(uow.clock.now()))
    return int(uow.session.scalar(query) or 0)


@use_case(Permission.OVERSEE_APPEALS)
def appeals_by_member(
    uow: UnitOfWork, actor: Actor, since: datetime, until: datetime
) -> list[AppealFigures]:
    """Per member, the appeals filed in [since, until): by outcome, open, overdue, and the
    hours answers took."""
    for value, name in ((since, "since"), (until, "until")):
        if value.utcoffset() is None:
            raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", name)
    if until <= since:
        raise InvalidInput("the end must come after the start", "until")
    return appeal_figures(uow.session, since, until, uow.clock.now())
