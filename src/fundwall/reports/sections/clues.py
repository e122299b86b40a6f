"""Clue transfer (线索移送): clues sent, accepted by the police (立案), the police cases they
opened, and what the police reported as their result (suspects caught, money recovered)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from fundwall.auth.roles import Permission
from fundwall.domain.police import ClueStatus
from fundwall.reports.model import Figure, Link, Scope, ScopeKind, Section, Unit, Window
from fundwall.reports.queries import each_window, numbers, scoped, within
from fundwall.store.police_tables import ClueEventRow, ClueRow

_SENT = "?sent_from={first}&sent_to={last}"
_OUTBOX = Link(f"/clues/outbox{_SENT}", Permission.SEND_CLUES)
_INBOX = Link(f"/clues/inbox{_SENT}", Permission.ANSWER_CLUES)
_ACCEPTED = (
    Link("/clues/outbox?status=accepted", Permission.SEND_CLUES),
    Link("/clues/inbox?status=accepted", Permission.ANSWER_CLUES),
)
_RESULTS = (
    Link("/clues/outbox?status=result", Permission.SEND_CLUES),
    Link("/clues/inbox?status=result", Permission.ANSWER_CLUES),
)


def _figures(session: Session, scope: Scope, window: Window) -> Mapping[str, int]:
    clue, event = ClueRow, ClueEventRow
    mine = scoped(scope, clue.member_code, clue.police_unit)
    sent = session.scalar(
        select(func.count()).select_from(clue).where(within(clue.sent_at, window), mine)
    )
    accepted = session.execute(
        select(func.count(), func.count(distinct(clue.police_case_no)))
        .select_from(event)
        .join(clue, clue.id == event.clue_id)
        .where(event.status == ClueStatus.ACCEPTED.value, within(event.at, window), mine)
    ).one()
    results = session.execute(
        select(func.sum(clue.suspects_caught), func.sum(clue.recovered_fen))
        .select_from(event)
        .join(clue, clue.id == event.clue_id)
        .where(event.status == ClueStatus.RESULT.value, within(event.at, window), mine)
    ).one()
    return {
        "sent": int(sent or 0),
        **numbers(accepted, ("accepted", "police_cases")),
        **numbers(results, ("suspects_caught", "recovered_fen")),
    }


SECTION = Section(
    key="clues",
    zh="线索移送",
    en="Clues sent to the police",
    figures=(
        Figure("sent", "移送线索", "Clues sent", Unit.COUNT, (_OUTBOX, _INBOX)),
        Figure("accepted", "公安立案线索", "Clues accepted by the police", Unit.COUNT, _ACCEPTED),
        Figure("police_cases", "协助立案案件", "Police cases opened", Unit.COUNT, _ACCEPTED),
        Figure("suspects_caught", "抓获嫌疑人", "Suspects caught", Unit.PEOPLE, _RESULTS),
        Figure("recovered_fen", "挽回损失", "Losses recovered", Unit.FEN, _RESULTS),
    ),
    scopes=frozenset(ScopeKind),
    compute=each_window(_figures),
)
