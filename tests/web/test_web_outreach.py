"""Publicity on the console: an analyst previews a segment, sends a campaign and records an
event through the forms; a bad field comes back named with nothing sent; the police have no
publicity page."""

from __future__ import annotations

from collections.abc import Callable

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
