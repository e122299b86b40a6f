"""The rule-pack registry on SQLite and PostgreSQL: registering, promoting and shadowing are
audited, checked and reflected in what the engine runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from engine_fixtures import STRICTER_PACK, TEST_PACK

from fundwall.domain.errors import Conflict, NotFound
from fundwall.engine.registry import (
    ENGINE_ACTOR,
    PackStatus,
    ensure_live,
    get_pack,
    list_packs,
    promote,
    register_pack,
    running_packs,
    set_shadow,
)
from fundwall.engine.rules import RulePackError, default_pack
from fundwall.store import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
SUPERVISOR = "user:supervisor"


def register(uow_factory: UowFactory, content: bytes, name: str) -> str:
    with uow_factory() as uow:
        return register_pack(uow, SUPERVISOR, content, name=name).version


def test_register_validates_stores_and_audits_once(uow_factory: UowFactory, tmp_path: Path) -> None:
    path = tmp_path / "test.yaml"
    path.write_bytes(TEST_PACK)
    with uow_factory() as uow:
        record = register_pack(uow, SUPERVISOR, path)
    with uow_factory() as uow:
        again = register_pack(uow, SUPERVISOR, TEST_PACK, name="copy.yaml")
        audit = uow.audit.tail(5)
        pack = get_pack(uow.session, record.version)
    assert again == record
    assert (record.status, record.rules, record.source) == (PackStatus.REGISTERED, 2, str(path))
    assert [(r.actor, r.action, r.subject) for r in audit] == [
        (SUPERVISOR, "register_rule_pack", f"rule_pack:{record.version}")
    ]
    assert audit[0].details["digest"] == record.digest == pack.digest
    assert pack.version == record.version


def test_a_bad_pack_is_refused_with_its_problems(uow_factory: UowFactory) -> None:
    broken = TEST_PACK.replace(b"when: amount == 777_00", b"when: amout == 777_00")
    with uow_factory() as uow, pytest.raises(RulePackError, match=r"bad\.yaml:.*amout"):
        register_pack(uow, SUPERVISOR, broken, name="bad.yaml")
    with uow_factory() as uow:
        assert list_packs(uow.session) == []


def test_promotion_retires_the_previous_live_pack_and_is_audited(
    uow_factory: UowFactory,
) -> None:
    first = register(uow_factory, TEST_PACK, "test.yaml")
    second = register(uow_factory, STRICTER_PACK, "stricter.yaml")
    for version in (first, second):
        with uow_factory() as uow:
            promote(uow, SUPERVISOR, version)
    with uow_factory() as uow:
        statuses = {r.version: r.status for r in list_packs(uow.session)}
        records = uow.audit.tail(2)
        live, shadow = running_packs(uow.session)
    assert statuses == {first: PackStatus.RETIRED, second: PackStatus.LIVE}
    assert [(r.action, r.subject, r.details) for r in records] == [
        ("promote_rule_pack", f"rule_pack:{first}", {"previous": None, "was": "registered"}),
        ("promote_rule_pack", f"rule_pack:{second}", {"previous": first, "was": "registered"}),
    ]
    assert (live.version if live else None, shadow) == (second, None)
    with uow_factory() as uow:
        promote(uow, SUPERVISOR, first)  # a rollback
        assert running_packs(uow.session)[0].version == first  # type: ignore[union-attr]


def test_shadow_runs_beside_live_and_can_be_stopped(uow_factory: UowFactory) -> None:
    first = register(uow_factory, TEST_PACK, "test.yaml")
    second = register(uow_factory, STRICTER_PACK, "stricter.yaml")
    with uow_factory() as uow:
        promote(uow, SUPERVISOR, first)
    with uow_factory() as uow:
        record = set_shadow(uow, SUPERVISOR, second)
    assert record is not None and record.status is PackStatus.SHADOW
    with uow_factory() as uow:
        live, shadow = running_packs(uow.session)
        assert (live.version, shadow.version) == (first, second)  # type: ignore[union-attr]
        with pytest.raises(Conflict, match="is live"):
            set_shadow(uow, SUPERVISOR, first)
    with uow_factory() as uow:
        assert set_shadow(uow, SUPERVISOR, None) is None
        assert running_packs(uow.session)[1] is None
        assert uow.audit.tail(1)[0].details == {"previous": second}
        statuses = {r.version: r.status for r in list_packs(uow.session)}
    assert statuses[second] is PackStatus.REGISTERED


def test_unknown_versions_and_repeated_promotion(uow_factory: UowFactory) -> None:
    version = register(uow_factory, TEST_PACK, "test.yaml")
    with uow_factory() as uow:
        promote(uow, SUPERVISOR, version)
    with uow_factory() as uow:
        with pytest.raises(Conflict, match="live already"):
            promote(uow, SUPERVISOR, version)
        with pytest.raises(NotFound, match=r"rule pack version not found: nosuch:1"):
            promote(uow, SUPERVISOR, "nosuch:1")
        with pytest.raises(NotFound):
            get_pack(uow.session, "nosuch:1")


def test_the_default_pack_goes_live_once(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        live, shadow = ensure_live(uow)
    with uow_factory() as uow:
        again, _ = ensure_live(uow)
        (record,) = list_packs(uow.session)
    assert live.version == again.version == default_pack().version and shadow is None
    assert (record.status, record.registered_by) == (PackStatus.LIVE, ENGINE_ACTOR)
