"""The console's views of rule packs on SQLite and PostgreSQL, over the two-bank world of
tests/auth/world.py: shadow against live, decisions per version, the library, one pack and
a diff, stored backtests; each refused to actors without the right to view rule packs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auth import world  # tests/auth/world.py
from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.crypto import Keyring
from fundwall.domain.decisions import Action
from fundwall.domain.errors import NotFound, PermissionDenied
from fundwall.engine.registry import PackStatus, shipped_content
from fundwall.engine.rules import default_pack, parse_pack
from fundwall.rulepacks.backtests import side_by_side, stored_backtests
from fundwall.rulepacks.library import PackLibrary
from fundwall.rulepacks.registry import promote, register_pack
from fundwall.rulepacks.shadow import compare_shadow, disagreements
from fundwall.rulepacks.views import pack_diff, pack_library, pack_of, pack_use
from fundwall.store import UnitOfWork

Uow = Callable[[], UnitOfWork]
HUB = Actor(ActorKind.USER, "hub", Role.HUB_SUPERVISOR, None, 99)
ANN = Actor(ActorKind.USER, "ann", Role.MEMBER_ANALYST, world.BANK_A, 1)
BOB = Actor(ActorKind.USER, "bob", Role.MEMBER_ANALYST, world.BANK_B, 2)
POLICE = Actor(ActorKind.USER, "officer", Role.POLICE_OFFICER, None, 3)
KEY = Actor(ActorKind.API_KEY, "k1", Role.MEMBER_SYSTEM, world.BANK_A)


@pytest.fixture
def stocked(uow_factory: Uow, keyring: Keyring) -> Uow:
    with uow_factory() as uow:
        world.build(uow, keyring)
    return uow_factory


def test_shadow_against_live_counts_agreements_and_lists_differences(stocked: Uow) -> None:
    with stocked() as uow:
        region = compare_shadow(uow, HUB, world.SHADOW_PACK)
        mine = compare_shadow(uow, ANN, world.SHADOW_PACK)
        apart = disagreements(uow, ANN, world.SHADOW_PACK)
        hidden = disagreements(uow, HUB, world.SHADOW_PACK)
        use = pack_use(uow, HUB)
        use_b = pack_use(uow, BOB)
    assert region.matrix == {(Action.BLOCK, Action.BLOCK): 1, (Action.ALERT, Action.WARN): 1}
    assert region.agreeing() == 1 and region.blocked_fen("live") == region.blocked_fen("shadow")
    assert mine.transactions == 2
    assert [(d.tx_id, d.live, d.shadow) for d in apart] == [("T2", Action.ALERT, Action.WARN)]
    assert hidden == []
    assert (use[world.LIVE_PACK].live, use[world.SHADOW_PACK].shadow) == (5, 2)
    assert world.SHADOW_PACK not in use_b and use_b[world.LIVE_PACK].live == 3


def test_the_library_lists_files_and_registered_versions_live_first(
    uow_factory: Uow, tmp_path: Path
) -> None:
    trial = shipped_content().replace(b'version: "2025.1"', b'version: "2025.7"')
    (tmp_path / "trial.yaml").write_bytes(trial)
    (tmp_path / "broken.yaml").write_text("pack: [", encoding="utf-8")
    library = PackLibrary(tmp_path)
    upload = shipped_content().replace(b'version: "2025.1"', b'version: "2025.8"')
    with uow_factory() as uow:
        uploaded = register_pack(uow, HUB, upload, name="upload.yaml")
        promote(uow, HUB, uploaded.version)
    with uow_factory() as uow:
        entries, problems = pack_library(uow, ANN, library)
        shown = pack_of(uow, ANN, library, uploaded.version)
        diff = pack_diff(uow, ANN, library, default_pack().version, uploaded.version)
        with pytest.raises(NotFound):
            pack_of(uow, ANN, library, "nosuch:1")
    assert [(e.pack.version, e.status, e.shipped) for e in entries] == [
        (uploaded.version, PackStatus.LIVE, False),
        (default_pack().version, None, True),
        (parse_pack(trial, "trial.yaml").version, None, False),
    ]
    assert entries[2].file is not None and entries[2].file.path == tmp_path / "trial.yaml"
    assert len(problems) == 1 and "broken.yaml" in str(problems[0])
    assert shown.version == uploaded.version
    assert diff.after_version == uploaded.version and not diff.changed


def _views(
    uow: UnitOfWork, actor: Actor, library: PackLibrary, folder: Path
) -> list[Callable[[], object]]:
    """Every view of rule packs, asked by `actor`."""
    version = default_pack().version
    return [
        lambda: pack_library(uow, actor, library),
        lambda: pack_of(uow, actor, library, version),
        lambda: pack_diff(uow, actor, library, version, version),
        lambda: pack_use(uow, actor),
        lambda: compare_shadow(uow, actor, world.SHADOW_PACK),
        lambda: disagreements(uow, actor, world.SHADOW_PACK),
        lambda: stored_backtests(actor, folder),
        lambda: side_by_side(actor, folder, "small7", version, version),
    ]


def test_viewing_rule_packs_needs_the_right(stocked: Uow, tmp_path: Path) -> None:
    for actor in (POLICE, KEY):
        with stocked() as uow:
            for view in _views(uow, actor, PackLibrary(None), tmp_path):
                with pytest.raises(PermissionDenied, match="view_rule_packs"):
                    view()
