"""Account-base screening (存量账户排查) on the console, over the console tests' region (its
clock a few hours after the simulated fortnight ends, so a run as of now finds its batches,
shared phones and one person's many accounts): starting runs, a run's work list, a bulk
action and its progress account by account, the figures per member; who is refused, another
member's run and action, the CSRF token of every form, bad input."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from fundwall.auth import Actor, Role
from fundwall.domain.screening import ACTION_WORDS, CHECK_WORDS, Check, ScreeningAction
from fundwall.domain.screening import Outcome as ScreeningOutcome
from fundwall.members import list_users
from fundwall.screening.actions import request_action
from fundwall.screening.model import ItemView
from fundwall.screening.runs import work_list
from fundwall.store.engine_tables import AccountRestrictionRow
from fundwall.store.screening_tables import ScreeningActionRow, ScreeningRunRow
from fundwall.web.formatting import label_for
from fundwall.web.i18n import translator

from .access import issue_orders
from .conftest import Browser, Console, open_client

AsUser = Callable[[str], Browser]
HTMX = {"HX-Request": "true"}
EVERY_CHECK = {f"check:{check.value}": "on" for check in Check}
RUN_PAGE = re.compile(r"^/screening/runs/(\d+)$")
ACTION_PAGE = re.compile(r"^/screening/actions/(\d+)$")
ACCOUNT_NUMBER = re.compile(r"\b\d{12,19}\b")


def _start(client: Browser, path: str = "/screening/runs", **form: str) -> int:
    """Start a run through the form (every check unless `form` ticks some); its id."""
    answer = client.post_form(path, form or EVERY_CHECK)
    assert answer.status_code == 303, answer.text
    found = RUN_PAGE.match(answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return int(found.group(1))


def _act(client: Browser, run_id: int, **form: str) -> int:
    """Apply a bulk action through the form; its id (carried out before the answer ends)."""
    answer = client.post_form(f"/screening/runs/{run_id}/actions", form)
    assert answer.status_code == 303, answer.text
    found = ACTION_PAGE.match(answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return int(found.group(1))


def _items(console: Console, member: str, run_id: int, check: str | None = None) -> list[ItemView]:
    """The run's work list as the member's system reads it, every page."""
    actor = Actor.operator("test")
    found: list[ItemView] = []
    with console.uow() as uow:
        number = 1
        while True:
            page = work_list(uow, actor, run_id, page=number, check=check, size=500)
            found += [item for item in page.items if item.member == member]
            if not page.more:
                return found
            number += 1


def _counts(console: Console) -> tuple[int, int]:
    with console.uow() as uow:
        runs = uow.session.scalar(select(func.count()).select_from(ScreeningRunRow)) or 0
        actions = uow.session.scalar(select(func.count()).select_from(ScreeningActionRow)) or 0
    return runs, actions


def _outcome_count(page: str, outcome: ScreeningOutcome) -> int:
    found = re.search(
        rf'target-kpi-{outcome.value}"[^>]*><span class="kpi-label">[^<]+</span>'
        r'<span class="kpi-value">([\d,]+)</span>',
        page,
    )
    assert found is not None, outcome
    return int(found.group(1).replace(",", ""))


def test_the_labels_read_in_chinese_as_the_domains_words() -> None:
    chinese = translator("zh")
    for check in Check:
        assert chinese(label_for(Check, check)) == CHECK_WORDS[check][0], check
    for action in ScreeningAction:
        assert chinese(label_for(ScreeningAction, action)) == ACTION_WORDS[action][0], action


def test_an_analyst_starts_a_run_and_reads_its_work_list_in_either_language(
    console: Console, as_user: AsUser
) -> None:
    bank = console.region.first_bank
    analyst = as_user("analyst1")
    home = analyst.get("/")
    assert '<a href="/screening">存量账户排查</a>' in home.text
    start = analyst.get("/screening")
    assert start.status_code == 200 and 'action="/screening/runs"' in start.text
    assert all(f'name="check:{check.value}" checked' in start.text for check in Check)
    assert 'action="/screening/region"' not in start.text
    run_id = _start(analyst)
    items = _items(console, bank, run_id)
    assert {f.check for item in items for f in item.findings} >= {
        Check.BATCH_OPENED,
        Check.SHARED_PHONE,
        Check.MANY_ACCOUNTS,
    }
    page = analyst.get(f"/screening/runs/{run_id}")
    assert page.status_code == 200
    first = items[0]
    assert f'href="/accounts/{first.account_no}"' in page.text
    assert first.findings[0].reason_zh in page.text
    assert f'form="bulk-action" name="account:{first.account_no}"' in page.text
    listed = analyst.get("/screening")
    assert f'href="/screening/runs/{run_id}"' in listed.text and "排查与清理情况" in listed.text
    analyst.get("/lang/en")
    english = analyst.get(f"/screening/runs/{run_id}")
    assert first.findings[0].reason_en in english.text
    assert "One phone, several people" in english.text
    analyst.get("/lang/zh")


def test_the_work_list_shows_one_checks_accounts_and_names_a_bad_check(
    console: Console, as_user: AsUser
) -> None:
    bank = console.region.first_bank
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    batch = {item.account_no for item in _items(console, bank, run_id, "batch_opened")}
    others = {item.account_no for item in _items(console, bank, run_id)} - batch
    assert batch and others
    page = analyst.get(f"/screening/runs/{run_id}?check=batch_opened")
    shown = set(ACCOUNT_NUMBER.findall(page.text))
    assert batch <= shown and not others & shown
    assert 'name="check:batch_opened" checked' in page.text  # the form starts on the check
    bad = analyst.get(f"/screening/runs/{run_id}?check=stolen_cards")
    assert bad.status_code == 200
    assert 'class="problems"' in bad.text and "<strong>排查项</strong>" in bad.text
    assert batch | others <= set(ACCOUNT_NUMBER.findall(bad.text))  # every check, then


def test_a_bulk_action_restricting_accounts_says_done_or_refused_per_account(
    console: Console, as_user: AsUser
) -> None:
    region = console.region
    admin = as_user("admin1")
    run_id = _start(admin)
    chosen, ordered = (item.account_no for item in _items(console, region.first_bank, run_id)[:2])
    with console.uow() as uow:  # a police query awaiting the bank's answer on one of them
        issue_orders(uow, region, [ordered])
    action_id = _act(
        admin, run_id, action="restrict", reason="存量账户排查：批量开户",
        **{f"account:{chosen}": "on", f"account:{ordered}": "on"},
    )  # fmt: skip
    progress = admin.get(f"/screening/actions/{action_id}")
    assert progress.status_code == 200
    assert _outcome_count(progress.text, ScreeningOutcome.DONE) == 1
    assert _outcome_count(progress.text, ScreeningOutcome.REFUSED) == 1
    assert _outcome_count(progress.text, ScreeningOutcome.PENDING) == 0
    rows = re.findall(r"<tr>(.*?)</tr>", progress.text, re.S)
    row_of = {number: row for row in rows for number in ACCOUNT_NUMBER.findall(row)}
    assert "已完成" in row_of[chosen] and "已拒绝" in row_of[ordered]
    assert "a police order on the account" in row_of[ordered]
    assert "hx-trigger" not in progress.text and 'id="carry-out"' not in progress.text
    with console.uow() as uow:
        restricted = set(uow.session.scalars(select(AccountRestrictionRow.account_no)))
    assert chosen in restricted and ordered not in restricted
    refused_only = admin.get(f"/screening/actions/{action_id}?outcome=refused")
    assert ordered in refused_only.text and chosen not in refused_only.text
    work = admin.get(f"/screening/runs/{run_id}")
    assert f'href="/screening/actions/{action_id}"' in work.text and "限制非柜面业务" in work.text


def test_a_check_chosen_acts_on_every_account_it_found(console: Console, as_user: AsUser) -> None:
    bank = console.region.first_bank
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    shared = _items(console, bank, run_id, "shared_phone")
    action_id = _act(
        analyst, run_id, action="notify", reason="一号多人：请核实", **{"check:shared_phone": "on"}
    )
    progress = analyst.get(f"/screening/actions/{action_id}")
    assert _outcome_count(progress.text, ScreeningOutcome.DONE) == len(shared)
    assert "通知持卡人" in progress.text
    figures = analyst.get("/screening")
    row = re.search(rf'<tr id="figures-{bank}">(.*?)</tr>', figures.text, re.S)
    assert row is not None
    assert re.findall(r'<td class="num">([\d,]+)</td>', row.group(1))[-3] == str(len(shared))


def test_an_analyst_is_offered_only_the_actions_it_may_take(
    console: Console, as_user: AsUser
) -> None:
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    page = analyst.get(f"/screening/runs/{run_id}")
    offered = set(re.findall(r'<option value="(\w+)"', page.text))
    assert offered == {"notify", "tier_medium", "tier_high"}
    before = _counts(console)
    edited = analyst.post_form(
        f"/screening/runs/{run_id}/actions",
        {"action": "close", "reason": "清理", "check:shared_phone": "on"},
    )
    assert edited.status_code == 403 and 'id="refusal"' in edited.text
    assert _counts(console) == before


def _analyst(console: Console, bank: str) -> Actor:
    """The member's demo analyst as the use cases know it."""
    with console.uow() as uow:
        return next(
            user.actor()
            for user in list_users(uow, Actor.operator("test"), bank)
            if user.role is Role.MEMBER_ANALYST
        )


def test_pending_accounts_are_carried_out_again_from_the_progress_page(
    console: Console, as_user: AsUser
) -> None:
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    # Recorded and not carried out: as an action a restart interrupted leaves it.
    with console.uow() as uow:
        actor = _analyst(console, console.region.first_bank)
        view = request_action(uow, actor, run_id, "notify", reason="复核", checks=["many_accounts"])
    page = analyst.get(f"/screening/actions/{view.id}")
    pending = _outcome_count(page.text, ScreeningOutcome.PENDING)
    assert pending > 0 and _outcome_count(page.text, ScreeningOutcome.DONE) == 0
    assert f'hx-get="/screening/actions/{view.id}"' in page.text and "hx-trigger" in page.text
    assert 'id="carry-out"' in page.text
    fragment = analyst.get(f"/screening/actions/{view.id}", headers=HTMX)
    assert fragment.text.lstrip().startswith('<section id="progress"')
    assert "<html" not in fragment.text
    again = analyst.post_form(f"/screening/actions/{view.id}/carry-out", {})
    assert again.status_code == 303
    assert again.headers["location"] == f"/screening/actions/{view.id}"
    done = analyst.get(f"/screening/actions/{view.id}")
    assert _outcome_count(done.text, ScreeningOutcome.DONE) == pending
    assert "hx-trigger" not in done.text and 'id="carry-out"' not in done.text


def test_an_action_the_actor_may_not_take_is_not_carried_out_again_by_it(
    console: Console, as_user: AsUser
) -> None:
    admin = as_user("admin1")
    run_id = _start(admin)
    with console.uow() as uow:
        admin_actor = next(
            user.actor()
            for user in list_users(uow, Actor.operator("test"), console.region.first_bank)
            if user.role is Role.MEMBER_ADMIN
        )
        view = request_action(uow, admin_actor, run_id, "restrict", reason="复核",
                              checks=["batch_opened"])  # fmt: skip
    analyst = as_user("analyst1")
    page = analyst.get(f"/screening/actions/{view.id}")
    assert page.status_code == 200 and 'id="carry-out"' not in page.text
    assert analyst.post_form(f"/screening/actions/{view.id}/carry-out", {}).status_code == 403
    assert 'id="carry-out"' in admin.get(f"/screening/actions/{view.id}").text


def test_the_hub_screens_the_region_and_each_member_sees_its_own_part(
    console: Console, as_user: AsUser
) -> None:
    region = console.region
    hub = as_user("supervisor")
    start = hub.get("/screening")
    assert 'action="/screening/region"' in start.text
    assert 'action="/screening/runs"' not in start.text
    run_id = _start(hub, "/screening/region")
    hub_page = hub.get(f"/screening/runs/{run_id}")
    assert hub_page.status_code == 200 and 'id="by-member"' in hub_page.text
    assert not ACCOUNT_NUMBER.findall(hub_page.text), "the hub reads numbers masked"
    assert 'id="bulk-action"' not in hub_page.text and 'href="/accounts/' not in hub_page.text
    second = {item.account_no for item in _items(console, region.second_bank, run_id)}
    first = {item.account_no for item in _items(console, region.first_bank, run_id)}
    analyst2 = as_user("analyst2")
    mine = analyst2.get(f"/screening/runs/{run_id}")
    assert mine.status_code == 200 and "监管中心的全辖区排查" in mine.text
    shown = set(ACCOUNT_NUMBER.findall(mine.text))
    assert second <= shown and not first & shown
    action_id = _act(analyst2, run_id, action="notify", reason="排查", **EVERY_CHECK)
    progress = analyst2.get(f"/screening/actions/{action_id}")
    assert _outcome_count(progress.text, ScreeningOutcome.DONE) == len(second)
    listed = as_user("analyst1").get("/screening")
    assert f'href="/screening/runs/{run_id}"' in listed.text  # the hub's run, for every member
    assert as_user("analyst1").get(f"/screening/actions/{action_id}").status_code == 404
    hub_progress = hub.get(f"/screening/actions/{action_id}")
    assert hub_progress.status_code == 200 and not ACCOUNT_NUMBER.findall(hub_progress.text)
    assert 'id="carry-out"' not in hub_progress.text


def test_another_members_run_and_action_are_not_found(console: Console, as_user: AsUser) -> None:
    analyst1, analyst2 = as_user("analyst1"), as_user("analyst2")
    run_id = _start(analyst1)
    action_id = _act(analyst1, run_id, action="notify", reason="排查", **EVERY_CHECK)
    before = _counts(console)
    assert analyst2.get(f"/screening/runs/{run_id}").status_code == 404
    assert analyst2.get(f"/screening/actions/{action_id}").status_code == 404
    acted = analyst2.post_form(
        f"/screening/runs/{run_id}/actions", {"action": "notify", "reason": "x", **EVERY_CHECK}
    )
    assert acted.status_code == 404
    assert analyst2.post_form(f"/screening/actions/{action_id}/carry-out", {}).status_code == 404
    assert _counts(console) == before
    listed = analyst2.get("/screening")
    assert f'href="/screening/runs/{run_id}"' not in listed.text
    assert f'id="figures-{console.region.first_bank}"' not in listed.text


@pytest.mark.parametrize("user", ["police", "auditor"])
def test_those_without_screening_are_refused(console: Console, as_user: AsUser, user: str) -> None:
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    action_id = _act(analyst, run_id, action="notify", reason="排查", **EVERY_CHECK)
    client = as_user(user)
    assert 'href="/screening"' not in client.get("/").text
    for path in ("/screening", f"/screening/runs/{run_id}", f"/screening/actions/{action_id}"):
        assert client.get(path).status_code == 403, path
    before = _counts(console)
    for path, form in (
        ("/screening/runs", EVERY_CHECK),
        ("/screening/region", EVERY_CHECK),
        (f"/screening/runs/{run_id}/actions", {"action": "notify", "reason": "x", **EVERY_CHECK}),
        (f"/screening/actions/{action_id}/carry-out", {}),
    ):
        assert client.post_form(path, form).status_code == 403, path
    assert _counts(console) == before


def test_each_side_keeps_to_its_own_kind_of_run(console: Console, as_user: AsUser) -> None:
    before = _counts(console)
    assert as_user("supervisor").post_form("/screening/runs", EVERY_CHECK).status_code == 403
    assert as_user("admin1").post_form("/screening/region", EVERY_CHECK).status_code == 403
    assert _counts(console) == before
    run_id = _start(as_user("supervisor"), "/screening/region")
    acted = as_user("supervisor").post_form(
        f"/screening/runs/{run_id}/actions", {"action": "notify", "reason": "x", **EVERY_CHECK}
    )
    assert acted.status_code == 403
    assert _counts(console) == (before[0] + 1, before[1])


def test_every_form_needs_the_sessions_csrf_token(console: Console, as_user: AsUser) -> None:
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    action_id = _act(analyst, run_id, action="notify", reason="排查", **{"check:dormant": "on"})
    before = _counts(console)
    forms: tuple[tuple[str, dict[str, str]], ...] = (
        ("/screening/runs", EVERY_CHECK),
        ("/screening/region", EVERY_CHECK),
        (f"/screening/runs/{run_id}/actions", {"action": "notify", "reason": "x", **EVERY_CHECK}),
        (f"/screening/actions/{action_id}/carry-out", {}),
    )
    for path, form in forms:
        assert analyst.post(path, data=form).status_code == 403, path
        forged = analyst.post(path, data={**form, "csrf_token": "forged"})
        assert forged.status_code == 403, path
        other_site = analyst.post_form(path, form, headers={"Origin": "https://evil.example"})
        assert other_site.status_code == 403, path
    assert _counts(console) == before


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({}, "排查项", "name at least one check"),
        ({"check:dormant": "on", "check:stolen": "on"}, "排查项", "unknown check 'stolen'"),
    ],
)
def test_a_run_without_a_known_check_is_refused_at_the_form(
    console: Console, as_user: AsUser, form: dict[str, str], field: str, reason: str
) -> None:
    before = _counts(console)
    answer = as_user("analyst1").post_form("/screening/runs", form)
    assert answer.status_code == 422
    assert f"<strong>{field}</strong>: " in answer.text and reason in html.unescape(answer.text)
    assert _counts(console) == before


@pytest.mark.parametrize(
    ("form", "field", "reason"),
    [
        ({"action": "notify", "reason": "排查"}, "账户", "choose the accounts"),
        ({"action": "notify", "reason": "排查", "account:6222020000000000000": "on"}, "账户",
         "not on this run's work list"),
        ({"action": "notify", "reason": "排查", "check:stolen_cards": "on"}, "排查项",
         "unknown check 'stolen_cards'"),
        ({"action": "burn", "reason": "排查", "check:dormant": "on"}, "操作", "one of notify"),
        ({"action": "notify", "reason": " ", "check:dormant": "on"}, "理由", "the reason is empty"),
        ({"action": "tier_high", "reason": "长" * 201, "check:dormant": "on"}, "理由",
         "at most 200 characters"),
    ],
)  # fmt: skip
def test_a_bad_action_is_named_at_the_form_and_nothing_recorded(
    console: Console, as_user: AsUser, form: dict[str, str], field: str, reason: str
) -> None:
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    before = _counts(console)
    answer = analyst.post_form(f"/screening/runs/{run_id}/actions", form)
    assert answer.status_code == 422, answer.text
    assert f"<strong>{field}</strong>: " in answer.text and reason in html.unescape(answer.text)
    assert "未作任何记录" in answer.text
    assert _counts(console) == before


def test_the_figures_period_is_read_politely(console: Console, as_user: AsUser) -> None:
    analyst = as_user("analyst1")
    _start(analyst)
    bank = console.region.first_bank
    today = analyst.get("/screening?since=2024-03-18&until=2024-03-18")
    assert f'id="figures-{bank}"' in today.text
    before = analyst.get("/screening?until=2024-03-01")
    assert f'id="figures-{bank}"' not in before.text and "该期间内没有排查" in before.text
    for query, field in (
        ("since=2024-03-20&until=2024-03-10", "排查截止日期"),
        ("since=yesterday", "排查起始日期"),
        ("page=0", "页码"),
    ):
        answer = analyst.get(f"/screening?{query}")
        assert answer.status_code == 200, query
        assert f"<strong>{field}</strong>" in answer.text, query
    hub = as_user("supervisor").get("/screening")
    assert f'id="figures-{bank}"' in hub.text


def test_signed_out_the_pages_ask_to_sign_in(console: Console) -> None:
    client = open_client(console.app)
    for path in ("/screening", "/screening/runs/1", "/screening/actions/1"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_bad_filter_or_number_is_named_or_not_found_never_a_server_error(
    console: Console, as_user: AsUser
) -> None:
    analyst = as_user("analyst1")
    run_id = _start(analyst)
    action_id = _act(analyst, run_id, action="notify", reason="排查", **{"check:dormant": "on"})
    lost = analyst.get(f"/screening/actions/{action_id}?outcome=lost&page=x")
    assert lost.status_code == 200
    assert "<strong>结果</strong>" in lost.text and "<strong>页码</strong>" in lost.text
    assert _outcome_count(lost.text, ScreeningOutcome.DONE) > 0  # every account, then
    for path in ("/screening/runs/0", "/screening/runs/abc", "/screening/actions/-1"):
        assert analyst.get(path).status_code == 400, path
    for path in ("/screening/runs/99999", "/screening/actions/99999"):
        assert analyst.get(path).status_code == 404, path
    assert analyst.post_form("/screening/actions/99999/carry-out", {}).status_code == 404
