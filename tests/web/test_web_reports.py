"""The official statistics on the console (/reports), over the console tests' region (its
transfers decided in March 2024): the figures the use case computes, linked to their lists;
the member picker of the hub; a member refused another's figures; a bad period named beside
the form; the Excel and PDF exports of the same figures; who is refused."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable

from openpyxl import load_workbook
from pypdf import PdfReader

from fundwall.auth import Actor
from fundwall.members import list_users
from fundwall.reports import official_figures

from .conftest import Browser, Console

Viewer = Callable[[str], Browser]
SECTION_DATA = re.compile(r"id=\"section-(\w+)\" data-chart-data='([^']*)'")


def _kpi(text: str, section: str, figure: str) -> str:
    found = re.search(
        rf'id="figure-{section}-{figure}">\s*<span class="kpi-label">[^<]*</span>\s*'
        r'<span class="kpi-value">(.*?)</span>',
        text,
        re.S,
    )
    assert found is not None, f"{section}.{figure}"
    return found.group(1)


def test_the_hub_reads_the_regions_figures_linked_and_drawn(
    shared_console: Console, viewer: Viewer
) -> None:
    page = viewer("supervisor").get("/reports", params={"period": "2024-03"})
    assert page.status_code == 200, page.text
    with shared_console.platform.unit_of_work() as uow:
        hub = next(u for u in _users(shared_console) if u.role.value == "hub_supervisor")
        expected = official_figures(uow, hub, "2024-03")
    assert "统计报表" in page.text and "全辖区" in page.text
    blocked = expected.value("interceptions", "blocked")
    assert blocked > 0
    assert _kpi(page.text, "interceptions", "blocked") == f"{blocked:,}"  # no list for the hub
    drawn = {key: json.loads(html.unescape(data)) for key, data in SECTION_DATA.findall(page.text)}
    assert set(drawn) == {computed.section.key for computed in expected.sections}
    assert len(drawn["interceptions"]["buckets"]) == 31
    assert sum(drawn["interceptions"]["series"][0]["data"]) == blocked
    first = shared_console.region.first_bank
    assert f'<option value="{first}">' in page.text


def test_a_member_reads_its_own_linked_figures_and_never_anothers(
    shared_console: Console, viewer: Viewer
) -> None:
    analyst = viewer("analyst1")
    page = analyst.get("/reports", params={"period": "2024-03"})
    assert page.status_code == 200
    first, second = shared_console.region.first_bank, shared_console.region.second_bank
    assert f"（{first}）" in page.text and "<select" not in page.text
    assert '<a href="/transactions?action=block&amp;from=2024-03-01&amp;to=2024-03-31">' in _kpi(
        page.text, "interceptions", "blocked"
    )
    for path in ("/reports", "/reports/export"):
        refused = analyst.get(path, params={"period": "2024-03", "member": second})
        assert refused.status_code == 404, refused.text


def test_a_bad_period_is_named_beside_the_form_and_the_current_month_shown(
    viewer: Viewer,
) -> None:
    page = viewer("analyst1").get("/reports", params={"period": "2024-13"})
    assert page.status_code == 200
    assert "统计期间" in page.text and "a month from 01 to 12, not 13" in page.text
    assert "2024-03 (2024-03-01 – 2024-03-31)" in page.text  # the console's clock's month
    export = viewer("analyst1").get("/reports/export", params={"period": "2024-13"})
    assert export.status_code == 400 and "period" in export.text  # the console names the field


def test_the_exports_carry_the_pages_figures(shared_console: Console, viewer: Viewer) -> None:
    analyst = viewer("analyst1")
    params = {"period": "2024-03", "format": "xlsx"}
    workbook = analyst.get("/reports/export", params=params)
    assert workbook.status_code == 200
    first = shared_console.region.first_bank
    assert (
        f'filename="fundwall-report-2024-03-{first}.xlsx"'
        in workbook.headers["content-disposition"]
    )
    book = load_workbook(io.BytesIO(workbook.content))
    rows = {row[0]: row[2] for row in book["涉诈交易拦截"].iter_rows(min_row=2, values_only=True)}
    page = analyst.get("/reports", params={"period": "2024-03"})
    assert f"{rows['拦截交易']:,}" in _kpi(page.text, "interceptions", "blocked")
    pdf = analyst.get("/reports/export", params={**params, "format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    words = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "涉诈交易拦截" in words and f"{rows['拦截交易']:,}" in words
    assert analyst.get("/reports/export", params={**params, "format": "docx"}).status_code == 400


def test_the_auditor_is_refused(viewer: Viewer) -> None:
    assert viewer("auditor").get("/reports", params={"period": "2024-03"}).status_code == 403


def _users(console: Console) -> list[Actor]:
    with console.platform.unit_of_work() as uow:
        return [user.actor() for user in list_users(uow, Actor.operator("test"))]


def test_a_bad_answered_date_on_the_orders_list_is_named_beside_the_form(
    viewer: Viewer,
) -> None:
    page = viewer("police").get("/orders", params={"answered_from": "2024-02-30"})
    assert page.status_code == 200
    assert 'class="problems"' in page.text and "<strong>答复日期自</strong>" in page.text
