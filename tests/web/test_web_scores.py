"""The mule score on the account page: probability, action, model and the features behind it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.models.account_features import ACCOUNT_FEATURES, account_feature_names
from fundwall.models.registry import register_model, set_state
from fundwall.models.scores import refresh_account_scores
from fundwall.store.model_tables import AccountScoreRow
from models.factory import make_model  # tests/models/factory.py

from .conftest import Browser, Console
from .region import Region

AsUser = Callable[[str], Browser]
ZH_WORDS = {feature.zh for feature in ACCOUNT_FEATURES}


def _refresh(console: Console) -> list[tuple[str, str]]:
    """An accounts champion of the test factory, a refresh; each account of the first bank and
    its action."""
    model = make_model(account_feature_names(), Target.ACCOUNTS)
    operator = console.platform.operator
    with console.uow() as uow:
        register_model(uow, operator, model)
        set_state(uow, operator, model.version, ModelState.CHAMPION, "console test")
        refresh_account_scores(uow, operator)
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
    assert "涉诈风险评分" not in client.get(f"/accounts/{region.first_account}").text
    scored = _refresh(console)
    flagged = next(account for account, action in scored if action != "pass")
    passed = next(account for account, action in scored if action == "pass")
    page = client.get(f"/accounts/{flagged}").text
    assert 'id="mule-score"' in page and "涉诈风险评分" in page and "对评分的贡献" in page
    assert any(words in page for words in ZH_WORDS)
    quiet = client.get(f"/accounts/{passed}").text
    assert "涉诈风险评分" in quiet and "低于模型预警阈值" in quiet
    client.get("/lang/en")
    english = client.get(f"/accounts/{flagged}").text
    assert "Mule score" in english and "Raises the score by" in english
