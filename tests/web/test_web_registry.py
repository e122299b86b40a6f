"""Promoting rule packs and running them in shadow from the console, through the registry's
use cases: the hub supervisor's right, audited, visible on the packs page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fundwall.auth.actor import Actor
from fundwall.engine.registry import PackStatus, pack_records
from fundwall.engine.rules import default_pack
from fundwall.rulepacks.registry import register_pack

from .conftest import Browser, Console
from .region import Region, trial_pack_text

AsUser = Callable[[str], Browser]


def _statuses(console: Console) -> dict[str, PackStatus]:
    with console.uow() as uow:
        return {record.version: record.status for record in pack_records(uow.session)}


def test_the_supervisor_promotes_a_pack_file_and_runs_another_in_shadow(
    as_user: AsUser, console: Console, region: Region
) -> None:
    client = as_user("supervisor")
    trial, shipped = region.shadow_version, default_pack().version
    page = client.get("/packs").text
    assert "未登记" in page and "上线为生产" in page
    promoted = client.post_form(f"/packs/{quote(trial)}/promote", {})
    assert promoted.status_code == 303 and promoted.headers["location"] == "/packs"
    assert _statuses(console) == {trial: PackStatus.LIVE}
    assert client.post_form(f"/packs/{quote(shipped)}/shadow", {}).status_code == 303
    assert _statuses(console) == {trial: PackStatus.LIVE, shipped: PackStatus.SHADOW}
    listed = client.get("/packs").text
    assert 'class="badge pack-live"' in listed and 'class="badge pack-shadow"' in listed
    assert "由user:supervisor上线" in listed
    assert client.post_form("/packs/shadow/stop", {}).status_code == 303
    assert _statuses(console) == {trial: PackStatus.LIVE, shipped: PackStatus.REGISTERED}
    with console.uow() as uow:
        trail = [(r.actor, r.action) for r in uow.audit.tail(4)]
    assert trail == [
        ("user:supervisor", "promote_rule_pack"),
        ("user:supervisor", "register_rule_pack"),
        ("user:supervisor", "set_shadow_rule_pack"),
        ("user:supervisor", "set_shadow_rule_pack"),
    ]


def test_promoting_needs_the_right_and_the_csrf_token(
    as_user: AsUser, console: Console, region: Region
) -> None:
    path = f"/packs/{quote(region.shadow_version)}/promote"
    analyst = as_user("analyst1")
    assert "上线为生产" not in analyst.get("/packs").text
    assert analyst.post_form(path, {}).status_code == 403
    assert as_user("supervisor").post(path).status_code == 403
    assert as_user("supervisor").post_form("/packs/2099.1:nothing/promote", {}).status_code == 404
    assert _statuses(console) == {}


def test_a_version_only_in_the_registry_is_listed_shown_and_compared(
    as_user: AsUser, console: Console
) -> None:
    text = trial_pack_text().replace('version: "2025.1-trial"', 'version: "2025.2"')
    with console.uow() as uow:
        record = register_pack(uow, Actor.operator("test"), text.encode(), name="upload.yaml")
    client = as_user("supervisor")
    assert record.version in client.get("/packs").text
    assert "命中条件" in client.get(f"/packs/{quote(record.version)}").text
    diff = client.get(
        f"/packs/diff?before={quote(default_pack().version)}&after={quote(record.version)}"
    )
    assert diff.status_code == 200 and "policy.thresholds.block" in diff.text
