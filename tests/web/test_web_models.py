"""The model registry in the console: the list per target, a model's card in words (Chinese
by default, English by choice), models side by side, and the hub supervisor's promotion
form, through the registry's use cases (audited; refused to anyone else)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fundwall.auth.actor import Actor
from fundwall.engine.models.artifact import Target
from fundwall.models.registry import ModelState, list_models, register_model
from models.factory import make_model  # tests/models/factory.py

from .conftest import Browser, Console

AsUser = Callable[[str], Browser]
FIRST = make_model()
SECOND = make_model(("amount", "hour", "is_night"))
ACCOUNTS = make_model(("in_count_7d", "out_share_24h"), Target.ACCOUNTS)


def _register(console: Console) -> None:
    with console.uow() as uow:
        for model in (FIRST, SECOND, ACCOUNTS):
            register_model(uow, Actor.operator("test"), model)


def _states(console: Console) -> dict[str, ModelState]:
    with console.uow() as uow:
        return {r.version: r.state for r in list_models(uow, Actor.operator("test"))}


def test_the_supervisor_promotes_a_model_from_its_page(as_user: AsUser, console: Console) -> None:
    _register(console)
    client = as_user("supervisor")
    listing = client.get("/models")
    assert listing.status_code == 200
    for said in ("模型库", "交易模型", "账户模型", FIRST.version, ACCOUNTS.version, "已登记"):
        assert said in listing.text
    path = f"/models/{quote(FIRST.version)}"
    assert 'id="promote-form"' in client.get(path).text
    answer = client.post_form(f"{path}/promote", {"state": "champion", "reason": "首个模型"})
    assert answer.status_code == 303 and answer.headers["location"] == path
    client.post_form(f"/models/{quote(SECOND.version)}/promote", {"state": "shadow"})
    assert _states(console) == {
        FIRST.version: ModelState.CHAMPION,
        SECOND.version: ModelState.SHADOW,
        ACCOUNTS.version: ModelState.REGISTERED,
    }
    shown = client.get(path).text
    assert 'class="badge model-champion">冠军' in shown
    assert "已登记 → 冠军</td>\n        <td>user:supervisor</td>\n        <td>首个模型" in shown
    with console.uow() as uow:
        trail = [(r.actor, r.action, r.subject) for r in uow.audit.tail(2)]
    assert trail == [
        ("user:supervisor", "set_model_state", f"model:{FIRST.version}"),
        ("user:supervisor", "set_model_state", f"model:{SECOND.version}"),
    ]
    refused = client.post_form(f"{path}/promote", {"state": "shadow"})
    assert refused.status_code == 422
    assert "is the champion" in refused.text and 'role="alert"' in refused.text
    assert client.post_form(f"{path}/promote", {"state": "best"}).status_code == 422
    assert _states(console)[FIRST.version] is ModelState.CHAMPION


def test_a_card_reads_in_chinese_and_in_english(as_user: AsUser, console: Console) -> None:
    _register(console)
    client = as_user("analyst1")
    path = f"/models/{quote(FIRST.version)}"
    card = client.get(path).text
    for said in ("测试用模型：随机数据训练", "仅用于测试", "交易金额", "留出期", "训练期",
                 "pr_auc", FIRST.card.fingerprint, 'class="badge action-block"'):  # fmt: skip
        assert said in card, said
    assert 'id="promote-form"' not in card
    client.get("/lang/en")
    english = client.get(path).text
    for said in ("A test model trained on random data", "For tests only",
                 "Amount of the transaction", "Held-out period"):  # fmt: skip
        assert said in english, said
    accounts = client.get(f"/models/{quote(ACCOUNTS.version)}").text
    assert "in_count_7d" in accounts and "they are shown by name" in accounts
    assert client.get("/models/tx-000000000000").status_code == 404


def test_models_side_by_side(as_user: AsUser, console: Console) -> None:
    _register(console)
    client = as_user("auditor")
    first, second = quote(FIRST.version), quote(SECOND.version)
    compared = client.get(f"/models/compare?version={first}&version={second}")
    assert compared.status_code == 200
    assert "模型对比" in compared.text
    assert 'class="added">+ <span class="mono">is_night</span>' in compared.text
    pr_auc = f"{SECOND.card.metrics['holdout']['pr_auc']:.4f}"
    assert pr_auc in compared.text
    mixed = client.get(f"/models/compare?version={first}&version={quote(ACCOUNTS.version)}")
    assert mixed.status_code == 400 and "different targets" in mixed.text
    assert client.get(f"/models/compare?version={first}").status_code == 400


def test_promoting_needs_the_right_and_the_csrf_token(as_user: AsUser, console: Console) -> None:
    _register(console)
    path = f"/models/{quote(FIRST.version)}/promote"
    for username in ("analyst1", "admin1", "auditor"):
        client = as_user(username)
        assert client.get("/models").status_code == 200
        assert client.post_form(path, {"state": "champion"}).status_code == 403
    assert as_user("police").get("/models").status_code == 403
    assert as_user("supervisor").post(path, data={"state": "champion"}).status_code == 403
    assert _states(console)[FIRST.version] is ModelState.REGISTERED
    nav = as_user("supervisor").get("/packs").text
    assert nav.index('href="/packs"') < nav.index('href="/models"')
