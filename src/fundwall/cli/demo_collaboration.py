"""The demo's bank–police collaboration, told with the simulated region's own data.

Once the region is decided, the two demo banks group their alerts into cases; the first sends
a case to the demo officer's police unit as a clue, which the unit accepts; the second closes
a case. The unit's victim reports become police cases: the first-level accounts the victims
paid are stop-paid (two of those orders were issued the day before, so they expire within
the next 24 hours), the account that took most is frozen, and one is queried; the banks that
hold them execute the orders. The unit then traces its reports and returns frozen money
(`fundwall.cli.demo_tracing`, `fundwall.cli.demo_returns`) and reports the clue's result: the
holders of its accounts at the sending bank as suspects caught, and what the banks hold under
the police case it was accepted as as money recovered. Everything goes through the use cases,
as the demo users and the banks' systems, so the console shows it as theirs. Running the demo
again adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from fundwall.auth import Actor
from fundwall.auth.users import User
from fundwall.bootstrap import Platform
from fundwall.cli.demo_returns import pay_back
from fundwall.cli.demo_tracing import execute_order, trace_and_return
from fundwall.clock import FixedClock
from fundwall.domain.errors import FundwallError
from fundwall.domain.identity import mask_account
from fundwall.domain.police import OrderKind
from fundwall.engine.rules import format_money
from fundwall.region import read_table

STOP_PAYMENTS: Final = 6
"""First-level accounts of the unit's victim reports that the demo officer stop-pays."""
ISSUED_EARLIER: Final = 2
"""Of those, how many were issued the day before (they expire within 24 hours)."""
EARLIER: Final = timedelta(hours=30)
"""How long before the demo those were issued."""
POLICE_CASE_NO: Final = "A3502035100002024030001"
"""The police case number (立案编号) the demo unit gives the clue it accepts."""


@dataclass(frozen=True, slots=True)
class DemoCast:
    """Who acts in the story: the demo users of the two banks and the police unit."""

    first_analyst: User
    second_analyst: User
    officer: User


@dataclass(frozen=True, slots=True)
class Report:
    """A victim's report line: the first-level account paid, its bank, the amount, when."""

    report_id: str
    account: str
    bank: str
    amount_fen: int
    paid_at: datetime


def tell(platform: Platform, folder: Path, cast: DemoCast, say: Callable[[str], None]) -> None:
    """Play the collaboration on the decided region and say what happened."""
    say("8. bank–police collaboration:")
    first, second, officer = (
        user.actor() for user in (cast.first_analyst, cast.second_analyst, cast.officer)
    )
    for analyst in (first, second):
        say("   " + _bank_cases(platform, analyst))
    say("   " + _clue(platform, first, officer))
    say("   " + _close_one(platform, second))
    for line in [
        *_orders(platform, folder, officer),
        *trace_and_return(platform, folder, officer),
        *pay_back(platform, folder, officer),
    ]:
        say("   " + line)
    say("   " + _clue_result(platform, officer))


def _bank_cases(platform: Platform, analyst: Actor) -> str:
    from fundwall.cases import CaseKind, group_alerts

    with platform.unit_of_work() as uow:
        opened = group_alerts(uow, analyst, CaseKind.NETWORK)
    return (
        f"bank {analyst.member}: {analyst.name} grouped the new alerts into "
        f"{len(opened)} network case(s) (跑分 networks: accounts and collectors together)"
    )


def _first_case(platform: Platform, analyst: Actor) -> int | None:
    """The first open case of the member's queue."""
    from fundwall.cases import CaseFilter, CaseStatus, case_queue

    with platform.unit_of_work() as uow:
        page = case_queue(uow, analyst, CaseFilter(status=CaseStatus.OPEN))
    return page.items[0].id if page.items else None


def _clue(platform: Platform, analyst: Actor, officer: Actor) -> str:
    from fundwall.clues import ClueAnswer, ClueFilter, answer_clue, clue_outbox, send_clue
    from fundwall.domain.police import ClueStatus

    with platform.unit_of_work() as uow:
        # any clue of the bank's: the first open case differs once the earlier one was sent
        sent = clue_outbox(uow, analyst, ClueFilter()).items
    if sent:
        earlier = min(sent, key=lambda item: item.clue_id)
        return (
            f"bank {analyst.member}: case {earlier.case_id} was sent as clue {earlier.clue_id} "
            "already"
        )
    case_id = _first_case(platform, analyst)
    if case_id is None:
        return f"bank {analyst.member}: no open case to send to the police"
    assert officer.member is not None  # a police officer belongs to its unit
    with platform.unit_of_work() as uow:
        clue = send_clue(
            uow,
            analyst,
            case_id,
            officer.member,
            "Many small inflows from unrelated payers, paid on within minutes to accounts at "
            "other banks: a suspected 跑分 network. Accounts, transfers and evidence attached.",
        )
    with platform.unit_of_work() as uow:
        answer_clue(uow, officer, clue.item.clue_id, ClueAnswer(ClueStatus.RECEIVED))
    with platform.unit_of_work() as uow:
        answer_clue(
            uow,
            officer,
            clue.item.clue_id,
            ClueAnswer(ClueStatus.ACCEPTED, police_case_no=POLICE_CASE_NO),
        )
    return (
        f"bank {analyst.member}: case {case_id} sent as clue {clue.item.clue_id} to "
        f"{officer.member}, which accepted it as police case {POLICE_CASE_NO}"
    )


def _clue_result(platform: Platform, officer: Actor) -> str:
    """The unit reports the result of the clue it accepted: the holders of the clue's accounts
    at the sending bank caught, and the money the banks hold for the victims of the police
    case it opened (each account once) recovered."""
    from fundwall.clues import ClueAnswer, ClueFilter, answer_clue, clue_inbox, get_clue
    from fundwall.domain.police import ClueStatus

    with platform.unit_of_work() as uow:
        accepted = clue_inbox(uow, officer, ClueFilter(status=ClueStatus.ACCEPTED)).items
        reported = clue_inbox(uow, officer, ClueFilter(status=ClueStatus.RESULT)).items
    if not accepted:
        if reported:
            return (
                f"police {officer.member}: the result of clue {reported[0].clue_id} was "
                "reported in an earlier run"
            )
        return f"police {officer.member}: no accepted clue to report a result on"
    item = min(accepted, key=lambda found: found.clue_id)
    with platform.unit_of_work() as uow:
        clue = get_clue(uow, officer, item.clue_id, platform.keyring)
    holders = {account.holder.party_id for account in clue.accounts if account.holder is not None}
    recovered = _held_for(platform, officer, item.police_case_no or POLICE_CASE_NO)
    with platform.unit_of_work() as uow:
        answer_clue(
            uow,
            officer,
            item.clue_id,
            ClueAnswer(ClueStatus.RESULT, suspects_caught=len(holders), recovered_fen=recovered),
        )
    return (
        f"police {officer.member}: result of clue {item.clue_id}: {len(holders)} "
        f"suspect{'' if len(holders) == 1 else 's'} caught (its accounts' holders), "
        f"{format_money(recovered)} recovered (held for the victims)"
    )


def _held_for(platform: Platform, officer: Actor, police_case_no: str) -> int:
    """What the banks hold under the unit's executed stop-payments and freezes of the case:
    an account stop-paid and frozen counts once, at the larger of the two."""
    from fundwall.police import OrderFilter, get_order, list_orders

    held: dict[str, int] = {}
    page = 1
    while True:
        with platform.unit_of_work() as uow:
            found = list_orders(uow, officer, OrderFilter(page=page))
            for item in found.items:
                if item.kind not in (OrderKind.STOP_PAYMENT, OrderKind.FREEZE):
                    continue
                order = get_order(uow, officer, item.id)
                if order.police_case_no == police_case_no and order.held_fen:
                    held[item.account_no] = max(held.get(item.account_no, 0), order.held_fen)
        if not found.more:
            return sum(held.values())
        page += 1


def _close_one(platform: Platform, analyst: Actor) -> str:
    from fundwall.cases import CaseStatus, Outcome, case_counts, close_case

    with platform.unit_of_work() as uow:
        if case_counts(uow, analyst)[CaseStatus.CLOSED.value]:
            return f"bank {analyst.member}: a case was closed in an earlier run"
    case_id = _first_case(platform, analyst)
    if case_id is None:
        return f"bank {analyst.member}: no open case to close"
    with platform.unit_of_work() as uow:
        close_case(
            uow,
            analyst,
            case_id,
            Outcome.FALSE_POSITIVE,
            "Payroll of a small firm paid through a new account; the employer confirmed it.",
        )
    return f"bank {analyst.member}: case {case_id} closed as a false positive (a label now)"


def _reports(folder: Path, unit: str) -> list[Report]:
    """The unit's victim reports, one per first-level account, in the order they came in."""
    rows = read_table(folder, "victim_reports").to_pylist()
    seen: dict[str, Report] = {}
    for row in sorted(rows, key=lambda r: (r["reported_at"], r["report_id"], r["line"])):
        if row["police_unit"] == unit and row["payee_account"] not in seen:
            seen[row["payee_account"]] = Report(
                row["report_id"],
                row["payee_account"],
                row["payee_bank"],
                row["amount_fen"],
                row["paid_at"],
            )
    return list(seen.values())


def _orders(platform: Platform, folder: Path, officer: Actor) -> list[str]:
    from fundwall.police import OrderFilter, list_orders

    assert officer.member is not None  # a police officer belongs to its unit
    with platform.unit_of_work() as uow:
        if list_orders(uow, officer, OrderFilter()).items:
            return [f"police {officer.member}: its orders were issued in an earlier run"]
    reports = _reports(folder, officer.member)[:STOP_PAYMENTS]
    if not reports:
        return [f"police {officer.member}: no victim report to act on"]
    now = platform.clock.now()
    refusals: list[str] = []
    held: dict[str, int] = {}  # by account: a stop-payment and a freeze hold the same money
    for index, report in enumerate(reports):
        when = now - EARLIER if index < ISSUED_EARLIER else now
        document_no = f"厦公反诈止字〔2024〕{index + 1:04d}号"
        outcome = _issue_and_execute(
            platform, officer, when, OrderKind.STOP_PAYMENT, report, document_no
        )
        _add(held, report.account, _held(outcome, document_no, refusals))
    largest = max(reports, key=lambda report: report.amount_fen)
    for kind, document_no in (
        (OrderKind.FREEZE, "厦公反诈冻字〔2024〕0001号"),
        (OrderKind.QUERY, "厦公反诈查字〔2024〕0001号"),
    ):
        outcome = _issue_and_execute(platform, officer, now, kind, largest, document_no)
        _add(held, largest.account, _held(outcome, document_no, refusals))
    told = (
        f"police {officer.member}: {len(reports)} victim reports → stop-payments on the "
        f"first-level accounts they paid ({ISSUED_EARLIER} issued yesterday expire within "
        f"24 h), a freeze on {mask_account(largest.account)} (it took "
        f"{format_money(largest.amount_fen)}) and a query of it; the holding banks executed "
        f"them, holding {format_money(sum(held.values()))}"
    )
    return [told, *refusals]


def _add(held: dict[str, int], account: str, fen: int) -> None:
    """Count what an order holds on an account once, at the most any of its orders holds."""
    held[account] = max(held.get(account, 0), fen)


def _held(outcome: int | str, document_no: str, refusals: list[str]) -> int:
    """What an executed order holds; a refused one is told (e.g. an account closed since)."""
    if isinstance(outcome, str):
        refusals.append(f"  order {document_no} refused: {outcome}")
        return 0
    return outcome


def _issue_and_execute(
    platform: Platform,
    officer: Actor,
    when: datetime,
    kind: OrderKind,
    report: Report,
    document_no: str,
) -> int | str:
    """Issue an order at `when` and have the holding bank's system execute it; returns what
    the bank holds, or why the order was refused."""
    from fundwall.police import OrderRequest, issue_order

    query = kind is OrderKind.QUERY
    request = OrderRequest(
        kind=kind,
        document_no=document_no,
        officers="张警官, 李警官",
        police_case_no=POLICE_CASE_NO,
        legal_basis="《反电信网络诈骗法》第二十条; report " + report.report_id,
        account_no=report.account,
        amount_fen=report.amount_fen if kind is OrderKind.STOP_PAYMENT else None,
        period_from=report.paid_at - timedelta(days=1) if query else None,
        period_to=report.paid_at + timedelta(days=2) if query else None,
    )
    clock = FixedClock(when)
    try:
        with platform.unit_of_work(clock=clock) as uow:
            order = issue_order(uow, officer, request, settings=platform.settings)
        return execute_order(platform, order.item.id, report.bank, clock)
    except FundwallError as refused:
        return refused.message()
