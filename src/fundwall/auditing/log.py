"""The audit log as auditors read it: newest first, narrowed by actor, action or subject,
and the chain verified on request. Both are use cases for `VIEW_AUDIT_LOG`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.store import AuditRecord, ChainReport, verify_chain
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.tables import AuditRow
from fundwall.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@use_case(Permission.VIEW_AUDIT_LOG)
def audit_records(uow: UnitOfWork, actor: Actor, wanted: AuditFilter) -> Page[AuditRecord]:
    """Audit records matching `wanted`, newest first. Actor and subject match as prefixes
    ("user:analyst1" finds every record of that user)."""
    query = select(AuditRow).order_by(AuditRow.seq.desc())
    if wanted.actor is not None:
        query = query.where(AuditRow.actor.like(f"{_escaped(wanted.actor)}%", escape="\\"))
    if wanted.action is not None:
        query = query.where(AuditRow.action == wanted.action)
    if wanted.subject is not None:
        query = query.where(AuditRow.subject.like(f"{_escaped(wanted.subject)}%", escape="\\"))
    if wanted.start is not None:
        query = query.where(AuditRow.ts >= wanted.start)
    if wanted.end is not None:
        query = query.where(AuditRow.ts < wanted.end)
    return fetch_page(
        uow.session, query, wanted.page, PAGE_SIZE, lambda row: AuditRecord.of(row[0])
    )


@use_case(Permission.VIEW_AUDIT_LOG)
def verify_audit_chain(uow: UnitOfWork, actor: Actor) -> ChainReport:
    """Walk the whole chain (see `fundwall.store.audit_chain`)."""
    return verify_chain(uow.session.connection())
