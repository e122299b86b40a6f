"""The police's funds-chain traces (资金链查控) over the store, and their one-click batch
stop-payment.

    view = start_trace(uow, officer, [TraceStart("报案-17", "6222…", at, 50_000_00)],
                       AttributionRule.FIFO)
    view = confirm_batch(uow, officer, view.id, BatchRequest("厦公止〔2024〕88号", "王警官",
                         "A3502002024060001", "《反电信网络诈骗法》第三十二条"))

A trace is computed over the process's live index (`fundwall.tracing.live_index`) as of the
server's clock and stored with its starts and rule, so it reads the same later. Confirming
its batch issues one stop-payment per proposed stop (the amount still held), each routed to
its bank, through `fundwall.police.issue_orders`: the orders, the trace's confirmation and
the audit records are one commit, all or nothing. An account stopped or frozen already is
skipped and reported. The accounts the orders name join the unit's police scope (tenancy
reads `police_orders`). Each use case refuses an actor without its permission, reads only the
actor's traces (a unit its own; any other is NotFound) and commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.config import Settings
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.domain.identity import mask_account
from fundwall.domain.police import OrderKind
from fundwall.police.model import OrderRequest, document_number
from fundwall.police.orders import issue_orders
from fundwall.police.queries import acting_unit
from fundwall.store.paging import PAGE_SIZE, Page, fetch_page
from fundwall.store.personal_data import ensure_no_personal_data
from fundwall.store.trace_tables import TraceRow
from fundwall.store.uow import UnitOfWork
from fundwall.tracing.model import MAX_HOPS, MAX_STARTS, AttributionRule, TraceStart
from fundwall.tracing.queries import (
    standings,
    trace_item,
    trace_view,
    visible_trace,
    visible_traces,
)
from fundwall.tracing.stored import result_json, start_json
from fundwall.tracing.views import BatchRequest, Standing, TraceItem, TraceView

LABEL: Final = 64
"""The longest victim label or account number of a start."""


@use_case(Permission.ISSUE_ORDERS)
def start_trace(
    uow: UnitOfWork,
    actor: Actor,
    starts: Sequence[TraceStart],
    rule: AttributionRule,
    *,
    max_hops: int = MAX_HOPS,
    police_unit: str | None = None,
) -> TraceView:
    """Trace victims' payments forward as of now and store the trace of the actor's unit;
    audited and committed. Refused (nothing stored): no start or more than `MAX_STARTS`, a
    start in the future, without a UTC offset, of no positive whole fen, a label or account
    number over 64 characters or holding personal data, hops outside 1…`MAX_HOPS`."""
    now = uow.clock.now()
    unit = acting_unit(uow, actor, police_unit)
    if not 1 <= len(starts) <= MAX_STARTS:
        raise InvalidInput(f"from 1 to {MAX_STARTS} victims' payments", "starts")
    try:
        rule = AttributionRule(rule)
    except ValueError:
        raise InvalidInput(f"one of {', '.join(AttributionRule)}", "rule") from None
    for i, start in enumerate(starts):
        _check_start(start, f"starts[{i}]", now)
    # The index (Arrow, numpy) loads with the first trace, not with every reader of traces.
    from fundwall.tracing.live_index import traced

    result = traced(uow, starts, rule, max_hops=max_hops, as_of=now)
    row = TraceRow(
        police_unit=unit,
        rule=rule.value,
        max_hops=max_hops,
        starts=[start_json(start) for start in result.starts],
        as_of=now,
        result=result_json(result),
        created_at=now,
        created_by=actor.audit_id,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit.record(
        actor,
        "start_trace",
        f"trace:{row.id}",
        {
            "rule": rule.value,
            "starts": len(starts),
            "accounts": len(result.accounts),
            "held_fen": sum(account.held_fen for account in result.accounts),
        },
    )
    uow.commit()
    return trace_view(uow.session, actor, row, now)


@use_case(Permission.ISSUE_ORDERS)
def get_trace(uow: UnitOfWork, actor: Actor, trace_id: int) -> TraceView:
    """One of the actor's traces, with each account's standing now; NotFound for any other."""
    now = uow.clock.now()
    return trace_view(uow.session, actor, visible_trace(uow.session, actor, trace_id), now)


@use_case(Permission.ISSUE_ORDERS)
def list_traces(
    uow: UnitOfWork, actor: Actor, page: int = 1, *, police_unit: str | None = None
) -> Page[TraceItem]:
    """The actor's traces (a unit its own; the operator's, of `police_unit` if named),
    newest first."""
    query = visible_traces(actor)
    if police_unit is not None:
        query = query.where(TraceRow.police_unit == police_unit)
    query = query.order_by(TraceRow.created_at.desc(), TraceRow.id.desc())
    return fetch_page(uow.session, query, page, PAGE_SIZE, lambda found: trace_item(found[0]))


@use_case(Permission.ISSUE_ORDERS)
def confirm_batch(
    uow: UnitOfWork,
    actor: Actor,
    trace_id: int,
    request: BatchRequest,
    *,
    settings: Settings | None = None,
) -> TraceView:
    """Issue the trace's proposed stops as one batch of stop-payment orders (each for the
    amount still held, routed to the account's bank, numbered `<prefix>-01`, `-02`…) in one
    commit with the trace's confirmation. An account stopped or frozen already is skipped
    and reported; any order refused refuses the batch (nothing issued). A trace's batch is
    confirmed once: a second confirmation is a Conflict."""
    session, now = uow.session, uow.clock.now()
    row = visible_trace(session, actor, trace_id)
    if row.batch_confirmed_at is not None:
        raise Conflict(f"the batch of trace {row.id} was confirmed already")
    stops = trace_view(session, actor, row, now).stops
    if request.accounts is not None:
        unknown = set(request.accounts) - {stop.account_no for stop in stops}
        if unknown:
            masked = ", ".join(sorted(mask_account(account) for account in unknown))
            raise InvalidInput(f"not proposed by the trace: {masked}", "accounts")
        stops = tuple(stop for stop in stops if stop.account_no in request.accounts)
    if not stops:
        raise InvalidInput("the trace proposes no stop-payment to confirm", "accounts")
    standing = standings(session, (stop.account_no for stop in stops), now)
    to_issue = [stop for stop in stops if standing[stop.account_no] is Standing.OPEN]
    width = max(2, len(str(len(to_issue))))
    documents = [
        document_number(f"{request.document_prefix.strip()}-{n:0{width}d}", "document_prefix")
        for n in range(1, len(to_issue) + 1)
    ]
    orders: list[dict[str, Any]] = [
        {
            "account_no": stop.account_no,
            "bank": stop.bank,
            "amount_fen": stop.amount_fen,
            "document_no": document,
        }
        for stop, document in zip(to_issue, documents, strict=True)
    ]
    skipped = [
        {"account_no": stop.account_no, "standing": standing[stop.account_no].value}
        for stop in stops
        if standing[stop.account_no] is not Standing.OPEN
    ]
    row.batch = {"orders": orders, "skipped": skipped}
    row.batch_confirmed_at, row.batch_confirmed_by = now, actor.audit_id
    uow.audit.record(
        actor,
        "confirm_batch",
        f"trace:{row.id}",
        {
            "orders": [order["document_no"] for order in orders],
            "amount_fen": sum(order["amount_fen"] for order in orders),
            "skipped": [mask_account(item["account_no"]) for item in skipped],
        },
    )
    if not to_issue:
        uow.commit()
    else:
        requests = [
            OrderRequest(
                OrderKind.STOP_PAYMENT,
                order["document_no"],
                request.officers,
                request.police_case_no,
                request.legal_basis,
                account_no=order["account_no"],
                amount_fen=order["amount_fen"],
                major_case=request.major_case,
                police_unit=row.police_unit,
            )
            for order in orders
        ]
        try:
            # Commits the trace's confirmation and its audit record with the orders.
            issue_orders(uow, actor, requests, settings=settings)
        except Exception:
            uow.rollback()
            raise
    return trace_view(session, actor, row, now)


def _check_start(start: TraceStart, field: str, now: datetime) -> None:
    for value, name in ((start.source, "source"), (start.account_no, "account_no")):
        if not isinstance(value, str) or not value.strip() or len(value) > LABEL:
            raise InvalidInput(f"1 to {LABEL} characters", f"{field}.{name}")
    ensure_no_personal_data(start.source, f"{field}.source")
    if start.at.utcoffset() is None:
        raise InvalidInput("time has no UTC offset; give one, e.g. +08:00", f"{field}.at")
    if start.at > now:
        raise InvalidInput("the payment is in the future", f"{field}.at")
    if type(start.amount_fen) is not int or start.amount_fen <= 0:
        raise InvalidInput("a whole, positive number of fen", f"{field}.amount_fen")
