"""The risk tier (风险等级) on the account page: the change that set it, its measures and
history, and the form that sets another, which calls `set_risk_tier` and comes back with a
confirmation or the refusal; only the member's actors who may set tiers reach it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from fundwall.accounts import change_account
from fundwall.auth import Actor, Role
from fundwall.auth.actor import ActorKind
from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls.model import RestrictionKind
from fundwall.store.engine_tables import AccountRestrictionRow, AccountTierChangeRow
from fundwall.store.tables import AccountRow

from .conftest import Browser, Console

AsUser = Callable[[str], Browser]
REASON = "电话回访：本人称账户借给他人使用"


def section(page: str) -> str:
    """The page's risk tier card."""
    start = page.index('id="risk-tier"')
    return page[start : page.index("</section>", start)]


def tier_changes(console: Console, account_no: str) -> list[tuple[str, str]]:
    with console.uow() as uow:
        rows = uow.session.execute(
            select(AccountTierChangeRow.tier, AccountTierChangeRow.source)
            .where(AccountTierChangeRow.account_no == account_no)
            .order_by(AccountTierChangeRow.id)
        )
        return [(tier, source) for tier, source in rows]


def tier_of(console: Console, account_no: str) -> str:
    with console.uow() as uow:
        row = uow.session.get(AccountRow, account_no)
        assert row is not None
        return row.risk_tier


def test_an_analyst_sets_a_tier_and_the_page_confirms_it_with_its_measures(
    console: Console, as_user: AsUser
) -> None:
    account = console.region.first_account
    analyst = as_user("analyst1")
    before = section(analyst.get(f"/accounts/{account}").text)
    assert "开户时的等级，未曾调整" in before and 'id="tier-history"' not in before
    assert 'id="tier-form"' in before and 'name="csrf_token"' in before
    assert '<option value="low" disabled>低风险 (当前)</option>' in before
    answer = analyst.post_form(f"/accounts/{account}/tier", {"tier": "high", "reason": REASON})
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"/accounts/{account}?tier_set=") and location.endswith("#risk-tier")
    tier = section(analyst.get(location).text)
    assert "风险等级已调整为高风险，相应措施自下一笔交易起生效。" in tier
    assert '<span class="badge tier-high">高风险</span>' in tier
    assert f"<dt>理由</dt><dd>{REASON}</dd>" in tier
    assert (
        "<dt>设定来源</dt><dd>分析员" in tier
        and f"user:analyst1@{console.region.first_bank}" in tier
    )
    assert "暂停非柜面业务，须本人到柜面重新核实身份" in tier
    assert 'id="tier-history"' in tier and "低风险 → " in tier
    # The confirmation is of the change that set the tier, not of any number in the link.
    assert "风险等级已调整" not in analyst.get(f"/accounts/{account}?tier_set=999").text
    with console.uow() as uow:
        measures = uow.session.scalars(
            select(AccountRestrictionRow.kind).where(
                AccountRestrictionRow.account_no == account,
                AccountRestrictionRow.lifted_at.is_(None),
                AccountRestrictionRow.reference.like("tier:%"),
            )
        ).all()
        (record,) = [r for r in uow.audit.tail(5) if r.action == "set_risk_tier"]
    assert measures == [RestrictionKind.NON_COUNTER_SUSPENSION.value]
    assert (record.details["source"], record.details["reason"]) == ("analyst", REASON)
    analyst.get("/lang/en")
    english = section(analyst.get(f"/accounts/{account}").text)
    assert "<dt>Set by</dt><dd>An analyst" in english and "Tier history" in english
    analyst.get("/lang/zh")


def test_the_tier_the_account_has_already_is_refused_clearly(
    console: Console, as_user: AsUser
) -> None:
    account = console.region.first_account
    analyst = as_user("analyst1")
    first = analyst.post_form(f"/accounts/{account}/tier", {"tier": "medium", "reason": REASON})
    assert first.status_code == 303
    again = analyst.post_form(f"/accounts/{account}/tier", {"tier": "medium", "reason": "again"})
    assert again.status_code == 409
    tier = section(again.text)
    assert "账户已是该风险等级：未作调整，原理由保留。" in tier and 'role="alert"' in tier
    assert f"<dt>理由</dt><dd>{REASON}</dd>" in tier
    assert tier_changes(console, account) == [("medium", "analyst")]


def test_a_closed_account_keeps_its_tier(console: Console, as_user: AsUser) -> None:
    account = console.region.first_account
    with console.uow() as uow:
        system = Actor(ActorKind.API_KEY, "k1", Role.MEMBER_SYSTEM, console.region.first_bank)
        change_account(uow, system, account, reason="customer left", status=AccountStatus.CLOSED)
    analyst = as_user("analyst1")
    page = section(analyst.get(f"/accounts/{account}").text)
    assert "账户已销户，风险等级不再调整。" in page and 'id="tier-form"' not in page
    answer = analyst.post_form(f"/accounts/{account}/tier", {"tier": "high", "reason": REASON})
    assert answer.status_code == 409
    assert "账户已销户，风险等级不再调整。" in section(answer.text)
    assert tier_of(console, account) == "low" and tier_changes(console, account) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"tier": "extreme", "reason": REASON}, "等级"),
        ({"reason": REASON}, "等级"),
        ({"tier": "high", "reason": "   "}, "理由"),
        ({"tier": "high", "reason": "很" * 201}, "理由"),
        ({"tier": "high", "reason": "line\x00break"}, "理由"),
    ],
)
def test_bad_input_is_named_at_the_form(
    console: Console, as_user: AsUser, form: dict[str, str], field: str
) -> None:
    account = console.region.first_account
    answer = as_user("analyst1").post_form(f"/accounts/{account}/tier", form)
    assert answer.status_code == 422
    tier = section(answer.text)
    assert f"<strong>{field}</strong>" in tier and 'aria-invalid="true"' in tier
    assert tier_changes(console, account) == []


def test_another_members_account_is_not_found_and_unchanged(
    console: Console, as_user: AsUser
) -> None:
    theirs = console.region.second_account
    analyst = as_user("analyst1")
    for form in ({"tier": "high", "reason": REASON}, {"tier": "bad", "reason": ""}):
        answer = analyst.post_form(f"/accounts/{theirs}/tier", form)
        assert answer.status_code == 404 and "未找到" in answer.text
    assert analyst.post_form("/accounts/9999999999999999/tier", {"tier": "high", "reason": REASON}
                             ).status_code == 404  # fmt: skip
    assert tier_changes(console, theirs) == [] and tier_of(console, theirs) == "low"


@pytest.mark.parametrize("user", ["supervisor", "police", "auditor"])
def test_those_who_set_no_tiers_are_refused(console: Console, as_user: AsUser, user: str) -> None:
    account = console.region.first_account
    answer = as_user(user).post_form(
        f"/accounts/{account}/tier", {"tier": "high", "reason": REASON}
    )
    assert answer.status_code == 403
    assert tier_changes(console, account) == []


def test_the_tier_form_needs_the_sessions_csrf_token(console: Console, as_user: AsUser) -> None:
    account = console.region.first_account
    analyst = as_user("analyst1")
    forged = {"tier": "high", "reason": REASON, "csrf_token": "forged"}
    assert analyst.post(f"/accounts/{account}/tier", data=forged).status_code == 403
    assert analyst.post(f"/accounts/{account}/tier", data={"tier": "high", "reason": REASON}
                        ).status_code == 403  # fmt: skip
    assert tier_changes(console, account) == []


def test_a_member_admin_sets_tiers_too(console: Console, as_user: AsUser) -> None:
    account = console.region.first_account
    admin = as_user("admin1")
    assert 'id="tier-form"' in admin.get(f"/accounts/{account}").text
    answer = admin.post_form(f"/accounts/{account}/tier", {"tier": "medium", "reason": REASON})
    assert answer.status_code == 303
    assert tier_changes(console, account) == [("medium", "analyst")]


def test_an_analyst_sets_the_tier_of_every_account_the_holder_has_at_the_bank(
    console: Console, as_user: AsUser
) -> None:
    bank = console.region.first_bank
    with console.uow() as uow:
        first = uow.session.get(AccountRow, console.region.first_account)
        assert first is not None
        rows = uow.session.execute(
            select(AccountRow.party_id, AccountRow.account_no)
            .where(
                AccountRow.institution_code == bank,
                AccountRow.status != AccountStatus.CLOSED.value,
                AccountRow.risk_tier == "low",
                AccountRow.party_id != first.party_id,
            )
            .order_by(AccountRow.party_id, AccountRow.account_no)
        ).all()
        held: dict[str, list[str]] = {}
        for party, number in rows:
            held.setdefault(party, []).append(number)
        party, accounts = next((p, a) for p, a in held.items() if len(a) >= 2)
        elsewhere = uow.session.scalars(
            select(AccountRow.account_no).where(
                AccountRow.party_id == party, AccountRow.institution_code != bank
            )
        ).all()
    analyst = as_user("analyst1")
    form = {"tier": "medium", "reason": "一人多户", "holder": "1"}
    answer = analyst.post_form(f"/accounts/{accounts[0]}/tier", form)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert f"tier_holder={len(accounts)}" in location
    tier = section(analyst.get(location).text)
    assert f"该客户在本行原属其他风险等级的未销户账户共{len(accounts)}个" in tier
    assert "风险等级已调整为中风险" in tier
    assert [tier_of(console, number) for number in accounts] == ["medium"] * len(accounts)
    assert all(tier_of(console, number) != "medium" for number in elsewhere)
    # Another member's account: not found, its holder's accounts unchanged.
    theirs = console.region.second_account
    refused = analyst.post_form(f"/accounts/{theirs}/tier", form)
    assert refused.status_code == 404 and tier_of(console, theirs) == "low"
