"""`/v1/screening`: account-base screening (存量账户排查) for members' systems and signed-in
users.

A member's system (its API key) starts a run over the member's accounts (`POST /runs`),
reads runs (its own and its part of the hub's whole-region runs) and their work lists, page
by page, with each account's reasons in Chinese and English; applies a bulk action to chosen
accounts of a work list (`POST /runs/{id}/actions`: answered at once, 202, and carried out
in the background) and follows its progress (`GET /actions/{id}`); reads the figures of a
period (`GET /figures`). Signed-in users read with their session. Another member's run or
action answers 404 as one that does not exist; bad input is a 422 problem naming the field.
The routes translate; rights, tenancy and the audit records are the use cases'
(`fundwall.screening`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED
from fundwall.api.values import TextTime
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import AccessConfig, ApiActor, UnitOfWorkDep, access_config
from fundwall.config import PolicySettings
from fundwall.domain.errors import InvalidInput
from fundwall.domain.screening import Check, Outcome, ScreeningAction
from fundwall.screening.actions import action_progress, carry_out_action, request_action
from fundwall.screening.model import MAX_TARGETS, ActionView, ItemView, RunView, TargetView
from fundwall.screening.runs import (
    list_runs,
    read_run,
    screen_accounts,
    screening_figures,
    work_list,
)
from fundwall.store.paging import MAX_PAGE
from fundwall.store.uow import UnitOfWork

TAG: Final = "screening"
PREFIX: Final = "/v1/screening"
RunId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the run's id")]
ActionId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the action's id")]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
Name = Annotated[str, Field(min_length=1, max_length=64)]
ISO_MOMENT: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
Moment = Annotated[
    str | None, Query(pattern=ISO_MOMENT, description="e.g. 2024-06-01T00:00:00+08:00")
]


def _moment(text: str | None, field: str) -> datetime | None:
    """A period's end as the query gives it: ISO 8601 with its UTC offset (a number of
    seconds is not taken for a time)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("not a date and time, e.g. 2024-06-01T00:00:00+08:00", field) from None


class RunIn(BaseModel):
    """Which checks to run over the member's accounts (all when left out)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"checks": ["dormant", "new_idle"]}]}
    )

    checks: list[Name] | None = Field(default=None, max_length=len(Check))
    as_of: TextTime | None = Field(
        default=None,
        description="screen as of this earlier moment, ISO 8601 with its UTC offset (default: now)",
    )


class ActionIn(BaseModel):
    """An action on accounts of the run's work list: those named in `accounts`, those found
    by one of `checks`, or those found by one of `checks` among `accounts`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"action": "notify", "checks": ["dormant"], "reason": "久悬账户清理"}]
        },
    )

    action: Annotated[str, Field(description=", ".join(a.value for a in ScreeningAction))]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    accounts: list[Name] | None = Field(default=None, max_length=MAX_TARGETS)
    checks: list[Name] | None = Field(default=None, max_length=len(Check))


class MemberCountsOut(BaseModel):
    screened: int
    found: dict[Check, int]
    items: int


class RunOut(BaseModel):
    id: int
    member: str | None = Field(description="whose accounts; null: the whole region's")
    checks: list[Check]
    as_of: datetime
    started_at: datetime
    started_by: str
    duration_ms: int
    screened: int = Field(description="accounts screened (of the caller's member)")
    found: dict[Check, int] = Field(description="accounts found, per check")
    items: int = Field(description="accounts on the work list")
    by_member: dict[str, MemberCountsOut]

    @classmethod
    def of(cls, view: RunView) -> RunOut:
        return cls(
            **{name: getattr(view, name) for name in cls.model_fields if name != "by_member"},
            by_member={
                code: MemberCountsOut(screened=c.screened, found=c.found, items=c.items)
                for code, c in view.by_member.items()
            },
        )


class RunPage(BaseModel):
    page: int
    more: bool
    runs: list[RunOut]


class FindingOut(BaseModel):
    check: Check
    reason_zh: str
    reason_en: str
    details: dict[str, Any] = Field(description="the figures the reason quotes")


class TargetOut(BaseModel):
    action_id: int
    action: ScreeningAction
    account_no: str
    member: str
    outcome: Outcome
    detail: str | None = Field(description="why refused or failed, or what made it needless")
    done_at: datetime | None

    @classmethod
    def of(cls, view: TargetView) -> TargetOut:
        return cls(**{name: getattr(view, name) for name in cls.model_fields})


class ItemOut(BaseModel):
    id: int
    account_no: str = Field(description="in full for the member holding it, masked otherwise")
    member: str
    findings: list[FindingOut]
    actions: list[TargetOut]

    @classmethod
    def of(cls, view: ItemView) -> ItemOut:
        return cls(
            id=view.id,
            account_no=view.account_no,
            member=view.member,
            findings=[
                FindingOut(check=f.check, reason_zh=f.reason_zh, reason_en=f.reason_en,
                           details=f.details)
                for f in view.findings
            ],
            actions=[TargetOut.of(target) for target in view.actions],
        )  # fmt: skip


class ItemPage(BaseModel):
    page: int
    more: bool
    items: list[ItemOut]


class ActionOut(BaseModel):
    id: int
    run_id: int
    action: ScreeningAction
    reason: str
    member: str | None
    requested_at: datetime
    requested_by: str
    finished_at: datetime | None = Field(description="null while accounts are pending")
    counts: dict[Outcome, int]
    page: int
    more: bool
    targets: list[TargetOut]

    @classmethod
    def of(cls, view: ActionView) -> ActionOut:
        return cls(
            **{
                name: getattr(view, name)
                for name in cls.model_fields
                if name not in ("page", "more", "targets")
            },
            page=view.targets.number,
            more=view.targets.more,
            targets=[TargetOut.of(target) for target in view.targets.items],
        )


class FiguresOut(BaseModel):
    """A member's screening in the period ("accounts screened and cleaned")."""

    member: str
    runs: int
    screened: int
    found: int
    by_check: dict[Check, int]
    notified: int
    cleaned: int
    closed: int


def carry_out_detached(
    config: AccessConfig, actor: Actor, action_id: int, policy: PolicySettings
) -> None:
    """Carry out the action in a unit of work of its own: a background task's, after the
    request's has closed (the API's and the console's)."""
    with UnitOfWork(config.database, clock=config.clock, keyring=config.keyring) as uow:
        carry_out_action(uow, actor, action_id, policy)


def screening_router(policy: PolicySettings) -> APIRouter:
    """The screening routes, screening with the deployment's `policy`."""
    router = APIRouter(prefix=PREFIX, tags=[TAG])

    @router.post(
        "/runs", status_code=201, response_model=RunOut,
        responses=problem_responses(400, 401, 403, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def post_run(body: RunIn, actor: ApiActor, uow: UnitOfWorkDep) -> RunOut:
        """Screen the member's accounts with the checks named (all by default), now or as of
        an earlier moment (a later one is refused, 422)."""
        return RunOut.of(screen_accounts(uow, actor, policy, checks=body.checks, as_of=body.as_of))

    @router.get(
        "/runs", response_model=RunPage, responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )  # fmt: skip
    def get_runs(actor: ApiActor, uow: UnitOfWorkDep, page: PageNo = 1) -> RunPage:
        """The runs the caller sees, newest first: the member's own and the hub's."""
        found = list_runs(uow, actor, page)
        return RunPage(page=found.number, more=found.more, runs=[RunOut.of(r) for r in found.items])

    @router.get(
        "/runs/{run_id}", response_model=RunOut,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def get_run(run_id: RunId, actor: ApiActor, uow: UnitOfWorkDep) -> RunOut:
        """One run and its counts per check (of a region run, the member's own part)."""
        return RunOut.of(read_run(uow, actor, run_id))

    @router.get(
        "/runs/{run_id}/items", response_model=ItemPage,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def get_items(
        run_id: RunId,
        actor: ApiActor,
        uow: UnitOfWorkDep,
        page: PageNo = 1,
        check: Annotated[str | None, Query(max_length=64, description="one check only")] = None,
    ) -> ItemPage:
        """A page of the work list: each account with its reasons and the actions since."""
        found = work_list(uow, actor, run_id, page=page, check=check)
        return ItemPage(
            page=found.number, more=found.more, items=[ItemOut.of(i) for i in found.items]
        )

    @router.post(
        "/runs/{run_id}/actions", status_code=202, response_model=ActionOut,
        responses=problem_responses(400, 401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def post_action(
        run_id: RunId,
        body: ActionIn,
        actor: ApiActor,
        uow: UnitOfWorkDep,
        request: Request,
        background: BackgroundTasks,
    ) -> ActionOut:
        """Apply an action to chosen accounts of the work list, all recorded at once and
        carried out in the background; `GET /v1/screening/actions/{id}` follows it."""
        view = request_action(
            uow, actor, run_id, body.action, reason=body.reason, accounts=body.accounts,
            checks=body.checks,
        )  # fmt: skip
        background.add_task(carry_out_detached, access_config(request), actor, view.id, policy)
        return ActionOut.of(view)

    @router.get(
        "/actions/{action_id}", response_model=ActionOut,
        responses=problem_responses(401, 403, 404, 422), openapi_extra=KEYED,
    )  # fmt: skip
    def get_action(
        action_id: ActionId,
        actor: ApiActor,
        uow: UnitOfWorkDep,
        page: PageNo = 1,
        outcome: Annotated[str | None, Query(max_length=32, description="one outcome")] = None,
    ) -> ActionOut:
        """An action's progress: outcomes counted, and a page of its accounts."""
        return ActionOut.of(action_progress(uow, actor, action_id, page=page, outcome=outcome))

    @router.get(
        "/figures", response_model=list[FiguresOut], responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )  # fmt: skip
    def get_figures(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        since: Moment = None,
        until: Moment = None,
    ) -> list[FiguresOut]:
        """Per member (a member: its own), runs, accounts screened, found and cleaned, in
        the period from `since` until `until` (ISO 8601 with the UTC offset; either open)."""
        period = {"since": _moment(since, "since"), "until": _moment(until, "until")}
        return [
            FiguresOut(**{name: getattr(f, name) for name in FiguresOut.model_fields})
            for f in screening_figures(uow, actor, **period)
        ]

    return router
