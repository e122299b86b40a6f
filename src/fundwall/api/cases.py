"""`/v1/cases`: a member's cases (案件), read by its systems.

A bank's system (its API key, acting as `member_system`) or a signed-in console user of the
member reads the case queue and a case with its alerts, accounts, notes and the list of its
evidence files (never their content: the files are read on the console, audited). Working a
case stays on the console. Another member's case answers 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from fundwall.api.member_data import AlertOut, PageNumber, PageOut
from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep
from fundwall.cases import (
    CaseFilter,
    CaseItem,
    CaseKind,
    CaseStatus,
    CaseView,
    Outcome,
    Priority,
    case_queue,
    get_case,
)

TAG = "cases"
CaseId = Annotated[int, Path(ge=1, le=2**62, description="the case's number")]


class CaseItemOut(BaseModel):
    id: int
    kind: CaseKind
    subject: str = Field(description="an account number, a holder's party id, a scam type")
    title: str
    status: CaseStatus
    priority: Priority
    assignee: str | None
    opened_at: datetime
    deadline: datetime
    overdue: bool = Field(description="its deadline passed and it is not closed")
    alerts: int = Field(description="how many alerts the case holds")
    outcome: Outcome | None
    closed_at: datetime | None
    merged_into: int | None = Field(description="the case it was merged into")

    @classmethod
    def of(cls, item: CaseItem) -> CaseItemOut:
        return cls(**{name: getattr(item, name) for name in cls.model_fields})


class NoteOut(BaseModel):
    id: int
    body: str
    created_at: datetime
    created_by: str


class EvidenceOut(BaseModel):
    """An evidence file as listed: its digest, never its content."""

    evidence_id: int
    filename: str
    media_type: str
    size_bytes: int
    sm3: str = Field(description="SM3 digest of the file, hex")
    added_at: datetime


class CaseEvidenceOut(EvidenceOut):
    added_by: str


class CaseOut(BaseModel):
    case: CaseItemOut
    opened_by: str
    outcome_reason: str | None
    closed_by: str | None
    alerts: list[AlertOut] = Field(description="newest first")
    accounts: list[str]
    notes: list[NoteOut] = Field(description="oldest first")
    evidence: list[CaseEvidenceOut] = Field(description="oldest first")

    @classmethod
    def of_view(cls, view: CaseView) -> CaseOut:
        return cls(
            case=CaseItemOut.of(view.case),
            opened_by=view.opened_by,
            outcome_reason=view.outcome_reason,
            closed_by=view.closed_by,
            alerts=[AlertOut.of(a) for a in view.alerts],
            accounts=list(view.accounts),
            notes=[
                NoteOut(**{name: getattr(n, name) for name in NoteOut.model_fields})
                for n in view.notes
            ],
            evidence=[
                CaseEvidenceOut(
                    evidence_id=e.id,
                    filename=e.filename,
                    media_type=e.media_type,
                    size_bytes=e.size_bytes,
                    sm3=e.sm3,
                    added_at=e.added_at,
                    added_by=e.added_by,
                )
                for e in view.evidence
            ],
        )


class CasePage(PageOut):
    items: list[CaseItemOut]


def case_router() -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=[TAG])

    @router.get(
        "",
        summary="The member's case queue",
        response_model=CasePage,
        responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )
    def list_cases(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        status: CaseStatus | None = None,
        overdue: Annotated[bool, Query(description="only cases past their deadline")] = False,
        page: PageNumber = 1,
    ) -> CasePage:
        """The nearest deadline first; closed cases after the others, the latest closed
        first."""
        found = case_queue(uow, actor, CaseFilter(status=status, overdue=overdue, page=page))
        return CasePage(
            page=found.number, more=found.more, items=[CaseItemOut.of(c) for c in found.items]
        )

    @router.get(
        "/{case_id}",
        summary="A case with its alerts, accounts, notes and evidence list",
        response_model=CaseOut,
        responses=problem_responses(401, 403, 404, 422),
        openapi_extra=KEYED,
    )
    def read_case(case_id: CaseId, actor: ApiActor, uow: UnitOfWorkDep) -> CaseOut:
        """404 for a case that is not the member's. The evidence is listed with its SM3
        digest; its content is not served here."""
        return CaseOut.of_view(get_case(uow, actor, case_id))

    return router
