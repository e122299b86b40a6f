"""Publicity on the console: an analyst previews a segment, sends a campaign and records an
event through the forms; a bad field comes back named with nothing sent; the police have no
publicity page."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fundwall.outreach import LocalGateway, dispatch_outbox
from fundwall.reports.period import BEIJING

from .conftest import Browser, Console

AsUser = Callable[[str], Browser]


def test_an_analyst_previews_sends_and_records_through_the_forms(
    console: Console, as_user: AsUser
) -> None:
    analyst = as_user("analyst1")
    preview = analyst.get("/outreach/campaigns", params={"segment": "elderly"})
    assert preview.status_code == 200 and 'id="preview"' in preview.text
    bad = analyst.post_form(
        "/outreach/campaigns",
        {"title": "提醒", "template": "campaign_elderly", "segment": "elderly", "variables": "x"},
    )
    assert bad.status_code == 422 and "variables" in bad.text and "尚未发送宣传短信" in bad.text
    sent = analyst.post_form(
        "/outreach/campaigns",
        {"title": "重阳节防骗提醒", "template": "campaign_elderly", "segment": "elderly"},
    )
    assert sent.status_code == 303
    listed = analyst.get("/outreach/campaigns")
    assert "重阳节防骗提醒" in listed.text and "60岁以上客户" in listed.text
    event = {"kind": "school", "title": "校园讲座", "held_on": "2099-01-01", "place": "一中",
             "attendance": "300", "reach": "900"}  # fmt: skip
    future = analyst.post_form("/outreach/events", event)
    assert future.status_code == 422 and "held_on" in future.text
    today = console.platform.clock.now().date().isoformat()
    assert analyst.post_form("/outreach/events", event | {"held_on": today}).status_code == 303
    events = analyst.get("/outreach/campaigns").text
    assert "校园讲座" in events and "<th>地点</th>" in events  # an event's place, not a status
    assert as_user("police").get("/outreach/campaigns").status_code == 403


def test_the_sms_figures_link_to_the_messages_they_count(console: Console, as_user: AsUser) -> None:
    """The statistics' SMS figures each open the member's list of those messages, and the
    list holds as many as the figure says; another member's messages are not in it."""
    analyst = as_user("analyst1")
    sent = analyst.post_form(
        "/outreach/campaigns",
        {"title": "重阳节防骗提醒", "template": "campaign_elderly", "segment": "elderly"},
    )
    assert sent.status_code == 303
    with console.uow() as uow:
        dispatch_outbox(uow, LocalGateway())
    period = console.clock.now().astimezone(BEIJING).strftime("%Y-%m")
    report = analyst.get("/reports", params={"period": period}).text
    for figure, wanted in (("sms_sent", None), ("campaign_sent", "campaign")):
        found = re.search(
            rf'id="figure-outreach-{figure}">.*?<a href="([^"]+)">([\d,]+)</a>', report, re.S
        )
        assert found is not None, figure
        link, shown = html.unescape(found.group(1)), int(found.group(2).replace(",", ""))
        assert link.startswith("/outreach/messages?sent_from=") and shown > 0
        listed = analyst.get(link).text
        assert listed.count('<tr id="sms-') == shown, figure
        if wanted:
            assert "<td>反诈宣传</td>" in listed and "<td>管控告知</td>" not in listed
    assert as_user("analyst2").get("/outreach/messages").text.count('<tr id="sms-') == 0
    refused = analyst.get("/outreach/messages", params={"purpose": "spam", "sent_from": "x"})
    assert refused.status_code == 200 and "purpose" in refused.text  # named, not a 500


def test_the_event_figures_link_to_the_events_for_the_member_and_the_hub(
    console: Console, as_user: AsUser
) -> None:
    """A member's event figures open its own events of the period; the hub's open every
    member's (publicity events hold no personal data), each with its member."""
    today = console.clock.now().astimezone(BEIJING).date()
    event = {"kind": "community", "title": "社区反诈讲座", "held_on": today.isoformat(),
             "place": "鹭江街道", "attendance": "86", "reach": "240"}  # fmt: skip
    assert as_user("analyst1").post_form("/outreach/events", event).status_code == 303
    period = today.strftime("%Y-%m")
    for who, shows_member in (("analyst1", False), ("supervisor", True)):
        viewer = as_user(who)
        report = viewer.get("/reports", params={"period": period}).text
        found = re.search(
            r'id="figure-outreach-reach">.*?<a href="([^"]+)">([\d,]+)</a>', report, re.S
        )
        assert found is not None, who
        listed = viewer.get(html.unescape(found.group(1)))
        assert listed.status_code == 200 and "社区反诈讲座" in listed.text, who
        assert f"覆盖{found.group(2)}人" in listed.text  # the list adds up to the figure
        assert (f"（{console.region.first_bank}）</td>" in listed.text) is shows_member
    theirs = as_user("analyst2").get(
        "/outreach/events", params={"member": console.region.first_bank}
    )
    assert "社区反诈讲座" not in theirs.text  # a member reads its own events only
    assert as_user("police").get("/outreach/events").status_code == 403
