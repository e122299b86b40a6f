"""Victim warning and publicity (预警劝阻, 反诈宣传): SMS sent and delivered, warned payments'
dissuasion calls by outcome, publicity events held and the people they reached."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.outreach.model import DissuasionOutcome, SmsPurpose, SmsStatus
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.period import BEIJING
from fundwall.reports.queries import each_window, numbers, scoped, within
from fundwall.store.outreach_tables import DissuasionTaskRow, OutreachEventRow, SmsMessageRow

_TASKS = (Link("/outreach", Permission.WORK_DISSUASION),)
_EVENTS_HELD = "/outreach/events?from={first}&to={last}"
_EVENTS = (
    Link(_EVENTS_HELD, Permission.RUN_CAMPAIGNS),
    Link(_EVENTS_HELD + "&member={member}", Permission.VIEW_REGION),
)
"""A member's events, or for the hub the region's (or the chosen member's)."""
_MESSAGES = "/outreach/messages?sent_from={first}&sent_to={last}"
_WARNINGS = "&purpose=warning"
_CAMPAIGN_SMS = "&purpose=campaign"


def _messages(query: str = "") -> tuple[Link, ...]:
    """The member's SMS handed to the gateway in the period, as the figure counts them."""
    return (Link(_MESSAGES + query, Permission.RUN_CAMPAIGNS),)


def _sms(session: Session, scope: Scope, window: Window) -> dict[str, int]:
    """Messages handed to the gateway in the window (by when they were sent, whatever
    became of them since), and those of them delivered; warnings and campaign messages
    apart."""
    sms = SmsMessageRow

    def sent(purpose: SmsPurpose | None = None) -> ColumnElement[int]:
        if purpose is None:
            return func.count(sms.id)
        return func.count(case((sms.purpose == purpose.value, sms.id)))

    row = session.execute(
        select(
            sent(),
            func.count(case((sms.status == SmsStatus.DELIVERED.value, sms.id))),
            sent(SmsPurpose.WARNING),
            sent(SmsPurpose.CAMPAIGN),
        ).where(within(sms.sent_at, window), scoped(scope, sms.member))
    ).one()
    return numbers(row, ("sms_sent", "sms_delivered", "warnings_sent", "campaign_sent"))


def _tasks(session: Session, scope: Scope, window: Window) -> dict[str, int]:
    """Dissuasion tasks raised in the window (by when the payment was warned) and how their
    calls ended."""
    task = DissuasionTaskRow

    def ended(outcome: DissuasionOutcome) -> ColumnElement[int]:
        return func.count(case((task.outcome == outcome.value, task.id)))

    row = session.execute(
        select(
            func.count(),
            ended(DissuasionOutcome.DISSUADED),
            func.sum(case((task.outcome == DissuasionOutcome.DISSUADED.value, task.amount_fen))),
            ended(DissuasionOutcome.NOT_REACHED),
            ended(DissuasionOutcome.PAID_ANYWAY),
        ).where(within(task.warned_at, window), scoped(scope, task.member))
    ).one()
    keys = ("tasks", "dissuaded", "dissuaded_fen", "not_reached", "paid_anyway")
    return numbers(row, keys)


def _events(session: Session, scope: Scope, window: Window) -> dict[str, int]:
    """Events held on the window's days (an event's date is a Beijing calendar day)."""
    event = OutreachEventRow
    first = window.start.astimezone(BEIJING).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(BEIJING).date()
    row = session.execute(
        select(func.count(), func.sum(event.attendance), func.sum(event.reach)).where(
            event.held_on >= first, event.held_on <= last, scoped(scope, event.member)
        )
    ).one()
    return numbers(row, ("events", "attendance", "reach"))


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    return {
        **_sms(session, scope, window),
        **_tasks(session, scope, window),
        **_events(session, scope, window),
    }


SECTION = Section(
    key="outreach",
    zh="预警劝阻与反诈宣传",
    en="Victim warning and publicity",
    figures=(
        Figure("sms_sent", "发送短信", "SMS sent", Unit.COUNT, _messages()),
        Figure(
            "sms_delivered", "短信送达", "SMS delivered", Unit.COUNT, _messages("&status=delivered")
        ),
        Figure(
            "warnings_sent",
            "预警短信",
            "Warning SMS sent",
            Unit.COUNT,
            _messages(_WARNINGS),
        ),
        Figure(
            "campaign_sent",
            "宣传短信",
            "Campaign SMS sent",
            Unit.COUNT,
            _messages(_CAMPAIGN_SMS),
        ),
        Figure("tasks", "预警劝阻任务", "Dissuasion tasks", Unit.COUNT, _TASKS),
        Figure("dissuaded", "劝阻成功", "Payers dissuaded", Unit.PEOPLE, _TASKS),
        Figure("dissuaded_fen", "劝阻避免损失", "Payments given up", Unit.FEN, _TASKS),
        Figure("not_reached", "未能联系", "Not reached", Unit.COUNT, _TASKS),
        Figure("paid_anyway", "劝阻无效", "Paid anyway", Unit.COUNT, _TASKS),
        Figure("events", "宣传活动", "Publicity events held", Unit.COUNT, _EVENTS),
        Figure("attendance", "现场参与人数", "People attending", Unit.PEOPLE, _EVENTS),
        Figure("reach", "覆盖人数", "People reached", Unit.PEOPLE, _EVENTS),
    ),
    scopes=frozenset({ScopeKind.REGION, ScopeKind.MEMBER}),
    compute=each_window(_figures),
)
