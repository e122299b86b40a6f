"""The engine's side of the rule-pack registry on SQLite and PostgreSQL: on first use the
shipped pack is registered and promoted, once, so the engine always has a live pack."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fundwall.domain.errors import NotFound
from fundwall.engine import registry
from fundwall.engine.registry import (
    ENGINE_ACTOR,
    PackStatus,
    ensure_live,
    get_pack,
    pack_records,
)
from fundwall.engine.revisions import latest_revisions
from fundwall.engine.rules import default_pack
from fundwall.store import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def test_the_default_pack_goes_live_once(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert latest_revisions(uow.session).packs == 0
        live, shadow = ensure_live(uow)
    with uow_factory() as uow:
        again, _ = ensure_live(uow)
        (record,) = pack_records(uow.session)
        trail = [(r.actor, r.action) for r in uow.audit.tail(5)]
        revision = latest_revisions(uow.session).packs
        stored = get_pack(uow.session, record.version)
    assert live.version == again.version == stored.version == default_pack().version
    assert shadow is None
    assert (record.status, record.registered_by) == (PackStatus.LIVE, ENGINE_ACTOR)
    assert trail == [(ENGINE_ACTOR, "register_rule_pack"), (ENGINE_ACTOR, "promote_rule_pack")]
    assert revision == 2


def test_an_unknown_version_is_not_found(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(NotFound, match="rule pack version not found"):
        get_pack(uow.session, "nosuch:1")


def test_two_processes_starting_together_share_one_registration(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other process registers and promotes the pack after this one looked and found no
    # live pack and no registration: this one's insert collides with it, and it takes theirs.
    with uow_factory() as uow:
        theirs, _ = ensure_live(uow)
    looked = iter([(None, None)])
    real_running = registry.running_packs
    monkeypatch.setattr(
        registry, "running_packs", lambda session: next(looked, None) or real_running(session)
    )
    monkeypatch.setattr(registry, "row_of_digest", lambda session, digest: None)
    with uow_factory() as uow:
        ours, _ = ensure_live(uow)
    with uow_factory() as uow:
        (record,) = pack_records(uow.session)
        trail = [r.action for r in uow.audit.tail(5)]
    assert ours.version == theirs.version == record.version
    assert trail == ["register_rule_pack", "promote_rule_pack"]
