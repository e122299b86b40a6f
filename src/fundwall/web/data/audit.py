"""The audit log as auditors read it: newest first, narrowed by actor, action or subject,
and the chain verified on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.store import AuditRecord, ChainReport, verify_chain
from fundwall.store.tables import AuditRow
from fundwall.web.data.paging import PAGE_SIZE, Page, fetch_page
from fundwall.web.data.params import Params


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1

    @classmethod
    def read(cls, params: Params) -> AuditFilter:
        return cls(
            actor=params.text("actor", 128),
            action=params.text("action"),
            subject=params.text("subject", 256),
            start=params.moment("from"),
            end=params.moment("to", end_of_day=True),
            page=params.page(),
        )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_records(session: Session, actor: Actor, wanted: AuditFilter) -> Page[AuditRecord]:
    """Audit records matching `wanted`, newest first. Actor and subject match as prefixes
    ("user:analyst1" finds every record of that user)."""
    actor.require(Permission.VIEW_AUDIT_LOG)
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
    return fetch_page(session, query, wanted.page, PAGE_SIZE, lambda row: AuditRecord.of(row[0]))


def verify(session: Session, actor: Actor) -> ChainReport:
    """Walk the whole chain (see `fundwall.store.audit_chain`)."""
    actor.require(Permission.VIEW_AUDIT_LOG)
    return verify_chain(session.connection())
