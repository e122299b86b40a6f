"""Phone real-name verification on the console, over the console tests' region, where each
demo bank has a recycled number still bound and a customer with two phones, and every bound
phone was checked against the local registry (tests/web/phone_records.py)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import delete, select

from fundwall.domain.identity import MobilePhone, ResidentId
from fundwall.engine.controls.model import ListKind, RiskCategory
from fundwall.phones.registry import RegistryAnswer, RegistryUnavailable
from fundwall.store.engine_tables import RiskListEntryRow
from fundwall.store.phone_tables import PhoneCheckRow
from fundwall.store.sharing_tables import ShareKeyRow
from fundwall.store.tables import AccountRow, PartyRow

from .conftest import Browser, Console, open_client

AsUser = Callable[[str], Browser]
HTMX = {"HX-Request": "true"}
MASKED_PHONE = re.compile(r"\b1\d{2}\*{4}\d{4}\b")
TABS = ("shared_phone", "many_phones", "recycled_phone")


def _accounts_not_of(console: Console, bank: str) -> set[str]:
    with console.uow() as uow:
        return set(
            uow.session.scalars(
                select(AccountRow.account_no).where(AccountRow.institution_code != bank)
            )
        )


def _publish(client: Browser, finding: str, binding: int, *, htmx: bool = True) -> object:
    return client.post_form(
        "/phones/publish",
        {"finding": finding, "binding": str(binding)},
        headers=HTMX if htmx else {},
    )


def test_an_analyst_reads_the_three_investigations_of_its_customers(
    shared_console: Console, viewer: AsUser
) -> None:
    region = shared_console.region
    planted = region.phones[region.first_bank]
    analyst = viewer("analyst1")
    shared = analyst.get("/phones")
    assert shared.status_code == 200 and "手机号排查" in shared.text
    assert 'aria-current="page">一号多人' in shared.text
    assert 'name="min_people"' in shared.text and MASKED_PHONE.search(shared.text)
    many = analyst.get("/phones?finding=many_phones")
    assert f'href="/accounts/{planted.many_account}"' in many.text
    recycled = analyst.get("/phones?finding=recycled_phone")
    assert f'href="/accounts/{planted.recycled_account}"' in recycled.text
    assert f'id="publish-recycled_phone-{planted.recycled_binding}"' in recycled.text
    assert f'action="/accounts/{planted.recycled_account}/phone/recheck"' in recycled.text
    assert 'name="days" min="1" max="3660" value="365"' in recycled.text  # phones.recycled_days
    # A month ago is not within the last week.
    week = analyst.get("/phones?finding=recycled_phone&days=7")
    assert planted.recycled_account not in week.text and "未发现" in week.text


def test_a_member_sees_other_members_customers_as_counts_only(
    shared_console: Console, viewer: AsUser
) -> None:
    region = shared_console.region
    for user, bank in (("analyst1", region.first_bank), ("analyst2", region.second_bank)):
        others = _accounts_not_of(shared_console, bank)
        client = viewer(user)
        for tab in TABS:
            page = client.get(f"/phones?finding={tab}&min_people=2&min_phones=2&days=3660")
            assert page.status_code == 200
            assert not set(re.findall(r"\d{12,19}", page.text)) & others, (user, tab)
            assert not re.search(r"\b1\d{10}\b", page.text), "a phone in full"
    # A phone bound at both banks: each sees its own customer and counts of the rest.
    first = viewer("analyst1").get("/phones?finding=shared_phone").text
    second = viewer("analyst2").get("/phones?finding=shared_phone").text
    assert set(MASKED_PHONE.findall(first)) & set(MASKED_PHONE.findall(second))


@pytest.mark.parametrize("user", ["supervisor", "police", "auditor"])
def test_those_without_customers_are_refused_the_investigations(
    shared_console: Console, viewer: AsUser, user: str
) -> None:
    assert viewer(user).get("/phones").status_code == 403
    assert 'href="/phones"' not in viewer(user).get("/").text


def test_signed_out_the_pages_ask_to_sign_in(shared_console: Console) -> None:
    client = open_client(shared_console.app)
    for path in ("/phones", "/phones/overview"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("finding=shared_phone&min_people=1", "每个号码的人数"),
        ("finding=shared_phone&min_people=abc", "每个号码的人数"),
        ("finding=many_phones&min_phones=101", "每人的号码数"),
        ("finding=recycled_phone&days=0", "注销时间范围（天）"),
        ("finding=recycled_phone&days=99999999999999999999", "注销时间范围（天）"),
        ("finding=stolen_phones", "排查类型"),
    ],
)
def test_a_bad_threshold_is_named_and_the_default_used(
    shared_console: Console, viewer: AsUser, query: str, field: str
) -> None:
    page = viewer("analyst1").get(f"/phones?{query}")
    assert page.status_code == 200
    assert 'class="problems"' in page.text and f"<strong>{field}</strong>" in page.text


def test_the_hub_reads_the_regions_counts_and_nothing_else(
    shared_console: Console, viewer: AsUser
) -> None:
    hub = viewer("supervisor")
    page = hub.get("/phones/overview")
    assert page.status_code == 200 and 'href="/phones/overview"' in page.text
    for member in (shared_console.region.first_bank, shared_console.region.second_bank):
        assert f'<td class="mono">{member}</td>' in page.text
    assert not MASKED_PHONE.search(page.text) and not re.search(r"\d{12,19}", page.text)
    assert "已注销" in page.text  # the recycled numbers' column
    bad = hub.get("/phones/overview?days=-1")
    assert bad.status_code == 200 and 'class="problems"' in bad.text
    for user in ("analyst1", "police", "auditor"):
        assert viewer(user).get("/phones/overview").status_code == 403


def test_publishing_a_recycled_number_lists_its_hash_once(
    console: Console, as_user: AsUser
) -> None:
    region = console.region
    planted = region.phones[region.first_bank]
    analyst = as_user("analyst1")
    answer = _publish(analyst, "recycled_phone", planted.recycled_binding)
    assert answer.status_code == 200, answer.text
    entry = re.search(r"编号 (\d+)", answer.text)
    assert entry is not None and "<html" not in answer.text  # the row's answer only
    with console.uow() as uow:
        row = uow.session.get(RiskListEntryRow, int(entry.group(1)))
        assert row is not None
        assert row.kind == ListKind.PHONE_HASH.value and row.key.startswith("v1:")
        assert row.category == RiskCategory.RECYCLED_PHONE.value
        assert row.reporting_member == region.first_bank
    again = _publish(analyst, "recycled_phone", planted.recycled_binding)
    assert again.status_code == 409 and "已在共享风险名单上" in again.text
    # A plain form post gets the investigation's page with the answer above it.
    page = _publish(analyst, "recycled_phone", planted.recycled_binding, htmx=False)
    assert page.status_code == 409 and "已在共享风险名单上" in page.text
    assert f'href="/accounts/{planted.recycled_account}"' in page.text


def test_publishing_a_person_with_many_phones_lists_the_id_hash(
    console: Console, as_user: AsUser
) -> None:
    planted = console.region.phones[console.region.first_bank]
    page = _publish(as_user("admin1"), "many_phones", planted.many_binding, htmx=False)
    assert page.status_code == 200 and "已发布到共享风险名单" in page.text
    with console.uow() as uow:
        kinds = set(uow.session.scalars(select(RiskListEntryRow.kind)))
    assert kinds == {ListKind.ID_HASH.value}


def test_publishing_what_is_not_the_members_is_refused(console: Console, as_user: AsUser) -> None:
    region = console.region
    theirs = region.phones[region.second_bank]
    analyst = as_user("analyst1")
    assert _publish(analyst, "recycled_phone", theirs.recycled_binding).status_code == 404
    assert _publish(analyst, "many_phones", theirs.many_binding).status_code == 404
    mine = region.phones[region.first_bank]
    # The binding is the member's, but not a row of that investigation.
    assert _publish(analyst, "recycled_phone", mine.many_binding).status_code == 404
    assert _publish(analyst, "recycled_phone", 10**12).status_code == 404
    bad = _publish(analyst, "recycled_phone", -1)
    assert bad.status_code == 400 and "binding" in bad.text
    assert _publish(analyst, "no_such_finding", mine.recycled_binding).status_code == 400
    for user in ("supervisor", "police", "auditor"):
        assert _publish(as_user(user), "recycled_phone", mine.recycled_binding).status_code == 403
    with console.uow() as uow:
        assert uow.session.scalar(select(RiskListEntryRow.id)) is None


def test_without_a_sharing_key_nothing_is_offered_for_publishing(
    console: Console, as_user: AsUser
) -> None:
    with console.uow() as uow:
        uow.session.execute(delete(ShareKeyRow))
        uow.commit()
    planted = console.region.phones[console.region.first_bank]
    analyst = as_user("analyst1")
    page = analyst.get("/phones?finding=recycled_phone")
    assert "尚未生成共享密钥" in page.text and 'action="/phones/publish"' not in page.text
    refused = _publish(analyst, "recycled_phone", planted.recycled_binding)
    assert refused.status_code == 409 and "尚未生成共享密钥" in refused.text


def test_the_forms_need_the_sessions_csrf_token(console: Console, as_user: AsUser) -> None:
    planted = console.region.phones[console.region.first_bank]
    analyst = as_user("analyst1")
    form = {"finding": "recycled_phone", "binding": str(planted.recycled_binding)}
    assert analyst.post("/phones/publish", data=form).status_code == 403
    forged = analyst.post("/phones/publish", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    recheck = f"/accounts/{planted.recycled_account}/phone/recheck"
    assert analyst.post(recheck, data={}).status_code == 403
    with console.uow() as uow:
        assert uow.session.scalar(select(RiskListEntryRow.id)) is None


def test_the_account_page_shows_the_holders_checks(shared_console: Console, viewer: AsUser) -> None:
    planted = shared_console.region.phones[shared_console.region.first_bank]
    page = viewer("analyst1").get(f"/accounts/{planted.recycled_account}")
    assert page.status_code == 200 and 'id="phone-checks"' in page.text
    assert 'class="badge phone-recycled"' in page.text and "复核" in page.text
    assert MASKED_PHONE.search(page.text) and not re.search(r"\b1\d{10}\b", page.text)
    many = viewer("analyst1").get(f"/accounts/{planted.many_account}").text
    assert "此前绑定" in many  # the phone bound before the new one, with its check


def test_a_recheck_adds_a_check_for_the_member_only(console: Console, as_user: AsUser) -> None:
    region = console.region
    mine, theirs = region.phones[region.first_bank], region.phones[region.second_bank]
    analyst = as_user("analyst1")
    path = f"/accounts/{mine.recycled_account}/phone/recheck"
    fragment = analyst.post_form(path, {}, headers=HTMX)
    assert fragment.status_code == 200 and fragment.text.count("phone-recycled") == 2
    assert "<html" not in fragment.text
    plain = analyst.post_form(path, {})
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/accounts/{mine.recycled_account}#phone-checks"
    with console.uow() as uow:
        results = uow.session.scalars(
            select(PhoneCheckRow.result).where(PhoneCheckRow.binding_id == mine.recycled_binding)
        ).all()
    assert results == ["recycled"] * 3
    other = analyst.post_form(f"/accounts/{theirs.recycled_account}/phone/recheck", {})
    assert other.status_code == 404
    for user in ("supervisor", "police", "auditor"):
        assert as_user(user).post_form(path, {}).status_code == 403


def test_a_registry_that_does_not_answer_is_said_so(console: Console, as_user: AsUser) -> None:
    class Silent:
        name = "http:operator.example"

        def verify(
            self, phone: MobilePhone, id_number: ResidentId, name: str, bound_at: datetime | None
        ) -> RegistryAnswer:
            raise RegistryUnavailable(self.name, "timed out after 3.0 s")

    config = console.app.state.fundwall_console
    console.app.state.fundwall_console = dataclasses.replace(config, telecom_registry=Silent())
    account = console.region.phones[console.region.first_bank].recycled_account
    analyst = as_user("analyst1")
    answer = analyst.post_form(f"/accounts/{account}/phone/recheck", {}, headers=HTMX)
    assert answer.status_code == 503 and "did not answer" in answer.text
    page = analyst.post_form(f"/accounts/{account}/phone/recheck", {})
    assert page.status_code == 503 and 'id="phone-checks"' in page.text and "<html" in page.text


def test_a_firms_account_has_no_phone_checks(console: Console, as_user: AsUser) -> None:
    bank = console.region.first_bank
    with console.uow() as uow:
        firm_account = uow.session.scalar(
            select(AccountRow.account_no)
            .join(PartyRow, PartyRow.party_id == AccountRow.party_id)
            .where(AccountRow.institution_code == bank, PartyRow.kind == "firm")
            .limit(1)
        )
    assert firm_account is not None
    analyst = as_user("analyst1")
    assert 'id="phone-checks"' not in analyst.get(f"/accounts/{firm_account}").text
    refused = analyst.post_form(f"/accounts/{firm_account}/phone/recheck", {}, headers=HTMX)
    assert refused.status_code in (409, 422) and 'role="alert"' in refused.text


def test_the_navigation_links_to_each_roles_page(shared_console: Console, viewer: AsUser) -> None:
    analyst = viewer("analyst1").get("/").text
    assert 'href="/phones"' in analyst and 'href="/phones/overview"' not in analyst
    hub = viewer("supervisor").get("/").text
    assert 'href="/phones/overview"' in hub and 'href="/phones"' not in hub
