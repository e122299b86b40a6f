"""The officer drafts a return plan in the console: from a trace's frozen account (the traced
losses filled in, the victims' accounts typed) or from an executed freeze's page; a refused
draft comes back as the form with its reason; Chinese by default."""

from __future__ import annotations

import re
from collections.abc import Callable

from fundwall.auth import Actor, ActorKind, Role
from fundwall.police import OrderAnswer, answer_order
from fundwall.region import read_table
from fundwall.web.params import LOCAL_ZONE

from .conftest import Browser, Console

FREEZE_FORM = {
    "kind": "freeze",
    "document_no": "厦公反诈冻字〔2024〕0700号",
    "officers": "王警官",
    "police_case_no": "A3502035100002024030700",
    "legal_basis": "《反电信网络诈骗法》第二十条",
}
_STOP_ROW = re.compile(r'<td class="mono">([^<]+)</td><td>([^<]+)</td><td class="num">¥([\d,.]+)<')
"""A proposed stop of the trace's page: account, bank, amount."""
_PLAN_LINK = re.compile(r'href="/returns/new\?order=(\d+)&amp;trace=(\d+)"')


def _traced_and_frozen(console: Console, police: Browser) -> tuple[str, str, str]:
    """The region's largest victim report traced in the console, the account holding most of
    its money frozen and executed by its bank; the trace's path, the report and the
    victim's account."""
    reports = read_table(console.region.folder, "victim_reports").to_pylist()
    line = max(reports, key=lambda row: row["amount_fen"])
    paid_at = line["paid_at"].astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")
    amount = f"{line['amount_fen'] / 100:.2f}"
    start = f"{line['report_id']}, {line['payee_account']}, {paid_at}, {amount}"
    traced = police.post_form("/traces", {"starts": start, "rule": "lifo"})
    assert traced.status_code == 303, traced.text
    trace_path = traced.headers["location"]
    stops = police.get(trace_path).text.split('id="trace-stops"')[1]
    rows = _STOP_ROW.findall(stops)
    account, bank, _ = max(rows, key=lambda row: float(row[2].replace(",", "")))
    frozen = police.post_form("/orders", {**FREEZE_FORM, "account_no": account})
    assert frozen.status_code == 303, frozen.text
    order_id = int(frozen.headers["location"].removeprefix("/orders/"))
    system = Actor(ActorKind.API_KEY, "test", Role.MEMBER_SYSTEM, bank)
    with console.uow() as uow:
        answer_order(uow, system, order_id, OrderAnswer(executed=True), console.platform.keyring)
    return trace_path, line["report_id"], line["victim_account"]


def test_a_plan_is_drafted_from_the_traces_frozen_account(
    console: Console, as_user: Callable[[str], Browser]
) -> None:
    police = as_user("police")
    trace_path, report, victim = _traced_and_frozen(console, police)
    link = _PLAN_LINK.search(police.get(trace_path).text)
    assert link is not None, "the frozen account's row offers to plan the return"
    order_id, trace_id = link.groups()
    assert trace_path == f"/traces/{trace_id}"
    form = police.get(f"/returns/new?order={order_id}&trace={trace_id}").text
    assert "制定返还方案" in form and "厦公反诈冻字〔2024〕0700号" in form
    prefilled = re.search(r'<textarea name="victims"[^>]*>([^<]*)</textarea>', form)
    assert prefilled is not None and f"# {report}" in prefilled.group(1)
    lines = prefilled.group(1).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(", ")  # the officer types the account

    blank = police.post_form("/returns", {"order": order_id, "victims": lines[0]})
    assert blank.status_code == 422 and "line 1" in blank.text
    assert f"# {report}" in blank.text  # the form comes back filled in
    drafted = police.post_form("/returns", {"order": order_id, "victims": victim + lines[0]})
    assert drafted.status_code == 303, drafted.text
    plan = police.get(drafted.headers["location"]).text
    assert "草稿" in plan and victim in plan and "公示" in plan
    again = police.post_form("/returns", {"order": order_id, "victims": victim + lines[0]})
    assert again.status_code == 422 and "under way" in again.text


def test_the_executed_freezes_page_leads_to_the_form(
    console: Console, as_user: Callable[[str], Browser]
) -> None:
    police = as_user("police")
    _traced_and_frozen(console, police)
    orders = police.get("/orders?kind=freeze").text
    order_id = re.findall(r'href="/orders/(\d+)"', orders)[0]
    page = police.get(f"/orders/{order_id}").text
    assert f'href="/returns/new?order={order_id}"' in page and "返还方案" in page
    form = police.get(f"/returns/new?order={order_id}").text
    assert f'name="order" value="{order_id}"' in form
    assert "制定返还方案" in police.get("/returns").text


def test_the_form_refuses_what_is_not_a_plan(
    console: Console, as_user: Callable[[str], Browser]
) -> None:
    police = as_user("police")
    for data, status, reason in (
        ({"victims": "6222020000000001, 1.00"}, 400, "freeze"),
        ({"order": "x1", "victims": "6222020000000001, 1.00"}, 400, "order"),
        ({"order": "999999", "victims": "6222020000000001, 1.00"}, 404, ""),
    ):
        answer = police.post_form("/returns", data)
        assert answer.status_code == status and reason in answer.text, (data, answer.text)
    assert as_user("analyst1").get("/returns/new").status_code == 403
    assert police.get("/returns/new?lang=en").status_code == 200
