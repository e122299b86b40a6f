"""The online state: compute/apply contract, snapshots, input errors, the feature vector."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pytest
from feature_streams import login, random_directory, run_bulk, run_online, tx

from fundwall.domain.errors import InvalidInput
from fundwall.engine.features import OnlineFeatureState, feature_names
from fundwall.engine.features.catalog import LOGIN_HORIZON_US, Stream

DIRECTORY = random_directory()
HISTORY = [
    tx(i * 97.0, f"A{i % 6}", f"A{(i * 5 + 1) % 7}" if i % 9 else None, 10 + i, device=f"D{i % 3}")
    for i in range(400)
]
LOGINS = [
    login(i * 97.0 * 5 - 30, f"A{i % 7}", f"D{i % 5}", ("passed", "failed", "mismatch")[i % 3])
    for i in range(80)
]
"""A login every five transactions, on devices old and new, with failed face checks."""
HORIZON_S = LOGIN_HORIZON_US / 1e6


def test_compute_does_not_fold_the_transaction_in() -> None:
    state = OnlineFeatureState(DIRECTORY)
    for event in HISTORY[:50]:
        state.apply(event)
    first = state.compute(HISTORY[50])
    assert state.compute(HISTORY[50]) == first
    assert state.applied == 50


def test_observe_is_compute_then_apply() -> None:
    one, two = OnlineFeatureState(DIRECTORY), OnlineFeatureState(DIRECTORY)
    for event in HISTORY[:100]:
        vector = one.compute(event)
        one.apply(event)
        assert two.observe(event) == vector


def test_a_restored_snapshot_continues_exactly_like_the_original() -> None:
    state = OnlineFeatureState(DIRECTORY)
    for event in HISTORY[:250]:
        state.observe(event)
    restored = OnlineFeatureState.restore(state.snapshot(), DIRECTORY)
    assert restored.applied == 250
    assert restored.entities(Stream.DEVICE) == state.entities(Stream.DEVICE) == 3
    for event in HISTORY[250:]:
        assert restored.observe(event) == state.observe(event)


def test_a_restored_snapshot_continues_exactly_with_logins() -> None:
    """The logins, the devices the accounts paid from and what was summed up survive."""
    state = OnlineFeatureState(DIRECTORY)
    logins = iter(LOGINS)
    pending = next(logins)
    for event in HISTORY[:250]:
        while pending is not None and pending.ts <= event.ts:
            state.observe_login(pending)
            pending = next(logins, None)
        state.observe(event)
    restored = OnlineFeatureState.restore(state.snapshot(), DIRECTORY)
    assert (restored.logins, restored.logins_dropped) == (state.logins, state.logins_dropped)
    rest = [each for each in LOGINS if each.ts > HISTORY[249].ts]
    for each in rest:
        restored.observe_login(each)
        state.observe_login(each)
    for event in HISTORY[250:]:
        assert restored.observe(event) == state.observe(event)
    # Equal states, equal snapshots, byte for byte.
    assert restored.snapshot() == state.snapshot()


def test_a_login_sent_twice_counts_once() -> None:
    twice = OnlineFeatureState(DIRECTORY)
    once = OnlineFeatureState(DIRECTORY)
    failed = login(0, "A1", "D9", "failed")
    for each in (failed, failed):
        twice.observe_login(each)
    once.observe_login(failed)
    assert twice.logins == once.logins == 1
    assert twice.observe(HISTORY[1]) == once.observe(HISTORY[1])


def test_a_login_older_than_the_longest_window_is_refused() -> None:
    state = OnlineFeatureState(DIRECTORY)
    state.apply(tx(HORIZON_S + 10, "A1", "A2", 1))
    state.observe_login(login(10, "A1", "D1"))  # exactly at the horizon: still counted
    stale = login(10 - 1e-6, "A1", "D1", login_id="stale")
    with pytest.raises(InvalidInput, match="7 days before") as caught:
        state.observe_login(stale)
    assert (caught.value.field, caught.value.record) == ("ts", "stale")
    assert state.logins == 1


@dataclass(frozen=True)
class PlainLogin:
    """A login as another system may hand it over: plain strings, checked by nobody yet."""

    event_id: str
    account_no: str
    ts: datetime
    device_id: str | None
    face_check: str


def test_a_login_with_an_unknown_face_check_is_refused() -> None:
    odd = PlainLogin("L1", "A1", login(0, "A1").ts, "D1", "blurry")
    with pytest.raises(InvalidInput) as caught:
        OnlineFeatureState(DIRECTORY).observe_login(odd)
    assert (caught.value.field, caught.value.record) == ("face_check", "L1")


def test_an_account_keeps_only_the_logins_of_its_longest_window() -> None:
    """A year of daily logins: the online state keeps about a week of them per account and
    still agrees with the bulk pass."""
    logins = [login(day * 86_400.0, "A1", f"D{day % 9}", "failed") for day in range(365)]
    events = [tx(day * 86_400.0 + 1, "A1", "A2", 1) for day in range(0, 365, 30)]
    state = OnlineFeatureState(DIRECTORY)
    run = run_online(events, DIRECTORY, logins)
    assert run == run_bulk(events, DIRECTORY, logins)
    for each in logins:
        state.observe_login(each)
        state.apply(tx((each.ts - logins[0].ts).total_seconds() + 1, "A1", "A2", 1))
    history = state._account("A1").logins  # type: ignore[union-attr]
    assert history is not None and len(history.ts) <= 8
    assert state.logins == 365 and state.logins_dropped == 365 - len(history.ts)


def test_snapshot_of_a_fresh_state_restores_to_a_fresh_state() -> None:
    restored = OnlineFeatureState.restore(OnlineFeatureState(DIRECTORY).snapshot(), DIRECTORY)
    assert [restored.observe(e).values for e in HISTORY[:30]] == [
        list(row.values()) for row in run_online(HISTORY[:30], DIRECTORY)
    ]


def test_garbage_is_not_a_snapshot() -> None:
    with pytest.raises(InvalidInput, match="not a feature state snapshot"):
        OnlineFeatureState.restore(b"\x00garbage", DIRECTORY)


def test_a_transaction_from_the_past_is_refused() -> None:
    state = OnlineFeatureState(DIRECTORY)
    state.apply(HISTORY[10])
    with pytest.raises(InvalidInput) as caught:
        state.compute(HISTORY[9])
    assert (caught.value.field, caught.value.record) == ("ts", HISTORY[9].tx_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": 1.5}, "amount_fen"),
        ({"kind": "refund"}, "kind"),
        ({"kind": "deposit"}, "payer_account"),
        ({"kind": "withdrawal"}, "payee_account"),
        ({"payer_account": None}, "payer_account"),
    ],
)
def test_bad_transactions_name_the_field(change: dict[str, object], field: str) -> None:
    bad = replace(HISTORY[1], **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        OnlineFeatureState(DIRECTORY).observe(bad)
    assert caught.value.field == field
    assert caught.value.record == HISTORY[1].tx_id


def test_naive_timestamps_are_refused() -> None:
    naive = replace(HISTORY[0], ts=HISTORY[0].ts.replace(tzinfo=None))
    with pytest.raises(InvalidInput, match="time zone"):
        OnlineFeatureState(DIRECTORY).observe(naive)


def test_a_feature_vector_reads_by_position_and_by_name() -> None:
    vector = OnlineFeatureState(DIRECTORY).observe(HISTORY[0])
    assert len(vector) == len(feature_names())
    assert vector[0] == vector.get("amount") == HISTORY[0].amount_fen
    assert list(vector) == vector.values
    assert list(vector.as_dict()) == list(feature_names())
    assert vector[:3] == vector.values[:3]


def _kept_texts(state: OnlineFeatureState) -> list[str]:
    """Every text the state keeps as a key or an entry: accounts, tracks and their
    counterparts, what accounts have seen, devices and their payers, login devices."""
    texts: list[str] = [key for tracks in state._tracks for key in tracks if isinstance(key, str)]
    texts += [party for tracks in state._tracks for t in tracks.values() for party in t.latest]
    for account_no, account in state._accounts.items():
        texts.append(account_no)
        texts += account.seen
        if account.logins is not None:
            texts += [device for device in account.logins.devices if device is not None]
            texts += account.logins.first
    for device, payers in state._device_payers.items():
        texts += [device, *payers]
    return texts


@pytest.mark.parametrize("in_batches", [False, True])
def test_the_state_keeps_one_object_per_text(in_batches: bool) -> None:
    """Each transaction brings its own string objects (as one read from a request does);
    the state keeps one object per distinct text however many places keep it, one by one
    and in batches alike."""

    def fresh(text: str) -> str:
        return "".join(list(text))  # equal, never the same object

    events = [
        replace(
            event,
            payer_account=None if event.payer_account is None else fresh(event.payer_account),
            payee_account=None if event.payee_account is None else fresh(event.payee_account),
            device_id=None if event.device_id is None else fresh(event.device_id),
        )
        for event in HISTORY
    ]
    state = OnlineFeatureState(DIRECTORY)
    for each in LOGINS[:20]:
        state.observe_login(replace(each, device_id=fresh(each.device_id or "D9")))
    if in_batches:
        for start in range(0, len(events), 37):
            state.observe_many(events[start : start + 37])
    else:
        for event in events:
            state.observe(event)
    texts = _kept_texts(state)
    objects: dict[str, set[int]] = {}
    for text in texts:
        objects.setdefault(text, set()).add(id(text))
    assert len(texts) > 3 * len(objects)  # texts kept in many places
    assert {text: ids for text, ids in objects.items() if len(ids) > 1} == {}
