"""Every route of `fundwall serve`, for every role and both members: nobody reaches what is
not theirs.

The routes come from the app's own route table, and `ROUTES` says for each, in one line, who
may use it (public, any signed-in user, or the holders of a permission) and what a request
carries; a route missing from `ROUTES` fails the first test, so a new route cannot go
unchecked. Then, for each principal (anonymous; an admin, an analyst and an API key of each
of two members; the hub supervisor, a police officer and an auditor), each route is asked
about the principal's own member's records and about the other member's (see access.py):

* a principal the route does not admit is refused: 401, 403, 404, or sent to sign in;
* one it admits is let in for its own member's records;
* a path naming another member's account or transaction is refused;
* no answer shows a transaction id or an account number the principal's member never dealt
  with (for a principal of no member, any customer's at all);
* nothing answers with a server error.

The police see what their orders cover (the police scope): the officer's unit and its API
key have an order on an account of the first member, and that account, its transactions
and the order are their own records; the members' records are another unit's orders, on
accounts the police unit's order never touches, which the police must not reach. A member's
own records include the order routed to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import pytest

from api.pacs import member_pacs008  # tests/api/pacs.py
from fundwall.accounts.controls import restrict
from fundwall.appeals.filing import EvidenceFile, file_appeal
from fundwall.appeals.queries import person_actor
from fundwall.appeals.review import ask_opinion
from fundwall.auth import Actor, ActorKind, Passwords, Role
from fundwall.auth.roles import Permission
from fundwall.cases import CaseKind, add_evidence, open_case
from fundwall.domain.identity.account_number import luhn_check_digit
from fundwall.domain.screening import Check
from fundwall.engine.controls import Evidence, ListKind, RestrictionKind, RiskCategory
from fundwall.members import add_user, list_users
from fundwall.models.registry import register_model
from fundwall.outreach.campaigns import Segment, send_campaign
from fundwall.screening.actions import carry_out_action, request_action
from fundwall.screening.runs import screen_accounts
from fundwall.sharing.model import NewEntry
from fundwall.sharing.risk_list import publish_entries
from fundwall.store import open_database
from fundwall.store.tables import AccountRow, PartyRow
from models.factory import make_model  # tests/models/factory.py

from .access import (
    QUERY_PERIOD,
    SECOND_ADMIN,
    Caller,
    Expect,
    Records,
    add_dissuasion_task,
    add_return_plans,
    app_routes,
    clue_accounts_of,
    door,
    hidden_from,
    issue_orders,
    judge,
    needs,
    police_scope_of,
    principals,
    public,
    records_of,
    store_trace,
)
from .conftest import Console
from .region import NOW, PASSWORD, Region

# The module's console and records, built once: its tests on one worker, so they are built once.
pytestmark = pytest.mark.xdist_group("route_access")


def _transaction(records: Records) -> dict[str, Any]:
    return {"json": dict(records.transaction)}


def _batch(records: Records) -> dict[str, Any]:
    return {"json": [dict(records.transaction)]}


def _pacs008(records: Records) -> dict[str, Any]:
    values = records.values
    created = NOW.isoformat(timespec="seconds")
    message = member_pacs008(values["tx_id"], records.bank, values["account_no"], created)
    return {"content": message, "headers": {"content-type": "application/xml"}}


def _opening(records: Records) -> dict[str, Any]:
    """A card the member opens, numbered after the records' bank (the key's member opens it)."""
    payload = "6222020" + records.bank.zfill(11)[-11:]
    return {
        "json": {
            "account_no": payload + luhn_check_digit(payload),
            "account_class": "I",
            "opened_at": NOW.isoformat(),
            "holder": {"kind": "person", "id_number": "11010519491231002X", "name": "张三"},
        }
    }


def _order(records: Records) -> dict[str, Any]:
    return {
        "json": {
            "kind": "query",
            "document_no": "ROUTE-API-0001",
            "officers": "王警官",
            "police_case_no": "A3502002024030001",
            "legal_basis": "《反电信网络诈骗法》第三十二条",
            "account_no": records.values["account_no"],
            "period_from": QUERY_PERIOD[0].isoformat(),
            "period_to": QUERY_PERIOD[1].isoformat(),
        }
    }


def _answer(records: Records) -> dict[str, Any]:
    return {"json": {"executed": True}}


def _change(records: Records) -> dict[str, Any]:
    return {"json": {"status": "non_counter_suspended", "reason": "customer asked"}}


def _tier(records: Records) -> dict[str, Any]:
    return {"json": {"tier": "medium", "reason": "screening: many accounts"}}


def _onboarding(records: Records) -> dict[str, Any]:
    return {"json": {"applicant": "flexible_worker", "id_number": "11010519491231002X",
                     "name": "张三", "phone": "13812345678"}}  # fmt: skip


def _closure(records: Records) -> dict[str, Any]:
    return {"json": {"verification": "member_channel", "move_to": "6222020200112233445"}}


def _phone(records: Records) -> dict[str, Any]:
    return {"json": {"phone": "13812345678"}}


def _evidence(records: Records) -> dict[str, Any]:
    return {"files": {"file": ("list.csv", b"account,amount\n", "text/csv")}}


def _trace(records: Records) -> dict[str, Any]:
    start = {"source": "报案-R", "account_no": records.values["account_no"],
             "at": QUERY_PERIOD[0].isoformat(), "amount_fen": 100}  # fmt: skip
    return {"json": {"starts": [start]}}


LISTED: Final = "6222029999999991"
"""An account outside the region that both members list (entries 1 and 2)."""


def _share_entries(records: Records) -> dict[str, Any]:
    entry = {"kind": "account", "key": "6222029999999992", "bank": "B9",
             "category": "mule", "evidence": "member_verified"}  # fmt: skip
    return {"json": {"entries": [entry]}}


def _share_file(records: Records) -> dict[str, Any]:
    text = "kind,key,bank,category,evidence\naccount,6222029999999993,B9,mule,member_verified\n"
    return {"content": text.encode(), "headers": {"content-type": "text/csv"}}


def _share_match(records: Records) -> dict[str, Any]:
    text = f"kind,key,bank\naccount,{LISTED},B9\n"
    return {"content": text.encode(), "headers": {"content-type": "text/csv"}}


def _share_retract(records: Records) -> dict[str, Any]:
    return {"json": {"reason": "reported in error"}}


def _appeal_opinion(records: Records) -> dict[str, Any]:
    return {"json": {"police_unit": records.values["police_unit"], "question": "是否涉案？"}}


def _appeal_decision(records: Records) -> dict[str, Any]:
    return {"json": {"outcome": "lifted", "answer": "经核实为本人正常使用，已解除。"}}


def _screening_run(records: Records) -> dict[str, Any]:
    return {"json": {"checks": ["dormant", "shared_phone"]}}


def _screening_action(records: Records) -> dict[str, Any]:
    every = [check.value for check in Check]
    return {"json": {"action": "notify", "checks": every, "reason": "存量账户排查"}}


def _share_match_upload(records: Records) -> dict[str, Any]:
    text = f"kind,key,bank\naccount,{LISTED},B9\n"
    return {"files": {"file": ("ids.csv", text.encode(), "text/csv")}}


CONSOLE_ENTRY: Final = {"kind": "account", "key": "6222029999999994", "bank": "B9",
                        "category": "mule", "evidence": "member_verified"}  # fmt: skip
"""The console's publish form: an account outside the region."""


CONSOLE_ONBOARDING: Final = {"applicant": "flexible_worker", "id_number": "11010519491231002X",
                             "name": "张三", "phone": "13812345678"}  # fmt: skip
"""The simplified opening form: someone new to the region, with no account to open."""


CONSOLE_CHECKS: Final = {f"check:{check.value}": "on" for check in Check}
"""The screening forms' ticked checks: every one."""


def _trace_batch(records: Records) -> dict[str, Any]:
    return {"json": {key: value for key, value in CONSOLE_BATCH.items()}}


CONSOLE_TRACE: Final = {"starts": "报案-R, {account_no}, 2024-03-01T10:00, 1.00", "rule": "lifo"}
"""The officer's trace form: one victim's payment into the records' account."""
CONSOLE_BATCH: Final = {
    "document_prefix": "ROUTE-BATCH",
    "officers": "王警官",
    "police_case_no": "A3502002024030001",
    "legal_basis": "第三十二条",
}
CONSOLE_ORDER: Final = {
    "kind": "query",
    "document_no": "ROUTE-CONSOLE-0001",
    "officers": "王警官",
    "police_case_no": "A3502002024030001",
    "legal_basis": "第三十二条",
    "account_no": "{account_no}",
    "period_from": "2024-03-01",
    "period_to": "2024-03-09",
}
"""The officer's order form: an account query on the records' account."""


def _clue(records: Records) -> dict[str, Any]:
    values = records.values
    summary = "sent again to the unit"
    return {
        "json": {
            "case_id": int(values["case_id"]),
            "police_unit": values["police_unit"],
            "summary": summary,
        }
    }


def _clue_answer(records: Records) -> dict[str, Any]:
    return {"json": {"status": "received"}}


def _plan(records: Records) -> dict[str, Any]:
    victims = [{"victim_account": "V1", "loss_fen": 100}]
    return {"json": {"order_id": int(records.values["order_id"]), "victims": victims}}


def _objection(records: Records) -> dict[str, Any]:
    return {"json": {"objector": "victim", "text": "异议"}}


def _decision(records: Records) -> dict[str, Any]:
    return {"json": {"decision": "dismissed", "reason": "不成立"}}


def _execution(records: Records) -> dict[str, Any]:
    return {"json": {"transfer_ref": "RT-1"}}


def _outcome(records: Records) -> dict[str, Any]:
    return {"json": {"outcome": "not_reached", "note": "route check"}}


def _cancellation(records: Records) -> dict[str, Any]:
    return {"json": {"tx_id": records.values["tx_id"], "reason": "the payer called"}}


def _campaign(records: Records) -> dict[str, Any]:
    return {"json": {"title": "提醒", "template": "campaign_elderly", "segment": "elderly"}}


def _template(records: Records) -> dict[str, Any]:
    return {"json": {"name": "route_check", "text": "{bank}提醒：谨防诈骗。回复TD退订"}}


def _event(records: Records) -> dict[str, Any]:
    event = {"kind": "branch", "title": "网点宣传", "held_on": NOW.date().isoformat()}
    return {"json": event | {"place": "网点", "attendance": 10, "reach": 20}}


def _opt_out(records: Records) -> dict[str, Any]:
    return {"json": {"phone": "13812345678", "channel": "counter"}}


P = Permission
ROUTES: Final[Mapping[tuple[str, str], Expect]] = {
    # Public: the health check, the API documentation, static files, signing in, language.
    ("GET", "/healthz"): public(),
    ("GET", "/openapi.json"): public(),
    ("GET", "/docs"): public(),
    ("GET", "/docs/assets/{path}"): public(path="swagger-ui.css"),
    ("GET", "/static/{path}"): public(path="app.js"),
    ("GET", "/login"): public(),
    ("POST", "/login"): public(),
    ("GET", "/lang/{language}"): public(),
    # The public portal, a mounted app of its own: its routes, for persons, are held by
    # tests/portal/test_portal_access.py; here only that no console principal reaches into it.
    ("GET", "/portal/{path}"): public(path="restrictions"),
    # The engine's API: a member's key submits its own transactions.
    ("POST", "/v1/transactions"): needs(P.SUBMIT_TRANSACTIONS, body=_transaction),
    ("POST", "/v1/transactions/batch"): needs(P.SUBMIT_TRANSACTIONS, body=_batch),
    ("POST", "/v1/iso20022/pacs.008"): needs(P.SUBMIT_TRANSACTIONS, body=_pacs008),
    # A member's key reports its accounts' life.
    ("POST", "/v1/accounts"): needs(P.REPORT_ACCOUNTS, body=_opening),
    ("PATCH", "/v1/accounts/{account_no}"): needs(P.REPORT_ACCOUNTS, body=_change),
    ("POST", "/v1/accounts/{account_no}/phone"): needs(P.REPORT_ACCOUNTS, body=_phone),
    ("GET", "/v1/outreach/tasks"): needs(P.WORK_DISSUASION),
    ("GET", "/v1/outreach/tasks/{task_id}"): needs(P.WORK_DISSUASION),
    ("POST", "/v1/outreach/tasks/{task_id}/claim"): needs(P.WORK_DISSUASION),
    ("POST", "/v1/outreach/tasks/{task_id}/outcome"): needs(P.WORK_DISSUASION, body=_outcome),
    ("POST", "/v1/outreach/cancellations"): needs(P.WORK_DISSUASION, body=_cancellation),
    ("GET", "/v1/outreach/segments/{segment}"): needs(P.RUN_CAMPAIGNS, fill={"segment": "elderly"}),
    ("GET", "/v1/outreach/campaigns"): needs(P.RUN_CAMPAIGNS),
    ("POST", "/v1/outreach/campaigns"): needs(P.RUN_CAMPAIGNS, body=_campaign),
    ("GET", "/v1/outreach/campaigns/{campaign_id}"): needs(P.RUN_CAMPAIGNS),
    ("GET", "/v1/outreach/templates"): needs(P.RUN_CAMPAIGNS),
    ("POST", "/v1/outreach/templates"): needs(P.RUN_CAMPAIGNS, body=_template),
    ("GET", "/v1/outreach/events"): needs(P.RUN_CAMPAIGNS),
    ("POST", "/v1/outreach/events"): needs(P.RUN_CAMPAIGNS, body=_event),
    ("POST", "/v1/outreach/opt-outs"): needs(P.RECORD_OPT_OUTS, body=_opt_out),
    ("PUT", "/v1/accounts/{account_no}/tier"): needs(P.SET_RISK_TIERS, body=_tier),
    ("PUT", "/v1/customers/{party_id}/tier"): needs(P.SET_RISK_TIERS, body=_tier),
    ("POST", "/v1/onboarding"): needs(P.ONBOARD_CUSTOMERS, body=_onboarding),
    ("POST", "/v1/accounts/{account_no}/closure"): needs(P.REPORT_ACCOUNTS, body=_closure),
    # The member-data API: a key, or a console session, reads its member's records.
    ("GET", "/v1/accounts/{account_no}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/accounts/{account_no}/transactions"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/transactions/{tx_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/alerts"): needs(P.VIEW_ALERTS),
    # Police orders: a unit issues and reads its own, a bank reads and answers those routed
    # to it.
    ("POST", "/v1/orders"): needs(P.ISSUE_ORDERS, body=_order),
    # Funds-chain traces: a police unit's own (the route never shows another unit's).
    ("POST", "/v1/traces"): needs(P.ISSUE_ORDERS, body=_trace),
    ("GET", "/v1/traces"): needs(P.ISSUE_ORDERS),
    ("GET", "/v1/traces/{trace_id}"): needs(P.ISSUE_ORDERS),
    ("POST", "/v1/traces/{trace_id}/batch"): needs(P.ISSUE_ORDERS, body=_trace_batch),
    ("GET", "/v1/orders"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/orders/expiring"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/orders/{order_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/orders/{order_id}/notice.pdf"): needs(P.VIEW_CUSTOMER_DATA),
    ("POST", "/v1/orders/{order_id}/answer"): needs(P.EXECUTE_ORDERS, body=_answer),
    ("GET", "/v1/orders/{order_id}/receipt.pdf"): needs(P.VIEW_CUSTOMER_DATA),
    # The console.
    ("POST", "/logout"): Expect(None, ends_session=True),
    ("GET", "/"): needs(None),
    ("GET", "/overview/live"): needs(P.VIEW_OVERVIEW),
    ("GET", "/transactions"): needs(P.VIEW_CUSTOMER_DATA, params={"account": "{account_no}"}),
    ("GET", "/transactions/{tx_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/accounts/{account_no}"): needs(P.VIEW_CUSTOMER_DATA),
    ("POST", "/accounts/{account_no}/unmask"): needs(
        P.UNMASK_PERSONAL_DATA, data={"purpose": "fraud report 24-117"}
    ),
    # Account governance: a member's tier form on its own accounts; simplified opening (a
    # stranger's application: decided, nothing opened).
    ("POST", "/accounts/{account_no}/tier"): needs(
        P.SET_RISK_TIERS, data={"tier": "high", "reason": "holder lent the account out"}
    ),
    ("GET", "/onboarding"): needs(P.ONBOARD_CUSTOMERS),
    ("POST", "/onboarding"): needs(P.ONBOARD_CUSTOMERS, data=CONSOLE_ONBOARDING),
    ("GET", "/alerts"): needs(P.VIEW_ALERTS),
    ("GET", "/outreach"): needs(P.WORK_DISSUASION),
    ("GET", "/outreach/campaigns"): needs(P.RUN_CAMPAIGNS, params={"segment": "elderly"}),
    ("GET", "/outreach/messages"): needs(P.RUN_CAMPAIGNS, params={"purpose": "notice"}),
    ("GET", "/outreach/events"): needs(
        P.RUN_CAMPAIGNS, params={"from": "2024-03-01"}, alternatively=P.VIEW_REGION
    ),
    ("POST", "/outreach/campaigns"): needs(
        P.RUN_CAMPAIGNS,
        data={"title": "提醒", "template": "campaign_elderly", "segment": "elderly"},
    ),
    ("POST", "/outreach/events"): needs(
        P.RUN_CAMPAIGNS,
        data={
            "kind": "branch",
            "title": "网点宣传",
            "held_on": NOW.date().isoformat(),
            "place": "网点",
            "attendance": "10",
            "reach": "20",
        },
    ),
    ("GET", "/outreach/tasks/{task_id}"): needs(P.WORK_DISSUASION),
    ("POST", "/outreach/tasks/{task_id}/claim"): needs(P.WORK_DISSUASION),
    ("POST", "/outreach/tasks/{task_id}/outcome"): needs(
        P.WORK_DISSUASION, data={"outcome": "not_reached", "note": "route check"}
    ),
    ("POST", "/alerts/{tx_id}"): needs(P.WORK_ALERTS, data={"status": "in_progress"}),
    ("GET", "/cases"): needs(P.WORK_CASES),
    ("POST", "/cases/group"): needs(P.WORK_CASES, data={"by": "account"}),
    ("GET", "/cases/{case_id}"): needs(P.WORK_CASES),
    ("POST", "/cases/{case_id}"): needs(P.WORK_CASES, data={"priority": "high"}),
    ("POST", "/cases/{case_id}/notes"): needs(P.WORK_CASES, data={"body": "called the bank"}),
    ("POST", "/cases/{case_id}/evidence"): needs(P.WORK_CASES, body=_evidence),
    ("GET", "/cases/{case_id}/evidence/{evidence_id}"): needs(P.WORK_CASES),
    ("POST", "/cases/{case_id}/merge"): needs(P.WORK_CASES, data={"into": "{case_id}"}),
    ("POST", "/cases/{case_id}/split"): needs(P.WORK_CASES, data={"title": "part"}),
    ("POST", "/cases/{case_id}/close"): needs(
        P.WORK_CASES, data={"outcome": "mule", "reason": "sold the card"}
    ),
    ("GET", "/orders"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/orders/new"): needs(P.ISSUE_ORDERS),
    ("POST", "/orders"): needs(P.ISSUE_ORDERS, data=CONSOLE_ORDER),
    ("GET", "/orders/{order_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("POST", "/orders/{order_id}/answer"): needs(P.EXECUTE_ORDERS, data={"result": "executed"}),
    ("GET", "/traces"): needs(P.ISSUE_ORDERS),
    ("GET", "/traces/new"): needs(P.ISSUE_ORDERS),
    ("POST", "/traces"): needs(P.ISSUE_ORDERS, data=CONSOLE_TRACE),
    ("GET", "/traces/{trace_id}"): needs(P.ISSUE_ORDERS),
    ("POST", "/traces/{trace_id}/batch"): needs(P.ISSUE_ORDERS, data=CONSOLE_BATCH),
    ("GET", "/packs"): needs(P.VIEW_RULE_PACKS),
    ("GET", "/packs/{version}"): needs(P.VIEW_RULE_PACKS),
    ("GET", "/packs/diff"): needs(
        P.VIEW_RULE_PACKS, params={"before": "{live}", "after": "{version}"}
    ),
    ("GET", "/packs/compare"): needs(P.VIEW_RULE_PACKS, params={"shadow": "{version}"}),
    ("GET", "/packs/backtests"): needs(P.VIEW_RULE_PACKS),
    ("GET", "/packs/backtests/compare"): needs(
        P.VIEW_RULE_PACKS, params={"region": "{region}", "base": "{live}", "other": "{version}"}
    ),
    ("POST", "/packs/{version}/shadow"): needs(P.PROMOTE_RULE_PACKS),
    ("POST", "/packs/shadow/stop"): needs(P.PROMOTE_RULE_PACKS),
    ("POST", "/packs/{version}/promote"): needs(P.PROMOTE_RULE_PACKS),
    # The model registry: a registered transaction model (`{model}`).
    ("GET", "/models"): needs(P.VIEW_MODELS),
    ("GET", "/models/compare"): needs(P.VIEW_MODELS, params={"version": "{model}"}),
    ("GET", "/models/{version}"): needs(P.VIEW_MODELS, fill={"version": "{model}"}),
    ("POST", "/models/{version}/promote"): needs(
        P.PROMOTE_MODELS, data={"state": "shadow", "reason": "trial"}, fill={"version": "{model}"}
    ),
    # Clues: the bank's outbox, its clue's page and sending from a case; the police unit's
    # inbox, answer and evidence (of the clue the demo officer's unit has); the hub's counts.
    ("GET", "/clues/outbox"): needs(P.SEND_CLUES),
    ("GET", "/clues/{clue_id}"): needs(P.SEND_CLUES),
    ("POST", "/cases/{case_id}/clue"): needs(
        P.SEND_CLUES, data={"police_unit": "{police_unit}", "summary": "sent again to the unit"}
    ),
    ("GET", "/clues/inbox"): needs(P.ANSWER_CLUES),
    ("POST", "/clues/{clue_id}/answer"): needs(
        P.ANSWER_CLUES, data={"status": "received"}, fill={"clue_id": "{police_clue_id}"}
    ),
    ("GET", "/clues/{clue_id}/evidence/{evidence_id}"): needs(
        P.ANSWER_CLUES,
        fill={"clue_id": "{police_clue_id}", "evidence_id": "{police_evidence_id}"},
    ),
    ("GET", "/clues/counts"): needs(P.VIEW_REGION),
    ("GET", "/v1/cases"): needs(P.VIEW_CASES, params={"status": "open"}),
    ("GET", "/v1/cases/{case_id}"): needs(P.VIEW_CASES),
    ("POST", "/v1/clues"): needs(P.SEND_CLUES, body=_clue),
    ("GET", "/v1/clues"): needs(P.SEND_CLUES),
    ("GET", "/v1/clues/inbox"): needs(P.ANSWER_CLUES),
    ("GET", "/v1/clues/{clue_id}"): needs(P.SEND_CLUES),
    ("POST", "/v1/clues/{clue_id}/answer"): needs(
        P.ANSWER_CLUES, body=_clue_answer, fill={"clue_id": "{police_clue_id}"}
    ),
    # Fund returns: a unit manages its plans, its unit or the holding bank records
    # objections, the bank executes; each plan has one share and one objection of the same id.
    ("POST", "/v1/returns"): needs(P.RETURN_FUNDS, body=_plan),
    ("GET", "/v1/returns"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/v1/returns/{plan_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("POST", "/v1/returns/{plan_id}/amend"): needs(P.RETURN_FUNDS, body=_plan),
    ("POST", "/v1/returns/{plan_id}/publish"): needs(P.RETURN_FUNDS),
    ("POST", "/v1/returns/{plan_id}/objections"): needs(P.VIEW_CUSTOMER_DATA, body=_objection),
    ("POST", "/v1/returns/{plan_id}/objections/{objection_id}/decision"): needs(
        P.RETURN_FUNDS, body=_decision, fill={"objection_id": "{plan_id}"}
    ),
    ("POST", "/v1/returns/{plan_id}/approve"): needs(P.RETURN_FUNDS),
    ("POST", "/v1/returns/{plan_id}/shares/{share_id}/execute"): needs(
        P.EXECUTE_ORDERS, body=_execution, fill={"share_id": "{plan_id}"}
    ),
    ("GET", "/v1/returns/{plan_id}/shares/{share_id}/receipt.pdf"): needs(
        P.VIEW_CUSTOMER_DATA, fill={"share_id": "{plan_id}"}
    ),
    ("GET", "/returns"): needs(P.VIEW_CUSTOMER_DATA),
    ("GET", "/returns/new"): needs(
        P.RETURN_FUNDS, params={"order": "{order_id}", "trace": "{trace_id}"}
    ),
    ("POST", "/returns"): needs(
        P.RETURN_FUNDS, data={"order": "{order_id}", "victims": "6222020000000001, 1.00"}
    ),
    ("GET", "/returns/{plan_id}"): needs(P.VIEW_CUSTOMER_DATA),
    ("POST", "/returns/{plan_id}/publish"): needs(P.RETURN_FUNDS),
    ("POST", "/returns/{plan_id}/approve"): needs(P.RETURN_FUNDS),
    ("POST", "/returns/{plan_id}/objections"): needs(
        P.VIEW_CUSTOMER_DATA, data={"objector": "victim", "text": "异议"}
    ),
    ("POST", "/returns/{plan_id}/objections/{objection_id}/decision"): needs(
        P.RETURN_FUNDS,
        data={"decision": "dismissed", "reason": "不成立"},
        fill={"objection_id": "{plan_id}"},
    ),
    ("POST", "/returns/{plan_id}/shares/{share_id}/execute"): needs(
        P.EXECUTE_ORDERS, data={"transfer_ref": "RT-1"}, fill={"share_id": "{plan_id}"}
    ),
    # The sharing hub, its API and console pages: entries 1 and 2 are the members' own
    # (`{share_entry}`, published by the served console); the hub suspends and resumes the
    # members' publishing (`{bank}`).
    ("POST", "/v1/share/entries"): needs(P.PUBLISH_RISK, body=_share_entries),
    ("POST", "/v1/share/entries/file"): needs(P.PUBLISH_RISK, body=_share_file),
    ("GET", "/v1/share/entries/{entry_id}"): needs(
        P.QUERY_RISK_LIST, fill={"entry_id": "{share_entry}"}
    ),
    ("POST", "/v1/share/entries/{entry_id}/retract"): needs(
        P.PUBLISH_RISK, body=_share_retract, fill={"entry_id": "{share_entry}"}
    ),
    ("GET", "/v1/share/query"): needs(P.QUERY_RISK_LIST, params={"kind": "account", "key": LISTED}),
    ("POST", "/v1/share/match"): needs(P.QUERY_RISK_LIST, body=_share_match),
    ("GET", "/v1/share/feed"): needs(P.QUERY_RISK_LIST),
    ("GET", "/v1/share/events"): needs(P.QUERY_RISK_LIST),
    ("GET", "/v1/share/keys"): needs(P.QUERY_RISK_LIST),
    ("GET", "/v1/share/rekey"): needs(P.PUBLISH_RISK),
    # Screening: a run and an action of each member (`{run_id}`, `{action_id}`, made by the
    # served console); the hub reads every run with account numbers masked.
    ("POST", "/v1/screening/runs"): needs(P.SCREEN_ACCOUNTS, body=_screening_run),
    ("GET", "/v1/screening/runs"): needs(P.VIEW_SCREENING),
    ("GET", "/v1/screening/runs/{run_id}"): needs(P.VIEW_SCREENING),
    ("GET", "/v1/screening/runs/{run_id}/items"): needs(P.VIEW_SCREENING),
    ("POST", "/v1/screening/runs/{run_id}/actions"): needs(
        P.SCREEN_ACCOUNTS, body=_screening_action
    ),
    ("GET", "/v1/screening/actions/{action_id}"): needs(P.VIEW_SCREENING),
    ("GET", "/v1/screening/figures"): needs(P.VIEW_SCREENING),
    # Appeals: a member reviews and decides its own accounts' appeals.
    ("GET", "/v1/appeals"): needs(P.REVIEW_APPEALS),
    ("GET", "/v1/appeals/{appeal_id}"): needs(P.REVIEW_APPEALS),
    ("GET", "/v1/appeals/{appeal_id}/evidence/{evidence_id}"): needs(
        P.REVIEW_APPEALS, fill={"evidence_id": "{appeal_evidence_id}"}
    ),
    ("POST", "/v1/appeals/{appeal_id}/opinion-request"): needs(
        P.REVIEW_APPEALS, body=_appeal_opinion
    ),
    ("POST", "/v1/appeals/{appeal_id}/decision"): needs(P.REVIEW_APPEALS, body=_appeal_decision),
    # Appeals on the console: the bank's queue, appeal, files, question and decision; the
    # police unit's opinion requests (the unit asked about the first member's appeal, in
    # `served`); the hub's overdue list.
    ("GET", "/appeals"): needs(P.REVIEW_APPEALS),
    ("GET", "/appeals/overdue"): needs(P.OVERSEE_APPEALS),
    ("GET", "/appeals/{appeal_id}"): needs(P.REVIEW_APPEALS),
    ("GET", "/appeals/{appeal_id}/evidence/{evidence_id}"): needs(
        P.REVIEW_APPEALS, fill={"evidence_id": "{appeal_evidence_id}"}
    ),
    ("POST", "/appeals/{appeal_id}/opinion-request"): needs(
        P.REVIEW_APPEALS, data={"police_unit": "{police_unit}", "question": "是否涉案？"}
    ),
    ("POST", "/appeals/{appeal_id}/decision"): needs(
        P.REVIEW_APPEALS, data={"outcome": "maintained", "answer": "经核实，维持。"}
    ),
    ("GET", "/opinions"): needs(P.GIVE_APPEAL_OPINIONS),
    ("GET", "/opinions/{appeal_id}"): needs(P.GIVE_APPEAL_OPINIONS),
    ("POST", "/opinions/{appeal_id}"): needs(
        P.GIVE_APPEAL_OPINIONS, data={"opinion": "未发现涉案线索。"}
    ),
    # Screening on the console: the same run and action of each member; a member starts a
    # run of its own accounts, the hub one of the whole region.
    ("GET", "/screening"): needs(P.VIEW_SCREENING),
    ("POST", "/screening/runs"): needs(P.SCREEN_ACCOUNTS, data=CONSOLE_CHECKS),
    ("POST", "/screening/region"): needs(P.SCREEN_REGION, data=CONSOLE_CHECKS),
    ("GET", "/screening/runs/{run_id}"): needs(P.VIEW_SCREENING),
    ("POST", "/screening/runs/{run_id}/actions"): needs(
        P.SCREEN_ACCOUNTS, data={"action": "notify", "reason": "存量账户排查", **CONSOLE_CHECKS}
    ),
    ("GET", "/screening/actions/{action_id}"): needs(P.VIEW_SCREENING),
    ("POST", "/screening/actions/{action_id}/carry-out"): needs(P.SCREEN_ACCOUNTS),
    # The official statistics: each principal's own scope (the region for the hub, its
    # member, its police unit's part); the exports carry the same figures.
    ("GET", "/v1/reports/figures"): needs(P.VIEW_REPORTS, params={"period": "2024"}),
    ("GET", "/reports"): needs(P.VIEW_REPORTS, params={"period": "2024"}),
    ("GET", "/reports/export"): needs(P.VIEW_REPORTS, params={"period": "2024", "format": "xlsx"}),
    # Phone verification: a member's investigations and publishing one of their rows (its
    # recycled number still bound, `{binding}`), re-checking a holder's phone, the hub's
    # counts. The investigations are a member's: verify_phones is held by the member roles
    # alone (the police read customer data, but no customer's phone).
    ("GET", "/phones"): needs(P.VERIFY_PHONES, params={"finding": "recycled_phone"}),
    ("POST", "/phones/publish"): needs(
        P.PUBLISH_RISK, data={"finding": "recycled_phone", "binding": "{binding}"}
    ),
    ("POST", "/accounts/{account_no}/phone/recheck"): needs(P.VERIFY_PHONES),
    ("GET", "/phones/overview"): needs(P.VIEW_REGION),
    ("GET", "/share"): needs(P.QUERY_RISK_LIST),
    ("GET", "/share/new"): needs(P.PUBLISH_RISK),
    ("POST", "/share"): needs(P.PUBLISH_RISK, data=CONSOLE_ENTRY),
    ("GET", "/share/query"): needs(P.QUERY_RISK_LIST, params={"kind": "account", "key": LISTED}),
    ("GET", "/share/match"): needs(P.QUERY_RISK_LIST),
    ("POST", "/share/match"): needs(P.QUERY_RISK_LIST, body=_share_match_upload),
    ("GET", "/share/feed"): needs(P.QUERY_RISK_LIST),
    ("GET", "/share/feed/events"): needs(P.QUERY_RISK_LIST),
    ("GET", "/share/{entry_id}"): needs(P.QUERY_RISK_LIST, fill={"entry_id": "{share_entry}"}),
    ("POST", "/share/{entry_id}/retract"): needs(
        P.PUBLISH_RISK, data={"reason": "reported in error"}, fill={"entry_id": "{share_entry}"}
    ),
    ("POST", "/share/{entry_id}/hub-retract"): needs(
        P.MANAGE_RISK_LIST, data={"reason": "reported in error"}, fill={"entry_id": "{share_entry}"}
    ),
    ("GET", "/share/hub"): needs(P.MANAGE_RISK_LIST),
    ("POST", "/share/hub/{member}/suspend"): needs(
        P.MANAGE_RISK_LIST, data={"reason": "entries retracted as wrong"}, fill={"member": "{bank}"}
    ),
    ("POST", "/share/hub/{member}/resume"): needs(
        P.MANAGE_RISK_LIST, data={"reason": "reviewed"}, fill={"member": "{bank}"}
    ),
    ("GET", "/audit"): needs(P.VIEW_AUDIT_LOG),
    ("GET", "/audit/verify"): needs(P.VIEW_AUDIT_LOG),
}
"""Every route of the app, one line each. Placeholders in the path, query and form are
filled from the records a request is about: `{account_no}`, `{tx_id}` and `{order_id}` (the
member's, or the police unit's), `{case_id}` and `{evidence_id}` (a case of the member's with
that alert and account, and an evidence file of it, opened in the test's console), `{bank}`,
`{version}` (the shadow pack), `{live}` (the live pack), `{model}` (a registered model),
`{binding}` (the member's recycled number still bound), `{region}`, `{language}`."""

PRINCIPALS: Final = [
    "anonymous",
    "admin of the first",
    "admin of the second",
    "analyst of the first",
    "analyst of the second",
    "key of the first",
    "key of the second",
    "hub supervisor",
    "police officer",
    "police key",
    "auditor",
]


@pytest.fixture(scope="module")
def world(region: Region) -> Iterator[tuple[dict[str, Records], dict[str | None, frozenset[str]]]]:
    """Each member's records, and what a principal of each member (or of none) must not be
    shown."""
    database = open_database(f"sqlite:///{region.database}")
    try:
        first, second, unit = region.first_bank, region.second_bank, region.police_unit
        hidden = {member: hidden_from(database, member) for member in (first, second, None)}
        records = {
            first: records_of(database, region, first, hidden[second]),
            second: records_of(database, region, second, hidden[first]),
        }
        members_accounts = frozenset(r.values["account_no"] for r in records.values())
        account, tx_id, unseen = police_scope_of(database, members_accounts)
        # A clue a bank sends to the unit discloses its accounts to the unit.
        hidden[unit] = unseen - clue_accounts_of(database, unit)
        for member in (first, second):  # planted by the region (phone_records.py)
            binding = str(region.phones[member].recycled_binding)
            records[member] = replace_values(records[member], binding=binding)
        # The orders `served` issues, in this order: ids 1, 2 (the members'), 3 (the unit's),
        # and a return plan on each, of the same id.
        for order_id, member in enumerate((first, second), start=1):
            number = str(order_id)
            records[member] = replace_values(records[member], order_id=number, plan_id=number)
        records[unit] = replace_values(
            records[first], account_no=account, tx_id=tx_id, order_id="3", plan_id="3", bank=unit
        )
        for owner in records:  # the trace `served` stores, the unit's
            records[owner] = replace_values(records[owner], trace_id="1")
        yield records, hidden
    finally:
        database.dispose()


def replace_values(records: Records, **values: str) -> Records:
    return Records(records.bank, {**records.values, **values}, records.transaction)


@pytest.fixture(scope="module")
def api_document() -> dict[str, Any]:
    """The OpenAPI document, written by the first test's app for every test's: it comes
    from the code alone, and writing it takes an app most of a second."""
    return {}


@pytest.fixture
def served(
    console: Console,
    region: Region,
    world: tuple[dict[str, Records], dict[str | None, frozenset[str]]],
    api_document: dict[str, Any],
) -> Console:
    """The console of the test, with an admin for the second member too, and the police
    orders the records name."""
    if api_document:
        console.app.openapi_schema = api_document
    else:
        api_document.update(console.app.openapi())
    records = world[0]
    with console.uow() as uow:
        owners = (region.first_bank, region.second_bank, region.police_unit)
        accounts = [records[owner].values["account_no"] for owner in owners]
        assert issue_orders(uow, region, accounts) == [1, 2, 3]
        assert add_return_plans(uow, [1, 2, 3]) == [1, 2, 3]
    with console.uow() as uow:
        trace_id, shown = store_trace(uow, region, records[region.police_unit])
        assert trace_id == 1
    # The unit may trace from any account a victim names, a member's too, and sees where the
    # money went: what a trace from the first member's records shows is the unit's as well.
    with console.uow() as uow:
        _, also_shown = store_trace(uow, region, records[region.first_bank])
    hidden = world[1]
    hidden[region.police_unit] = hidden[region.police_unit] - shown - also_shown
    with console.uow() as uow:
        for number, bank in enumerate((region.first_bank, region.second_bank), start=1):
            listed = NewEntry(
                ListKind.ACCOUNT, LISTED, RiskCategory.MULE, Evidence.MEMBER_VERIFIED, bank="B9"
            )
            published = publish_entries(uow, Actor.operator("test"), [listed], member=bank)
            assert published.ids == [number]
    for owner in records:  # each member's own entry; the police unit's is the first's
        records[owner] = records[owner].adding(
            share_entry="2" if owner == region.second_bank else "1"
        )
    console.app.state.share_event_seconds = 0  # the event stream answers what it has, and ends
    for bank in (region.first_bank, region.second_bank):
        system = Actor(ActorKind.API_KEY, f"screening-{bank}", Role.MEMBER_SYSTEM, bank)
        with console.uow() as uow:
            run = screen_accounts(uow, system, console.platform.settings.policy)
            action = request_action(
                uow, system, run.id, "notify", reason="存量账户排查", checks=list(Check)
            )
        with console.uow() as uow:
            carry_out_action(uow, system, action.id, console.platform.settings.policy)
        for owner in records:  # the police unit's records are the first's
            if owner == bank or (owner == region.police_unit and bank == region.first_bank):
                records[owner] = records[owner].adding(run_id=str(run.id), action_id=str(action.id))
    for bank in (region.first_bank, region.second_bank):
        # The first member's appeal awaits the officer's unit's opinion: the unit's record.
        unit = region.police_unit if bank == region.first_bank else None
        appeal, evidence = _appeal(console, records[bank].values["account_no"], unit)
        system = Actor(ActorKind.API_KEY, f"outreach-{bank}", Role.MEMBER_SYSTEM, bank)
        with console.uow() as uow:
            task = add_dissuasion_task(uow, records[bank])
            campaign = send_campaign(uow, system, "提醒", "campaign_elderly", Segment.ELDERLY)
        for owner in records:  # the police unit's records are the first's
            if owner == bank or (owner == region.police_unit and bank == region.first_bank):
                records[owner] = records[owner].adding(
                    appeal_id=appeal,
                    appeal_evidence_id=evidence,
                    task_id=str(task),
                    campaign_id=str(campaign.id),
                )
    with console.uow() as uow:
        model = register_model(uow, Actor.operator("test"), make_model()).version
    for owner in records:
        records[owner] = records[owner].adding(model=model)
    with console.uow() as uow:
        add_user(
            uow,
            Actor.operator("test"),
            SECOND_ADMIN,
            Role.MEMBER_ADMIN,
            region.second_bank,
            PASSWORD,
            Passwords.fast_for_tests(),
        )
    return console


def _appeal(console: Console, account_no: str, unit: str | None) -> tuple[str, str]:
    """An appeal of the holder of `account_no` against its bank's suspension of it, with a
    file, asked of police unit `unit` if one is given: its id and the file's."""
    keyring = console.platform.keyring
    with console.uow() as uow:
        suspension = RestrictionKind.NON_COUNTER_SUSPENSION
        restriction = restrict(
            uow, Actor.operator("test"), account_no, suspension, reason="一号多人"
        )
        account = uow.session.get(AccountRow, account_no)
        party = uow.session.get(PartyRow, account.party_id) if account is not None else None
        assert party is not None
        holder = party.id_number_hash
        png = EvidenceFile("slip.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)
        filed = file_appeal(uow, person_actor(holder), f"r{restriction}", "本人工资卡", keyring,
                            files=[png])  # fmt: skip
        if unit is not None:
            bank = Actor(ActorKind.API_KEY, "route", Role.MEMBER_SYSTEM, account.institution_code)
            ask_opinion(uow, bank, filed.id, unit, "是否涉案？")
    return str(filed.id), str(filed.evidence[0].id)


def _with_cases(console: Console, records: dict[str, Records]) -> dict[str, Records]:
    """The records with a case of each member in `console`: its alert and account, and an
    evidence file."""
    cased = {}
    with console.uow() as uow:
        for bank, mine in records.items():
            if bank == console.region.police_unit:
                continue
            analyst = next(
                user.actor()
                for user in list_users(uow, Actor.operator("test"), bank)
                if user.role is Role.MEMBER_ANALYST
            )
            values = mine.values
            case = open_case(
                uow,
                analyst,
                CaseKind.ACCOUNT,
                values["account_no"],
                title="case",
                tx_ids=[values["tx_id"]],
            ).case.id
            evidence = add_evidence(
                uow, analyst, case, "a.csv", "text/csv", b"a,b\n", console.platform.keyring
            ).id
            cased[bank] = mine.adding(case_id=str(case), evidence_id=str(evidence))
    # The police hold no case: their records name the first member's, which they may not work.
    first = next(iter(cased.values())).values
    for owner, mine in records.items():
        if owner not in cased:
            cased[owner] = mine.adding(case_id=first["case_id"], evidence_id=first["evidence_id"])
    return cased


def test_every_route_is_in_the_table(served: Console) -> None:
    found = app_routes(served.app)
    missing = sorted(found - ROUTES.keys())
    stale = sorted(ROUTES.keys() - found)
    assert not missing, f"routes without a line in ROUTES (add one each): {missing}"
    assert not stale, f"lines in ROUTES for routes the app does not have: {stale}"


def test_the_principals_cover_every_role_and_both_members(region: Region) -> None:
    every = principals(region).values()
    # The operator runs commands on the server; it has no sign-in and no API key, so no route.
    # A person (public) signs in to the portal only, never to the console or the API.
    assert {p.role for p in every} == {*Role, None} - {Role.OPERATOR, Role.PUBLIC}
    for role in (Role.MEMBER_ADMIN, Role.MEMBER_ANALYST, Role.MEMBER_SYSTEM):
        members = {p.member for p in every if p.role is role}
        assert members == {region.first_bank, region.second_bank}, role
    assert {p.label for p in every} == set(PRINCIPALS)


@pytest.mark.parametrize("label", PRINCIPALS)
def test_no_principal_reaches_what_is_not_its_own(
    label: str,
    served: Console,
    region: Region,
    world: tuple[dict[str, Records], dict[str | None, frozenset[str]]],
) -> None:
    records, hidden = world
    records = _with_cases(served, records)
    principal = principals(region)[label]
    first, second = region.first_bank, region.second_bank
    own = principal.member or first  # a principal of no member has none: the first's, then
    other = second if own == first else first
    caller = Caller(served.app, principal)
    problems: list[str] = []
    try:
        for (method, template), expect in ROUTES.items():
            asked_before: set[str] = set()
            for member in (own, other):
                url, request = expect.request(method, template, records[member])
                asked = f"{method} {url} {request}"
                if asked in asked_before:
                    continue  # the route names no record: asked once
                asked_before.add(asked)
                answer = caller.send(method, url, request)
                expected = door(principal, method, template, expect, mine=member == own)
                found = judge(answer, asked, hidden[principal.member], expected)
                problems += [f"{asked[:160]}: {problem}" for problem in found]
                if expect.ends_session:
                    caller.start_again()
    finally:
        caller.client.close()
    assert not problems, f"{label}:\n" + "\n".join(problems)
