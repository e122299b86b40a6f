"""The model registry's use cases on SQLite and PostgreSQL: who may register and promote,
the audit records, one champion and one shadow model per target, rollbacks, and the checks
that keep a hand-edited or foreign model out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import update

from fundwall.auth.actor import Actor, ActorKind
from fundwall.auth.roles import Role
from fundwall.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fundwall.engine.model_registry import ModelState, running_models
from fundwall.engine.models.artifact import (
    CARD_FILE,
    MAX_MODEL_BYTES,
    MODEL_FILE,
    Target,
    write_model,
)
from fundwall.engine.revisions import latest_revisions
from fundwall.models.registry import (
    get_model,
    list_models,
    model_history,
    register_model,
    set_state,
)
from fundwall.models.views import compare_models, feature_words
from fundwall.store import UnitOfWork
from fundwall.store.model_tables import ModelRow

from .factory import make_model

UowFactory = Callable[[], UnitOfWork]
SUPERVISOR = Actor(ActorKind.USER, "supervisor", Role.HUB_SUPERVISOR, None, 1)
ANALYST = Actor(ActorKind.USER, "analyst", Role.MEMBER_ANALYST, "B001", 2)
ADMIN = Actor(ActorKind.USER, "admin", Role.MEMBER_ADMIN, "B001", 3)
AUDITOR = Actor(ActorKind.USER, "auditor", Role.AUDITOR, None, 4)
POLICE = Actor(ActorKind.USER, "police", Role.POLICE_OFFICER, "PSB1", 5)

FIRST = make_model()
SECOND = make_model(("amount", "hour", "is_night"))
ACCOUNTS = make_model(("in_count_7d", "out_share_24h"), Target.ACCOUNTS)


def register(uow_factory: UowFactory, *models: object) -> list[str]:
    versions = []
    for model in models or (FIRST, SECOND):
        with uow_factory() as uow:
            versions.append(register_model(uow, SUPERVISOR, model).version)  # type: ignore[arg-type]
    return versions


def move(uow_factory: UowFactory, version: str, state: ModelState, reason: str = "") -> None:
    with uow_factory() as uow:
        set_state(uow, SUPERVISOR, version, state, reason)


def states(uow_factory: UowFactory) -> dict[str, ModelState]:
    with uow_factory() as uow:
        return {record.version: record.state for record in list_models(uow, SUPERVISOR)}


def test_register_checks_stores_and_audits_once(uow_factory: UowFactory, tmp_path: Path) -> None:
    folder = write_model(tmp_path / "model", FIRST)
    with uow_factory() as uow:
        record = register_model(uow, SUPERVISOR, folder)
    with uow_factory() as uow:
        again = register_model(uow, SUPERVISOR, FIRST)
        trail = uow.audit.tail(5)
        _, stored = get_model(uow, SUPERVISOR, FIRST.version)
    assert again == record
    assert (record.version, record.target, record.state) == (
        FIRST.version,
        Target.TRANSACTIONS,
        ModelState.REGISTERED,
    )
    assert (record.rows, record.positives, record.features) == (
        FIRST.card.rows,
        FIRST.card.positives,
        ("amount", "hour"),
    )
    assert record.holdout_pr_auc == FIRST.card.metrics["holdout"]["pr_auc"]
    assert record.sha256 == hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()
    assert stored == FIRST
    assert [(r.actor, r.action, r.subject) for r in trail] == [
        ("user:supervisor", "register_model", f"model:{FIRST.version}")
    ]
    assert trail[0].details["sha256"] == record.sha256
    with uow_factory() as uow:
        history = model_history(uow, ANALYST, FIRST.version)
    assert [(e.state, e.previous, e.by) for e in history] == [
        (ModelState.REGISTERED, None, "user:supervisor")
    ]


def test_an_analyst_and_an_auditor_view_only_and_a_member_admin_cannot_promote(
    uow_factory: UowFactory,
) -> None:
    (version,) = register(uow_factory, FIRST)
    for viewer in (ANALYST, ADMIN, AUDITOR):
        with uow_factory() as uow:
            assert [r.version for r in list_models(uow, viewer)] == [version]
            assert get_model(uow, viewer, version)[1] == FIRST
    for refused in (ANALYST, ADMIN, AUDITOR, POLICE):
        with uow_factory() as uow:
            with pytest.raises(PermissionDenied, match="promote_models"):
                set_state(uow, refused, version, ModelState.CHAMPION)
            with pytest.raises(PermissionDenied, match="promote_models"):
                register_model(uow, refused, SECOND)
    with uow_factory() as uow, pytest.raises(PermissionDenied, match="view_models"):
        list_models(uow, POLICE)
    assert states(uow_factory) == {version: ModelState.REGISTERED}


def test_one_champion_per_target_and_promoting_a_retired_one_rolls_back(
    uow_factory: UowFactory,
) -> None:
    first, second, accounts = register(uow_factory, FIRST, SECOND, ACCOUNTS)
    move(uow_factory, first, ModelState.CHAMPION, "first trained")
    move(uow_factory, accounts, ModelState.CHAMPION)
    move(uow_factory, second, ModelState.CHAMPION, "better held-out PR-AUC")
    assert states(uow_factory) == {
        first: ModelState.RETIRED,
        second: ModelState.CHAMPION,
        accounts: ModelState.CHAMPION,
    }
    with uow_factory() as uow:
        trail = uow.audit.tail(1)[0]
        assert running_models(uow.session, Target.TRANSACTIONS) == {ModelState.CHAMPION: SECOND}
        assert running_models(uow.session, Target.ACCOUNTS) == {ModelState.CHAMPION: ACCOUNTS}
    assert (trail.action, trail.subject, trail.details) == (
        "set_model_state",
        f"model:{second}",
        {
            "target": "transactions",
            "state": "champion",
            "was": "registered",
            "displaced": first,
            "reason": "better held-out PR-AUC",
        },
    )
    move(uow_factory, first, ModelState.CHAMPION, "rollback")
    assert states(uow_factory)[second] is ModelState.RETIRED
    with uow_factory() as uow:
        assert running_models(uow.session, Target.TRANSACTIONS) == {ModelState.CHAMPION: FIRST}
        history = model_history(uow, SUPERVISOR, first)
        listed = list_models(uow, SUPERVISOR, Target.TRANSACTIONS)
    assert [(e.previous, e.state, e.reason) for e in history] == [
        (None, ModelState.REGISTERED, ""),
        (ModelState.REGISTERED, ModelState.CHAMPION, "first trained"),
        (ModelState.CHAMPION, ModelState.RETIRED, "better held-out PR-AUC"),
        (ModelState.RETIRED, ModelState.CHAMPION, "rollback"),
    ]
    assert [(r.version, r.state, r.changed_by) for r in listed] == [
        (first, ModelState.CHAMPION, "user:supervisor"),
        (second, ModelState.RETIRED, "user:supervisor"),
    ]


def test_one_shadow_model_per_target_beside_the_champion(uow_factory: UowFactory) -> None:
    third = make_model(("amount", "is_night"))
    first, second, other = register(uow_factory, FIRST, SECOND, third)
    move(uow_factory, first, ModelState.CHAMPION)
    move(uow_factory, second, ModelState.SHADOW)
    move(uow_factory, other, ModelState.SHADOW)
    assert states(uow_factory) == {
        first: ModelState.CHAMPION,
        second: ModelState.REGISTERED,
        other: ModelState.SHADOW,
    }
    move(uow_factory, second, ModelState.CHALLENGER)
    with uow_factory() as uow:
        running = running_models(uow.session, Target.TRANSACTIONS)
        assert running == {ModelState.CHAMPION: FIRST, ModelState.SHADOW: third}
        with pytest.raises(Conflict, match="is the champion"):
            set_state(uow, SUPERVISOR, first, ModelState.SHADOW)
        with pytest.raises(Conflict, match="is shadow already"):
            set_state(uow, SUPERVISOR, other, ModelState.SHADOW)
    move(uow_factory, first, ModelState.RETIRED, "precision fell")
    with uow_factory() as uow:
        assert running_models(uow.session, Target.TRANSACTIONS) == {ModelState.SHADOW: third}


def test_two_changes_at_once_never_leave_two_champions(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = register(uow_factory)
    move(uow_factory, first, ModelState.CHAMPION)
    # The second change read the target's models before the first one committed.
    monkeypatch.setattr("fundwall.models.registry._holder", lambda *_: None)
    with uow_factory() as uow, pytest.raises(Conflict, match="changed at the same time"):
        set_state(uow, SUPERVISOR, second, ModelState.CHAMPION)
    assert states(uow_factory) == {first: ModelState.CHAMPION, second: ModelState.REGISTERED}
    with uow_factory() as uow:
        assert uow.audit.tail(1)[0].details["state"] == "champion"  # the first change's
        assert uow.audit.tail(1)[0].subject == f"model:{first}"


def test_each_change_moves_the_revision_the_engine_reads(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert latest_revisions(uow.session).models == 0
    first, second = register(uow_factory)
    with uow_factory() as uow:
        registered = latest_revisions(uow.session).models
        assert registered == uow.audit.tail(1)[0].seq
    move(uow_factory, first, ModelState.CHAMPION)
    move(uow_factory, second, ModelState.CHAMPION)
    with uow_factory() as uow:
        promoted = latest_revisions(uow.session).models
        revisions = {row.version: row.revision for row in uow.session.query(ModelRow)}
        assert promoted == uow.audit.tail(1)[0].seq > registered
    assert revisions == {first: promoted, second: promoted}  # the retired one changed too


def test_a_card_edited_by_hand_is_refused(uow_factory: UowFactory, tmp_path: Path) -> None:
    folder = write_model(tmp_path / "model", FIRST)
    card = json.loads((folder / CARD_FILE).read_text("utf-8"))
    card["metrics"]["holdout"]["pr_auc"] = 0.99
    (folder / CARD_FILE).write_text(json.dumps(card), "utf-8")
    with uow_factory() as uow, pytest.raises(InvalidInput, match="the card says version") as error:
        register_model(uow, SUPERVISOR, folder)
    assert error.value.field == "version"
    assert states(uow_factory) == {}


def test_a_model_file_that_is_not_lightgbm_or_too_large_is_refused(
    uow_factory: UowFactory, tmp_path: Path
) -> None:
    folder = write_model(tmp_path / "model", FIRST)
    (folder / MODEL_FILE).write_text("import pickle\n", "utf-8")
    with uow_factory() as uow, pytest.raises(InvalidInput, match="not a LightGBM model") as foreign:
        register_model(uow, SUPERVISOR, folder)
    padded = FIRST.text + "\n" * MAX_MODEL_BYTES
    with uow_factory() as uow, pytest.raises(InvalidInput, match="larger than 64 MiB") as large:
        register_model(uow, SUPERVISOR, type(FIRST)(padded, FIRST.card))
    assert foreign.value.field == large.value.field == MODEL_FILE
    with uow_factory() as uow, pytest.raises(NotFound, match="model folder not found"):
        register_model(uow, SUPERVISOR, tmp_path / "missing")
    assert states(uow_factory) == {}


def test_a_stored_model_altered_in_the_database_is_refused(uow_factory: UowFactory) -> None:
    (version,) = register(uow_factory, FIRST)
    with uow_factory() as uow:
        altered = FIRST.text.replace("Tree=0\n", "Tree=0\n\n", 1)
        uow.session.execute(update(ModelRow).values(text=altered))
        uow.commit()
    with uow_factory() as uow, pytest.raises(InvalidInput, match="its content is") as error:
        get_model(uow, ANALYST, version)
    assert error.value.record == f"stored model {version}"


def test_unknown_versions_and_bad_reasons(uow_factory: UowFactory) -> None:
    (version,) = register(uow_factory, FIRST)
    with uow_factory() as uow:
        with pytest.raises(NotFound, match="model version not found: tx-000000000000"):
            set_state(uow, SUPERVISOR, "tx-000000000000", ModelState.CHAMPION)
        with pytest.raises(NotFound):
            get_model(uow, ANALYST, "tx-000000000000")
        with pytest.raises(InvalidInput, match="at most 500 characters"):
            set_state(uow, SUPERVISOR, version, ModelState.CHAMPION, "x" * 501)
        with pytest.raises(InvalidInput, match="phone number"):
            set_state(uow, SUPERVISOR, version, ModelState.CHAMPION, "asked by 13812345678")
    assert states(uow_factory) == {version: ModelState.REGISTERED}


def test_models_of_a_target_side_by_side(uow_factory: UowFactory) -> None:
    third = make_model(("hour", "is_night"))
    first, second, other, accounts = register(uow_factory, FIRST, SECOND, third, ACCOUNTS)
    with uow_factory() as uow:
        compared = compare_models(uow, ANALYST, [first, second, other, first])
        with pytest.raises(InvalidInput, match="different targets"):
            compare_models(uow, ANALYST, [first, accounts])
        with pytest.raises(InvalidInput, match="choose 2 to 6"):
            compare_models(uow, ANALYST, [first, first])
        with pytest.raises(NotFound):
            compare_models(uow, ANALYST, [first, "tx-000000000000"])
    assert compared.target is Target.TRANSACTIONS
    assert [(c.record.version, c.added, c.removed) for c in compared.models] == [
        (first, (), ()),
        (second, ("is_night",), ()),
        (other, ("is_night",), ("amount",)),
    ]
    assert compared.figures == ("pr_auc", "rows", "positives")
    assert [c.figure("pr_auc") for c in compared.models] == [
        model.card.metrics["holdout"]["pr_auc"] for model in (FIRST, SECOND, third)
    ]


def test_features_in_words_for_transaction_models_and_by_name_for_account_models() -> None:
    words = feature_words(FIRST.card)
    assert [(w.name, w.words("zh"), w.words("en")) for w in words] == [
        ("amount", "交易金额", "Amount of the transaction"),
        ("hour", words[1].zh, words[1].en),
    ]
    assert words[1].zh and words[1].en
    assert [(w.name, w.zh, w.en) for w in feature_words(ACCOUNTS.card)] == [
        ("in_count_7d", None, None),
        ("out_share_24h", None, None),
    ]
