"""Outreach on the console. Victim warning (预警劝阻): the member's dissuasion queue, each task
counting down to its call's deadline (overdue ones flagged), and a task's page where one of
the staff claims it and records the outcome of the call; a dissuaded payer's payment is
cancelled with it (`fundwall.outreach.dissuasion`). Publicity (反诈宣传): the member's
campaigns with their delivery figures, a segment's preview, sending a campaign, and its
events (`fundwall.outreach.campaigns`)."""

from __future__ import annotations

from datetime import date, datetime
from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.outreach.campaigns import (
    EventKind,
    EventView,
    Segment,
    SegmentPreview,
    list_campaigns,
    list_events,
    preview_campaign,
    record_event,
    send_campaign,
)
from fundwall.outreach.dissuasion import (
    claim_dissuasion_task,
    dissuasion_queue,
    get_dissuasion_task,
    record_dissuasion_outcome,
)
from fundwall.outreach.messages import MESSAGES_LIMIT, MessageFilter, list_messages
from fundwall.outreach.model import DissuasionOutcome, SmsPurpose, SmsStatus, TaskStatus
from fundwall.outreach.oversight import region_events
from fundwall.outreach.preferences import sms_templates
from fundwall.store.uow import UnitOfWork
from fundwall.web.forms import FormDep, Refusal, chosen, csrf_protected
from fundwall.web.i18n import N_
from fundwall.web.pages.orders import time_left
from fundwall.web.params import LOCAL_ZONE, Params
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)
TaskId = Path(ge=1, le=2**63 - 1)
SOON_SECONDS: Final = 5 * 60
"""A call due within five minutes is marked."""
OUTCOMES: Final = {
    DissuasionOutcome.DISSUADED: N_("Dissuaded: the payment is cancelled"),
    DissuasionOutcome.NOT_REACHED: N_("Not reached"),
    DissuasionOutcome.PAID_ANYWAY: N_("Paid anyway"),
}
STATUSES: Final = {
    TaskStatus.OPEN: N_("Waiting for a call"),
    TaskStatus.CLAIMED: N_("Being called"),
    TaskStatus.CLOSED: N_("Closed"),
}
SMS: Final = {
    SmsStatus.QUEUED: N_("Queued"),
    SmsStatus.SENDING: N_("Being sent"),
    SmsStatus.SENT: N_("Sent to the carrier"),
    SmsStatus.DELIVERED: N_("Delivered"),
    SmsStatus.FAILED: N_("Failed"),
    SmsStatus.OPTED_OUT: N_("Opted out"),
    SmsStatus.LIMITED: N_("Over the phone's limit"),
}
WORDS: Final = {"outcomes": OUTCOMES, "statuses": STATUSES, "sms": SMS}


def _seconds(due: int) -> int:
    return max(0, due)


@router.get("/outreach")
def queue_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The member's dissuasion tasks: open and claimed ones by their deadline, then closed."""
    actor.require(Permission.WORK_DISSUASION)
    now = uow.clock.now()
    tasks = dissuasion_queue(uow, actor)
    return page(
        request,
        "outreach_tasks.html",
        {
            "tasks": tasks,
            "left": {task.id: _seconds(task.seconds_left(now)) for task in tasks},
            "time_left": time_left,
            "soon_seconds": SOON_SECONDS,
            **WORDS,
        },
        session=session,
    )


def _task_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    task_id: int,
    *,
    refusal: Refusal | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    task = get_dissuasion_task(uow, actor, task_id)
    return page(
        request,
        "outreach_task.html",
        {
            "task": task,
            "left": _seconds(task.seconds_left(uow.clock.now())),
            "time_left": time_left,
            "soon_seconds": SOON_SECONDS,
            "mine": task.claimed_by == actor.audit_id,
            "refusal": refusal,
            **WORDS,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/outreach/tasks/{task_id}")
def task_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    task_id: int = TaskId,
) -> Response:
    """A task: the warned payment, the payer's phone (masked), the warning SMS, the deadline,
    and the claim and outcome forms."""
    actor.require(Permission.WORK_DISSUASION)
    return _task_page(request, actor, session, uow, task_id)


@router.post("/outreach/tasks/{task_id}/claim", dependencies=[Depends(csrf_protected)])
def claim(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    task_id: int = TaskId,
) -> Response:
    """Take the task; someone else's or a closed one is shown on its page (409)."""
    actor.require(Permission.WORK_DISSUASION)
    try:
        claim_dissuasion_task(uow, actor, task_id)
    except Conflict as refused:
        uow.rollback()
        return _task_page(
            request, actor, session, uow, task_id,
            refusal=Refusal.of(refused), status_code=HTTPStatus.CONFLICT,
        )  # fmt: skip
    return RedirectResponse(f"/outreach/tasks/{task_id}", status_code=HTTPStatus.SEE_OTHER)


@router.post("/outreach/tasks/{task_id}/outcome", dependencies=[Depends(csrf_protected)])
def outcome(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
    task_id: int = TaskId,
) -> Response:
    """Close the task with the call's outcome and a note; a refusal (a bad field, a closed
    task, someone else's) comes back on the page with nothing changed."""
    actor.require(Permission.WORK_DISSUASION)
    try:
        result = chosen(form, "outcome", DissuasionOutcome)
        record_dissuasion_outcome(uow, actor, task_id, result, form.get("note"))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        status = (
            HTTPStatus.CONFLICT
            if isinstance(refused, Conflict)
            else HTTPStatus.UNPROCESSABLE_ENTITY
        )
        return _task_page(
            request, actor, session, uow, task_id, refusal=Refusal.of(refused), status_code=status
        )
    return RedirectResponse(f"/outreach/tasks/{task_id}", status_code=HTTPStatus.SEE_OTHER)


SEGMENTS: Final = {
    Segment.ELDERLY: N_("Customers over 60"),
    Segment.NEW_PAYEE: N_("Paid a new payee in the last 7 days"),
    Segment.NEW_ACCOUNT: N_("Opened an account in the last month"),
}
EVENT_KINDS: Final = {
    EventKind.BRANCH: N_("Branch"),
    EventKind.COMMUNITY: N_("Community"),
    EventKind.COMPANY: N_("Company"),
    EventKind.SCHOOL: N_("School"),
    EventKind.ONLINE: N_("Online"),
}


def _variables(text: str) -> dict[str, str]:
    """The form's `name=value` lines."""
    found = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals:
            raise InvalidInput(f"line {number}: write name=value", "variables")
        found[name.strip()] = value.strip()
    return found


def _publicity_page(
    request: Request,
    actor: Actor,
    session: ActiveSession,
    uow: UnitOfWork,
    *,
    preview: SegmentPreview | None = None,
    refusal: Refusal | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    templates = [t for t in sms_templates(uow, actor) if t.purpose is SmsPurpose.CAMPAIGN]
    return page(
        request,
        "outreach_campaigns.html",
        {
            "campaigns": list_campaigns(uow, actor),
            "events": list_events(uow, actor),
            "templates": templates,
            "segments": SEGMENTS,
            "event_kinds": EVENT_KINDS,
            "preview": preview,
            "refusal": refusal,
        },
        session=session,
        status_code=status_code,
    )


@router.get("/outreach/campaigns")
def publicity_page(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    segment: str | None = None,
) -> Response:
    """The member's campaigns with their delivery figures and its events, with the forms to
    preview a segment, send a campaign and record an event."""
    actor.require(Permission.RUN_CAMPAIGNS)
    preview = None
    if segment:
        try:
            preview = preview_campaign(uow, actor, chosen({"segment": segment}, "segment", Segment))
        except InvalidInput as refused:
            return _publicity_page(
                request, actor, session, uow,
                refusal=Refusal.of(refused), status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
            )  # fmt: skip
    return _publicity_page(request, actor, session, uow, preview=preview)


@router.get("/outreach/messages")
def messages_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The member's SMS, filtered as the statistics count them: handed to the gateway in a
    period (Beijing days), of a purpose, in a status."""
    actor.require(Permission.RUN_CAMPAIGNS)
    params = Params(request.query_params)
    wanted = MessageFilter(
        sent_from=params.moment("sent_from"),
        sent_until=params.moment("sent_to", end_of_day=True),
        purpose=params.choice("purpose", SmsPurpose),
        status=params.choice("status", SmsStatus),
    )
    context = {
        "results": list_messages(uow, actor, wanted),
        "problems": params.problems,
        "form": request.query_params,
        "SmsPurpose": SmsPurpose,
        "SmsStatus": SmsStatus,
        "limit": MESSAGES_LIMIT,
    }
    return page(request, "outreach_messages.html", context, session=session)


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(LOCAL_ZONE).date() if moment is not None else None


@router.get("/outreach/events")
def events_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """Publicity events held on a period's days (Beijing), as the statistics count them: a
    member's own, or for the hub every member's (`?member=` one of them)."""
    params = Params(request.query_params)
    start, end = _day(params.moment("from")), _day(params.moment("to"))
    member = params.text("member", 64)
    rows: list[tuple[str | None, EventView]]
    if actor.customer_member is not None or not actor.can(Permission.VIEW_REGION):
        actor.require(Permission.RUN_CAMPAIGNS)
        rows = [(None, event) for event in list_events(uow, actor, start, end)]
    else:
        rows = [
            (f"{found.member_name}（{found.member}）", found.event)
            for found in region_events(uow, actor, start, end, member)
        ]
    context = {
        "rows": rows,
        "region": actor.customer_member is None,
        "event_kinds": EVENT_KINDS,
        "problems": params.problems,
        "form": request.query_params,
        "totals": (
            sum(event.attendance for _, event in rows),
            sum(event.reach for _, event in rows),
        ),
    }
    return page(request, "outreach_events.html", context, session=session)


@router.post("/outreach/campaigns", dependencies=[Depends(csrf_protected)])
def send(
    request: Request, actor: ConsoleActor, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """Send the form's campaign; a bad field comes back named above the forms, nothing sent."""
    actor.require(Permission.RUN_CAMPAIGNS)
    try:
        send_campaign(
            uow,
            actor,
            form.get("title", ""),
            form.get("template", ""),
            chosen(form, "segment", Segment),
            _variables(form.get("variables", "")),
        )
    except InvalidInput as refused:
        uow.rollback()
        return _publicity_page(
            request, actor, session, uow,
            refusal=Refusal.of(refused), status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )  # fmt: skip
    return RedirectResponse("/outreach/campaigns", status_code=HTTPStatus.SEE_OTHER)


@router.post("/outreach/events", dependencies=[Depends(csrf_protected)])
def add_event(
    request: Request, actor: ConsoleActor, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """Record the form's event; a bad field comes back named above the forms."""
    actor.require(Permission.RUN_CAMPAIGNS)
    try:
        record_event(
            uow,
            actor,
            chosen(form, "kind", EventKind),
            form.get("title", ""),
            _date(form.get("held_on", "")),
            form.get("place", ""),
            _whole(form.get("attendance", ""), "attendance"),
            _whole(form.get("reach", ""), "reach"),
        )
    except InvalidInput as refused:
        uow.rollback()
        return _publicity_page(
            request, actor, session, uow,
            refusal=Refusal.of(refused), status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        )  # fmt: skip
    return RedirectResponse("/outreach/campaigns#events", status_code=HTTPStatus.SEE_OTHER)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("a date, e.g. 2024-06-01", "held_on") from None


def _whole(text: str, field: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput("a whole number", field) from None
