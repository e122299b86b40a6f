"""The rule-pack registry's use cases on SQLite and PostgreSQL: registering, promoting and
shadowing are audited, checked, refused to actors without the right, and reflected in what
the engine runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import ROLE_PERMISSIONS, Permission, Role
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.engine.registry import PackStatus, running_packs, shipped_content
from fundwall.engine.rules import RulePackError, default_pack
from fundwall.rulepacks.library import PackLibrary
from fundwall.rulepacks.registry import list_packs, promote, register_pack, set_shadow
from fundwall.store import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
SUPERVISOR = Actor(ActorKind.USER, "supervisor", Role.HUB_SUPERVISOR, None, 1)
RULES = len(default_pack().active)


def pack_text(version: str) -> bytes:
    """The shipped pack declared as `version`: another pack version with the same rules."""
    shipped = shipped_content()
    assert b'version: "2025.1"' in shipped
    return shipped.replace(b'version: "2025.1"', f'version: "{version}"'.encode())


def register(uow_factory: UowFactory, declared: str) -> str:
    with uow_factory() as uow:
        return register_pack(uow, SUPERVISOR, pack_text(declared), name=f"{declared}.yaml").version


def statuses(uow_factory: UowFactory) -> dict[str, PackStatus]:
    with uow_factory() as uow:
        return {r.version: r.status for r in list_packs(uow, SUPERVISOR)}


def test_register_validates_stores_and_audits_once(uow_factory: UowFactory, tmp_path: Path) -> None:
    path = tmp_path / "test.yaml"
    path.write_bytes(pack_text("2025.7"))
    with uow_factory() as uow:
        record = register_pack(uow, SUPERVISOR, path)
    with uow_factory() as uow:
        again = register_pack(uow, SUPERVISOR, pack_text("2025.7"), name="copy.yaml")
        audit = uow.audit.tail(5)
    assert again == record
    assert (record.status, record.rules, record.source) == (
        PackStatus.REGISTERED,
        RULES,
        str(path),
    )
    assert [(r.actor, r.action, r.subject) for r in audit] == [
        ("user:supervisor", "register_rule_pack", f"rule_pack:{record.version}")
    ]
    assert audit[0].details["digest"] == record.digest


def test_a_bad_pack_is_refused_with_its_problems(uow_factory: UowFactory, tmp_path: Path) -> None:
    broken = pack_text("2025.7").replace(b"payer_in_sum_1h >=", b"payer_in_sum_1hour >=", 1)
    with uow_factory() as uow, pytest.raises(RulePackError, match=r"bad\.yaml:.*1hour"):
        register_pack(uow, SUPERVISOR, broken, name="bad.yaml")
    with uow_factory() as uow, pytest.raises(InvalidInput, match="cannot read rule pack"):
        register_pack(uow, SUPERVISOR, tmp_path / "missing.yaml")
    assert statuses(uow_factory) == {}


def test_promotion_retires_the_previous_live_pack_and_is_audited(
    uow_factory: UowFactory,
) -> None:
    first, second = register(uow_factory, "2025.7"), register(uow_factory, "2025.8")
    for version in (first, second):
        with uow_factory() as uow:
            promote(uow, SUPERVISOR, version)
    with uow_factory() as uow:
        records = uow.audit.tail(2)
        live, shadow = running_packs(uow.session)
    assert statuses(uow_factory) == {first: PackStatus.RETIRED, second: PackStatus.LIVE}
    assert [(r.action, r.subject, r.details) for r in records] == [
        ("promote_rule_pack", f"rule_pack:{first}", {"previous": None, "was": "registered"}),
        ("promote_rule_pack", f"rule_pack:{second}", {"previous": first, "was": "registered"}),
    ]
    assert (live.version if live else None, shadow) == (second, None)
    with uow_factory() as uow:
        promote(uow, SUPERVISOR, first)  # a rollback
        assert running_packs(uow.session)[0].version == first  # type: ignore[union-attr]


def test_shadow_runs_beside_live_and_can_be_stopped(uow_factory: UowFactory) -> None:
    first, second = register(uow_factory, "2025.7"), register(uow_factory, "2025.8")
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
    assert statuses(uow_factory)[second] is PackStatus.REGISTERED


def test_unknown_versions_and_repeated_promotion(uow_factory: UowFactory) -> None:
    version = register(uow_factory, "2025.7")
    with uow_factory() as uow:
        promote(uow, SUPERVISOR, version)
    with uow_factory() as uow:
        with pytest.raises(Conflict, match="live already"):
            promote(uow, SUPERVISOR, version)
        with pytest.raises(NotFound, match=r"rule pack version not found: nosuch:1"):
            promote(uow, SUPERVISOR, "nosuch:1")
        with pytest.raises(NotFound, match=r"rule pack version not found: nosuch:1"):
            set_shadow(uow, SUPERVISOR, "nosuch:1", PackLibrary(None))


def test_a_file_of_the_library_is_registered_in_the_same_transaction_as_its_promotion(
    uow_factory: UowFactory, tmp_path: Path
) -> None:
    (tmp_path / "trial.yaml").write_bytes(pack_text("2025.7"))
    library = PackLibrary(tmp_path)
    trial = next(f.pack.version for f in library.packs() if f.path is not None)
    with uow_factory() as uow:
        promote(uow, SUPERVISOR, trial, library)
        set_shadow(uow, SUPERVISOR, default_pack().version, library)
        trail = [(r.action, r.details.get("source")) for r in uow.audit.tail(4)]
    assert statuses(uow_factory) == {
        trial: PackStatus.LIVE,
        default_pack().version: PackStatus.SHADOW,
    }
    assert trail == [
        ("register_rule_pack", str(tmp_path / "trial.yaml")),
        ("promote_rule_pack", None),
        ("register_rule_pack", "fundwall/engine/rules/packs/default.yaml"),
        ("set_shadow_rule_pack", None),
    ]


def test_only_actors_with_the_right_change_the_registry(uow_factory: UowFactory) -> None:
    version = register(uow_factory, "2025.7")
    without = [r for r in Role if Permission.PROMOTE_RULE_PACKS not in ROLE_PERMISSIONS[r]]
    assert Role.MEMBER_ADMIN in without and Role.AUDITOR in without
    for role in without:
        actor = Actor(ActorKind.USER, "someone", role, "301" if role.needs_member else None, 9)
        with uow_factory() as uow:
            with pytest.raises(PermissionDenied, match="promote_rule_packs"):
                register_pack(uow, actor, pack_text("2025.8"), name="mine.yaml")
            with pytest.raises(PermissionDenied, match="promote_rule_packs"):
                promote(uow, actor, version)
            with pytest.raises(PermissionDenied, match="promote_rule_packs"):
                set_shadow(uow, actor, version)
            assert [r.action for r in uow.audit.tail(2)] == ["register_rule_pack"]
    assert statuses(uow_factory) == {version: PackStatus.REGISTERED}


def test_listing_needs_the_right_to_view_packs(uow_factory: UowFactory) -> None:
    police = Actor(ActorKind.USER, "officer", Role.POLICE_OFFICER, None, 9)
    with uow_factory() as uow, pytest.raises(PermissionDenied, match="view_rule_packs"):
        list_packs(uow, police)
