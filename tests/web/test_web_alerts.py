"""Working an alert from the console: HTMX swaps the work panel, plain forms come back."""

from __future__ import annotations

import re
from collections.abc import Callable

from .conftest import Browser, Console
from .region import Region

AsUser = Callable[[str], Browser]
HTMX = {"HX-Request": "true"}


def test_an_analyst_takes_and_closes_an_alert(
    as_user: AsUser, console: Console, region: Region
) -> None:
    client = as_user("analyst1")
    path = f"/alerts/{region.blocked_tx}"
    page = client.get(f"/transactions/{region.blocked_tx}").text
    assert f'hx-post="{path}"' in page and "预警 · 新建" in page
    taken = client.post_form(path, {"assignee": "analyst1", "status": "in_progress"}, headers=HTMX)
    assert taken.status_code == 200
    assert taken.text.startswith('<section class="card alert-work" id="alert-work">')
    assert "预警 · 处理中" in taken.text
    refused = client.post_form(path, {"assignee": "analyst1", "status": "closed"}, headers=HTMX)
    assert refused.status_code == 422 and "needs a disposition" in refused.text
    closed = client.post_form(
        path,
        {"assignee": "analyst1", "status": "closed", "disposition": "mule_account", "note": "sold"},
    )
    assert (
        closed.status_code == 303
        and closed.headers["location"] == f"/transactions/{region.blocked_tx}"
    )
    queue = client.get("/alerts?status=closed").text
    assert region.blocked_tx in queue and "涉诈账户（过渡户）" in queue
    counts = re.search(r"已关闭 (\d+)", queue)
    assert counts is not None and counts.group(1) == "1"
    with console.uow() as uow:
        trail = [(r.action, r.actor) for r in uow.audit.tail(2)]
    assert trail == [("alert_update", f"user:analyst1@{region.first_bank}")] * 2


def test_a_plain_form_with_a_bad_change_gets_an_error_page(as_user: AsUser, region: Region) -> None:
    client = as_user("analyst1")
    answer = client.post_form(f"/alerts/{region.blocked_tx}", {"status": "closed"})
    assert answer.status_code == 400 and "needs a disposition" in answer.text


def test_an_alert_is_given_only_to_a_colleague(as_user: AsUser, region: Region) -> None:
    client = as_user("analyst1")
    answer = client.post_form(
        f"/alerts/{region.blocked_tx}",
        {"assignee": "analyst2", "status": "in_progress"},
        headers=HTMX,
    )
    assert answer.status_code == 422 and "is not an analyst of member" in answer.text
    given = client.post_form(
        f"/alerts/{region.blocked_tx}",
        {"assignee": "admin1", "status": "in_progress"},
        headers=HTMX,
    )
    assert given.status_code == 200 and "admin1" in given.text


def test_another_members_alert_cannot_be_touched(as_user: AsUser, region: Region) -> None:
    answer = as_user("analyst2").post_form(
        f"/alerts/{region.blocked_tx}", {"status": "in_progress"}, headers=HTMX
    )
    assert answer.status_code == 404
    assert answer.text.startswith('<div class="error-box"')
