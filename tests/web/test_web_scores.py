"""The mule score on the account page: probability, action, model and the features behind it;
and the counterparty graph with the risk reaching the account from known fraud accounts, as a
hostile member would try to read it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from fundwall.config import PolicySettings
from fundwall.domain.identity import mask_account
from fundwall.engine.controls.model import RiskCategory
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.models.account_features import ACCOUNT_FEATURES, account_feature_names
from fundwall.models.registry import register_model, set_state
from fundwall.models.scores import refresh_account_scores
from fundwall.store.mapping import party_of
from fundwall.store.model_tables import AccountScoreRow
from fundwall.store.tables import AccountRow, PartyRow
from models.factory import make_model  # tests/models/factory.py

from .conftest import Browser, Console
from .region import Region

AsUser = Callable[[str], Browser]
POLICY = PolicySettings()
ZH_WORDS = {feature.zh for feature in ACCOUNT_FEATURES}


def _refresh(console: Console) -> list[tuple[str, str]]:
    """An accounts champion of the test factory, a refresh; each account of the first bank and
    its action."""
    model = make_model(account_feature_names(), Target.ACCOUNTS)
    operator = console.platform.operator
    with console.uow() as uow:
        register_model(uow, operator, model)
        set_state(uow, operator, model.version, ModelState.CHAMPION, "console test")
        refresh_account_scores(uow, operator, POLICY)
        return [
            (row.account_no, row.action)
            for row in uow.session.execute(
                select(AccountScoreRow.account_no, AccountScoreRow.action).where(
                    AccountScoreRow.bank == console.region.first_bank
                )
            )
        ]


def test_the_account_page_shows_the_mule_score_and_its_reasons(
    as_user: AsUser, console: Console, region: Region
) -> None:
    client = as_user("analyst1")
    unscored = client.get(f"/accounts/{region.first_account}").text
    assert 'id="mule-score"' not in unscored and "尚无涉诈风险评分" in unscored
    scored = _refresh(console)
    flagged = next(account for account, action in scored if action != "pass")
    passed = next(account for account, action in scored if action == "pass")
    page = client.get(f"/accounts/{flagged}").text
    assert 'id="mule-score"' in page and "涉诈风险评分" in page and "对评分的贡献" in page
    # Scored at the console's clock, over the data up to the region's last transfer or login.
    assert "评分时间" in page and "2024-03-18 10:00" in page and "数据截至2024-03-1" in page
    assert any(words in page for words in ZH_WORDS)
    quiet = client.get(f"/accounts/{passed}").text
    assert "涉诈风险评分" in quiet and "低于模型预警阈值" in quiet
    client.get("/lang/en")
    english = client.get(f"/accounts/{flagged}").text
    assert "Mule score" in english and "Raises the score by" in english


def _holder_of(console: Console, account_no: str) -> list[str]:
    """The holder's name, ID and phone in full, as only its own bank may unmask them."""
    with console.uow() as uow:
        account = uow.session.get(AccountRow, account_no)
        assert account is not None
        row = uow.session.get(PartyRow, account.party_id)
        assert row is not None
        party = party_of(row, console.platform.keyring)
    return [party.id_number.number, *([party.phone.number] if party.phone else [])]


def _graph_json(page: str) -> dict[str, Any]:
    found = re.search(r"data-chart-data='([^']+)'", page)
    assert found is not None
    return dict(json.loads(html.unescape(found.group(1))))


def test_the_graph_shows_a_listed_counterparty_and_the_money_it_sent(
    as_user: AsUser, console: Console
) -> None:
    _refresh(console)
    mine, theirs = console.list_a_payer()
    with console.uow() as uow:
        refresh_account_scores(uow, console.platform.operator, POLICY)
    page = as_user("analyst1").get(f"/accounts/{mine}").text
    graph = _graph_json(page)
    (listed,) = [node for node in graph["nodes"] if node["name"] == mask_account(theirs)]
    assert listed["risk"] == "fraud" and listed["note"] == "涉诈账户，已列入共享风险名单"
    assert listed["kind"] == "other" and listed["link"] == ""
    (centre,) = [node for node in graph["nodes"] if node["kind"] == "self"]
    assert any(
        link["risk"] and (link["source"], link["target"]) == (listed["id"], centre["id"])
        for link in graph["links"]
    )
    assert re.search(r"交易对手中有\d+个涉诈账户：本账户从其转入¥[\d,]+\.\d\d", page)
    assert "来自涉诈账户的资金关联度" in page and "倍" in page  # the score's risk flow, in words
    assert '<span class="badge fraud">风险名单</span>' in page


def test_a_member_never_reads_another_members_customer_on_its_graph(
    as_user: AsUser, console: Console
) -> None:
    """Member A's page shows member B's customer as a masked number, its institution and the
    shared-list fact: never its full number, its holder, or its mule score."""
    _refresh(console)
    mine, theirs = console.list_a_payer(RiskCategory.FRAUD_ACCOUNT)
    with console.uow() as uow:
        refresh_account_scores(uow, console.platform.operator, POLICY)
        uow.session.execute(
            update(AccountScoreRow)
            .where(AccountScoreRow.account_no == theirs)
            .values(model_version="acct-of-bank-b", action="block", probability=0.4242)
        )
        uow.commit()
    client = as_user("analyst1")
    page = client.get(f"/accounts/{mine}").text
    assert mask_account(theirs) in page
    for secret in (theirs, *_holder_of(console, theirs), "acct-of-bank-b", "42.4%"):
        assert secret not in page, secret
    (row,) = [line for line in page.splitlines() if mask_account(theirs) in line and "<td>" in line]
    assert "action-" not in row  # no score badge on another member's account
    (node,) = [n for n in _graph_json(page)["nodes"] if n["name"] == mask_account(theirs)]
    assert "涉诈风险评分" not in node["note"]
    assert client.get(f"/accounts/{theirs}").status_code == 404
