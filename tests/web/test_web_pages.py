"""Console pages over the tiny region: what each role sees, explained decisions, isolation
between members, empty states, long lists and bad query strings."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
from sqlalchemy import delete, update

from fundwall.store.tables import AccountRow, DecisionRow

from .conftest import Browser, Console, open_client
from .region import Region

AsUser = Callable[[str], Browser]


def _pages(region: Region) -> dict[str, str]:
    return {
        "/": "总览",
        "/transactions": "交易",
        f"/transactions/{region.blocked_tx}": "决策原因",
        f"/accounts/{region.first_account}": "账户画像",
        "/alerts": "预警",
        "/packs": "规则包",
        f"/packs/{quote(region.shadow_version)}": "命中条件",
        f"/packs/compare?shadow={quote(region.shadow_version)}": "生产决策（行）与影子决策（列）",
        "/packs/backtests": "回测",
    }


def test_an_analyst_opens_every_page_of_its_work(viewer: AsUser, region: Region) -> None:
    client = viewer("analyst1")
    for path, text in _pages(region).items():
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert text in page.text, path
    assert client.get("/audit").status_code == 403


@pytest.mark.parametrize(
    ("user", "allowed", "refused"),
    [
        ("supervisor", ["/", "/packs", "/packs/backtests"], ["/transactions", "/alerts", "/audit"]),
        ("police", ["/", "/transactions"], ["/alerts", "/packs", "/audit"]),
        ("auditor", ["/audit", "/packs"], ["/transactions", "/alerts", "/overview/live"]),
    ],
)
def test_other_roles_see_what_their_role_allows(
    viewer: AsUser, user: str, allowed: list[str], refused: list[str]
) -> None:
    client = viewer(user)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in refused:
        page = client.get(path)
        assert page.status_code == 403, path
        assert "无权操作" in page.text


def test_the_auditor_starts_in_the_audit_log(viewer: AsUser) -> None:
    answer = viewer("auditor").get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/audit"


def test_the_hub_sees_the_region_member_by_member_and_a_member_only_itself(
    viewer: AsUser, region: Region
) -> None:
    hub = viewer("supervisor").get("/").text
    assert "全辖区汇总" in hub and "各成员机构" in hub
    assert f'<span class="bank">{region.second_bank}</span>' in hub
    member = viewer("analyst1").get("/").text
    assert "各成员机构" not in member
    police = viewer("police").get("/").text
    assert "全辖区汇总" in police and "各成员机构" not in police


def test_a_blocked_transaction_is_explained_in_words(as_user: AsUser, region: Region) -> None:
    client = as_user("analyst1")
    page = client.get(f"/transactions/{region.blocked_tx}").text
    verdict = re.search(r'<p class="verdict verdict-block">([^<]+)</p>', page)
    assert verdict is not None
    assert verdict.group(1).startswith("拦截：得分") and "达到拦截阈值100" in verdict.group(1)
    assert "规则包 2025.1:" in page
    assert page.count('<article class="reason">') >= 1
    assert "交易金额" in page  # a feature's meaning, next to its value
    client.get("/lang/en")
    english = client.get(f"/transactions/{region.blocked_tx}").text
    assert "Blocked: score" in english and "reached the block threshold 100" in english
    assert "Amount of the transaction" in english


def test_analyst1_cannot_open_analyst2s_records(viewer: AsUser, region: Region) -> None:
    client = viewer("analyst1")
    for path in (f"/accounts/{region.second_account}", f"/transactions/{region.second_tx}"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "属于其他成员机构" in page.text
    missing = client.get("/accounts/9999999999999999")
    assert missing.status_code == 404
    own = viewer("analyst2").get(f"/accounts/{region.second_account}")
    assert own.status_code == 200


def test_the_account_profile_masks_the_holder_until_unmasked_on_purpose(
    as_user: AsUser, console: Console, region: Region
) -> None:
    client = as_user("analyst1")
    page = client.get(f"/accounts/{region.first_account}").text
    id_number = re.compile(r'<dt>证件号码</dt><dd class="mono">([^<]+)</dd>')
    masked = id_number.search(page)
    assert masked is not None and "*" in masked.group(1)
    assert 'data-chart="graph"' in page
    refused = client.post_form(f"/accounts/{region.first_account}/unmask", {"purpose": " "})
    assert refused.status_code == 422 and "purpose" in refused.text
    shown = client.post_form(
        f"/accounts/{region.first_account}/unmask", {"purpose": "call-back on a blocked payment"}
    )
    assert shown.status_code == 200
    full = id_number.search(shown.text)
    assert full is not None and "*" not in full.group(1)
    assert (full.group(1)[:4], len(full.group(1))) == (masked.group(1)[:4], len(masked.group(1)))
    with console.uow() as uow:
        (record,) = uow.audit.tail(1)
    assert record.action == "unmask_personal_data"
    assert record.actor == f"user:analyst1@{region.first_bank}"
    assert record.details["purpose"] == "call-back on a blocked payment"
    assert region.first_account not in record.subject  # the account number is masked there


def test_an_account_whose_opening_is_unknown_reads_so_on_its_page_and_in_the_api(
    as_user: AsUser, console: Console, region: Region
) -> None:
    """As `fundwall load` stores an imported account: its opening null, never shown as a time."""
    with console.uow() as uow:
        uow.session.execute(
            update(AccountRow)
            .where(AccountRow.account_no == region.first_account)
            .values(opened_at=None)
        )
        uow.commit()
    client = as_user("analyst1")
    assert "<dt>开户</dt><dd>未知 · " in client.get(f"/accounts/{region.first_account}").text
    client.get("/lang/en")
    english = client.get(f"/accounts/{region.first_account}").text
    assert "<dt>Opened</dt><dd>unknown · " in english
    answer = open_client(console.app).get(
        f"/v1/accounts/{region.first_account}",
        headers={"Authorization": f"Bearer {region.first_key}"},
    )
    assert answer.status_code == 200 and answer.json()["opened_at"] is None


def test_the_hub_cannot_unmask_and_the_police_only_in_their_scope(
    viewer: AsUser, region: Region
) -> None:
    path = f"/accounts/{region.first_account}/unmask"
    assert viewer("supervisor").post_form(path, {"purpose": "x y"}).status_code == 403
    # The account is in no order or accepted clue of the officer's unit: as if it did not exist.
    assert viewer("police").post_form(path, {"purpose": "x y"}).status_code == 404


BAD_QUERIES = (
    "page=0",
    "page=-1",
    "page=abc",
    "page=99999999999999999999999",
    "page=²",
    "from=yesterday",
    "to=2024-13-45",
    "min=lots",
    "max=1.234",
    "action=explode",
    "account=" + "9" * 200,
    "status=maybe&assignee=everyone",
    "from=%00&to=%ff",
    "shadow=",
)


def test_bad_query_strings_are_reported_never_crash(viewer: AsUser) -> None:
    client = viewer("analyst1")
    for query in BAD_QUERIES:
        for path in ("/transactions", "/alerts", "/", "/packs", "/audit"):
            page = client.get(f"{path}?{query}")
            assert page.status_code == (403 if path == "/audit" else 200), (path, query)
    auditor = viewer("auditor")
    for query in BAD_QUERIES:
        assert auditor.get(f"/audit?{query}").status_code == 200, query


def test_a_bad_filter_is_named_beside_the_form(viewer: AsUser) -> None:
    page = viewer("analyst1").get("/transactions?min=lots&page=abc").text
    assert '<ul class="problems" role="alert">' in page
    assert "<strong>最小金额（元）</strong>: 以元为单位的金额" in page
    assert "<strong>页码</strong>: 页码应在1到" in page


def test_long_lists_come_in_pages(viewer: AsUser) -> None:
    client = viewer("analyst1")
    first = client.get("/transactions").text
    second = client.get("/transactions?page=2").text
    ids = re.compile(r'href="/transactions/(T\d+)"')
    assert len(ids.findall(first)) == 50
    assert set(ids.findall(first)).isdisjoint(ids.findall(second))
    assert 'rel="next"' in first and 'rel="prev"' in second
    beyond = client.get("/transactions?page=9999").text
    assert "本页没有更多交易" in beyond


def test_searches_narrow_the_list(viewer: AsUser, region: Region) -> None:
    client = viewer("analyst1")
    blocked = client.get("/transactions?action=block").text
    assert blocked.count('class="badge action-block"') >= 1
    assert 'class="badge action-pass"' not in blocked
    by_account = client.get(f"/transactions?account={region.first_account}").text
    assert region.blocked_tx in by_account
    nothing = client.get("/transactions?min=999999999&from=2024-03-05&to=2024-03-05").text
    assert "没有符合条件的交易" in nothing


def test_the_overview_says_when_nothing_was_decided_yet(console: Console, as_user: AsUser) -> None:
    with console.uow() as uow:
        uow.session.execute(delete(DecisionRow))
        uow.commit()
    client = as_user("analyst1")
    assert "暂无决策" in client.get("/").text
    assert "没有符合条件的预警" in client.get("/alerts").text


def test_the_live_panel_is_polled_and_answers_alone(viewer: AsUser) -> None:
    client = viewer("analyst1")
    page = client.get("/").text
    assert 'hx-get="/overview/live" hx-trigger="every 5s"' in page
    panel = client.get("/overview/live", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert panel.text.startswith('<section id="live"') and "<html" not in panel.text


def test_an_expired_session_sends_htmx_to_the_sign_in_page(console: Console) -> None:
    with open_client(console.app) as client:
        answer = client.get("/overview/live", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"] == "/login?next=/overview/live"


def test_rule_packs_show_rules_diffs_and_shadow_against_live(
    viewer: AsUser, region: Region
) -> None:
    client = viewer("supervisor")
    listed = client.get("/packs").text
    assert region.shadow_version in listed and "trial.yaml" in listed
    live = re.search(r'href="/packs/(2025\.1%3A[0-9a-f]+)"', listed)
    assert live is not None
    diff = client.get(f"/packs/diff?before={live.group(1)}&after={quote(region.shadow_version)}")
    assert diff.status_code == 200
    assert "policy.thresholds.block" in diff.text and ">100<" in diff.text and ">80<" in diff.text
    compare = client.get(f"/packs/compare?shadow={quote(region.shadow_version)}").text
    assert "决策一致" in compare and 'class="num differs"' in compare
    # The hub sees counts only; a member also sees its transactions that were decided apart.
    assert "最近决策不一致的交易" not in compare
    assert client.get("/packs/no-such-version").status_code == 404
    assert client.get("/packs/diff").status_code == 400


def test_backtests_are_compared_side_by_side(viewer: AsUser, region: Region) -> None:
    client = viewer("supervisor")
    listed = client.get("/packs/backtests").text
    assert region.shadow_version in listed and "并排对比" in listed
    live = re.search(r"<option>(2025\.1:[0-9a-f]+)</option>", listed)
    assert live is not None
    page = client.get(
        f"/packs/backtests/compare?region={region.folder.name}&base={quote(live.group(1))}"
        f"&other={quote(region.shadow_version)}"
    )
    assert page.status_code == 200
    assert "actions.block.count" in page.text and "拦截交易" in page.text
    assert client.get("/packs/backtests/compare?region=nowhere&base=a&other=b").status_code == 404


def test_the_audit_log_is_filtered_and_its_chain_verified(as_user: AsUser) -> None:
    as_user("analyst1")
    client = as_user("auditor")
    page = client.get("/audit?actor=user:analyst1").text
    assert "login" in page and "user:analyst1@" in page
    assert "apikey_add" not in page
    verified = client.get("/audit/verify", headers={"HX-Request": "true"}).text
    assert "哈希链完整" in verified
    assert "没有符合条件的审计记录" in client.get("/audit?action=none_such").text


def test_unknown_console_paths_are_pages_and_api_paths_stay_problems(viewer: AsUser) -> None:
    client = viewer("analyst1")
    page = client.get("/nowhere")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    problem = client.get("/v1/nowhere")
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
