"""The person's side of appeals (异议申诉), through the public portal: the measures on their
own accounts in plain words, filing an appeal against a bank's measure with reason, evidence
files and a contact phone, following their appeals, and closing an account online (线上销户).

The actor is the person the portal verified (`queries.person_actor`, role `public`): every
read is narrowed to the accounts of parties with their ID number's keyed hash, so one person
never reads another's measures, appeals or accounts. An appeal is accepted (受理) as it is
filed; the bank must decide it within `policy.appeal_decide_working_days` working days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from fundwall.accounts.model import Closure, Verification
from fundwall.accounts.queries import write_closure
from fundwall.appeals.model import AppealStatus, AppealView, Measure, Words
from fundwall.appeals.queries import (
    bank_words,
    measures_of,
    notify_person,
    person_accounts,
    person_hash,
    stored_measure,
    views,
    visible_appeal,
    visible_appeals,
)
from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.evidence import checked_file
from fundwall.config import AppealSettings, PolicySettings, get_settings
from fundwall.crypto import Keyring, sm3_hex
from fundwall.domain.accounts import AccountStatus
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.domain.identity import MobilePhone, mask_account
from fundwall.fund_returns.working_days import SHANGHAI, working_deadline
from fundwall.store.appeal_tables import AppealEvidenceRow, AppealRow
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.tables import AccountRow
from fundwall.store.uow import UnitOfWork

_TEXT_CONTROLS = "\r\n\t"


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A file the person sends with an appeal, as uploaded."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class PersonAccount:
    """One of the person's accounts as the portal lists it."""

    account_no: str
    """In full: the person's own (the portal shows it masked)."""
    masked: str
    bank: str
    status: AccountStatus
    bank_name: Words
    """The bank's name in both languages."""


def written_text(text: str, field: str, limit: int) -> str:
    """A person's or a clerk's text: stripped, not empty, at most `limit` characters,
    printable but for line breaks and tabs."""
    if not isinstance(text, str):
        raise InvalidInput("text expected", field)
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("this must not be empty", field)
    if len(stripped) > limit:
        raise InvalidInput(f"at most {limit} characters, not {len(stripped)}", field)
    if any(not char.isprintable() and char not in _TEXT_CONTROLS for char in stripped):
        raise InvalidInput("only printable characters and line breaks", field)
    return stripped


@use_case(Permission.FILE_APPEALS)
def my_measures(uow: UnitOfWork, actor: Actor) -> list[Measure]:
    """The measures in force on the person's accounts, each saying why, where to appeal and
    what to bring, and whether an appeal of theirs against it is open."""
    return measures_of(uow.session, person_hash(actor), uow.clock.now())


@use_case(Permission.FILE_APPEALS)
def my_accounts(uow: UnitOfWork, actor: Actor) -> list[PersonAccount]:
    """The person's accounts at every member, closed ones included."""
    rows = person_accounts(uow.session, person_hash(actor))
    names = bank_words(uow.session, [row.institution_code for row in rows])
    return [
        PersonAccount(
            row.account_no,
            mask_account(row.account_no),
            row.institution_code,
            AccountStatus(row.status),
            names.get(row.institution_code, Words(row.institution_code, row.institution_code)),
        )
        for row in rows
    ]


@use_case(Permission.FILE_APPEALS)
def file_appeal(
    uow: UnitOfWork,
    actor: Actor,
    measure_key: str,
    reason: str,
    keyring: Keyring,
    *,
    contact: str | None = None,
    files: Sequence[EvidenceFile] = (),
    settings: AppealSettings | None = None,
    policy: PolicySettings | None = None,
) -> AppealView:
    """Appeal a bank's measure on one of the person's accounts; nothing is written when the
    measure is not theirs (NotFound), a police order (Conflict: appeal to its issuer),
    appealed already and still open (Conflict), or any field or file is bad (InvalidInput
    naming it)."""
    limits = settings or get_settings().appeals
    rules = policy or get_settings().policy
    now = uow.clock.now()
    id_hash = person_hash(actor)
    measure = next(
        (m for m in measures_of(uow.session, id_hash, now) if m.key == measure_key), None
    )
    if measure is None:
        raise NotFound("measure", str(measure_key)[:20])
    if not measure.appealable:
        raise Conflict(
            f"a {measure.kind} is a police order: {measure.where.en} (not an appeal to the bank)"
        )
    if measure.open_appeal is not None:
        raise Conflict(f"appeal {measure.open_appeal} against this measure is still open")
    why = written_text(reason, "reason", limits.reason_max_chars)
    phone = MobilePhone.parse(contact, field="contact") if contact else None
    if len(files) > limits.evidence_max_files:
        raise InvalidInput(f"at most {limits.evidence_max_files} files", "files")
    checked = [
        (
            *checked_file(
                file.filename,
                file.media_type,
                file.content,
                max_bytes=limits.evidence_max_bytes,
                media_types=limits.evidence_media_types,
                field="files",
            ),
            file.content,
        )
        for file in files
    ]
    stored = stored_measure(measure_key)
    account = _account_of(uow, id_hash, stored)
    record = uow.audit.record(
        actor,
        "file_appeal",
        f"account:{measure.account}",
        {"measure": stored.partition(":")[0], "kind": measure.kind, "files": len(checked)},
    )
    row = AppealRow(
        member=measure.bank,
        account_no=account.account_no,
        party_id=account.party_id,
        person_hash=id_hash,
        measure=stored,
        measure_kind=measure.kind,
        measure_reason=measure.why,
        open_key=stored,
        reason=why,
        contact_enc=keyring.encrypt(phone.number) if phone is not None else None,
        status=AppealStatus.OPEN.value,
        filed_at=record.ts,
        filed_by=record.actor,
        deadline=working_deadline(record.ts, rules.appeal_decide_working_days),
        revision=record.seq,
    )
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:
        uow.rollback()
        raise Conflict("an appeal against this measure is still open") from None
    for name, media_type, content in checked:
        uow.session.add(
            AppealEvidenceRow(
                appeal_id=row.id,
                filename=name,
                media_type=media_type,
                size_bytes=len(content),
                sm3=sm3_hex(content),
                content_enc=keyring.encrypt_bytes(content),
                added_at=record.ts,
            )
        )
    uow.session.flush()
    answer_by = row.deadline.astimezone(SHANGHAI) - timedelta(days=1)
    notify_person(uow, actor, row, "appeal_received", {"answer_by": f"{answer_by:%Y-%m-%d}"})
    (view,) = views(uow.session, [row], keyring, now)
    uow.commit()
    return _as_person(view)


def _account_of(uow: UnitOfWork, id_hash: str, stored: str) -> AccountRow:
    """The person's account the measure `stored` is on; NotFound when it is not theirs."""
    kind, _, ref = stored.partition(":")
    if kind == "restriction":
        restriction = uow.session.get(AccountRestrictionRow, int(ref))
        ref = restriction.account_no if restriction is not None else ""
    found = next((r for r in person_accounts(uow.session, id_hash) if r.account_no == ref), None)
    if found is None:
        raise NotFound("measure", stored)
    return found


def _as_person(view: AppealView) -> AppealView:
    """The person's view: without the police unit's question and opinion (the bank's to
    weigh, not the person's to read)."""
    return replace(view, police_unit=None, question=None, asked_at=None, opinion=None,
                   opinion_at=None)  # fmt: skip


@use_case(Permission.FILE_APPEALS)
def my_appeals(uow: UnitOfWork, actor: Actor, keyring: Keyring) -> list[AppealView]:
    """The person's appeals, newest first, with their status and the bank's answer."""
    rows = list(uow.session.scalars(visible_appeals(actor).order_by(AppealRow.id.desc())))
    return [_as_person(view) for view in views(uow.session, rows, keyring, uow.clock.now())]


@use_case(Permission.FILE_APPEALS)
def my_appeal(uow: UnitOfWork, actor: Actor, appeal_id: int, keyring: Keyring) -> AppealView:
    """One of the person's appeals; another's is not found."""
    row = visible_appeal(uow.session, actor, appeal_id)
    (view,) = views(uow.session, [row], keyring, uow.clock.now())
    return _as_person(view)


@use_case(Permission.CLOSE_OWN_ACCOUNTS)
def close_my_account(
    uow: UnitOfWork, actor: Actor, account_no: str, *, move_to: str | None = None
) -> Closure:
    """Close one of the person's own accounts online (线上销户), verified by the portal; the
    same checks and writes as a member's channel (`fundwall.accounts.closure`): refused
    (Conflict) naming every blocker, audited either way. Another's account is not found."""
    row = next(
        (r for r in person_accounts(uow.session, person_hash(actor)) if r.account_no == account_no),
        None,
    )
    if row is None:
        raise NotFound("account", mask_account(str(account_no))[:40])
    return write_closure(uow, actor, row, Verification.PUBLIC_PORTAL, move_to)
