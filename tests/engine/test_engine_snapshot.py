"""A snapshot of the decision core restored into a new core decides what follows exactly as
the core that never stopped, over random streams of transactions and logins, control books
and limits."""

from __future__ import annotations

import json
import struct
from datetime import timedelta

import pytest
from engine_fixtures import directory, tx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_values import engine_values
from test_engine_controls_parity import DEVICES, NUMBERS, books, policies, streams

from fundwall.config import PolicySettings
from fundwall.domain.devices import FaceCheck, LoginEvent
from fundwall.domain.errors import InvalidInput
from fundwall.engine.controls import ControlBook
from fundwall.engine.core import DecisionCore
from fundwall.engine.features import OnlineFeatureState, TxEvent, online_snapshot
from fundwall.engine.rules import default_pack

Item = TxEvent | LoginEvent


@st.composite
def logins_among(draw: st.DrawFn, events: list[TxEvent]) -> list[Item]:
    """The transactions with logins of their accounts in between, some near a transaction's
    time, some days before it (which the core may refuse as past its horizon)."""
    items: list[Item] = list(events)
    for i in range(draw(st.integers(0, 12))):
        anchor = draw(st.sampled_from(events)).ts
        moment = anchor + timedelta(seconds=draw(st.integers(-9 * 86_400, 3_600)))
        login = LoginEvent(
            f"login{i}",
            draw(st.sampled_from(NUMBERS)),
            moment,
            draw(st.sampled_from([*DEVICES, "DV9"])),
            None,
            None,
            draw(st.sampled_from(list(FaceCheck))),
        )
        items.insert(draw(st.integers(0, len(items))), login)
    return items


def step(core: DecisionCore, item: Item) -> object:
    """What the core answers to one item: a decision without its latency, or a login folded
    or refused."""
    if isinstance(item, LoginEvent):
        try:
            core.observe_login(item)
        except InvalidInput as error:
            return str(error)
        return "login folded"
    decision = core.decide(item).decision
    return decision.tx_id, decision.action, decision.score, decision.reasons


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), books(), policies())
def test_a_restored_core_decides_the_rest_as_the_core_that_never_stopped(
    data: st.DataObject, control_book: ControlBook, policy: PolicySettings
) -> None:
    items = data.draw(streams().flatmap(logins_among))
    cut = data.draw(st.integers(0, len(items)))
    pack = default_pack()
    whole = DecisionCore(directory(), control_book, policy, pack)
    expected = [step(whole, item) for item in items]

    first = DecisionCore(directory(), control_book, policy, pack)
    for item in items[:cut]:
        step(first, item)
    saved = first.snapshot()
    restored = DecisionCore(directory(), control_book, policy, pack)
    restored.restore(saved)
    assert restored.snapshot() == saved  # equal states, equal bytes
    assert [step(restored, item) for item in items[cut:]] == expected[cut:]
    assert engine_values(restored) == engine_values(whole)


def test_a_snapshot_of_another_features_version_is_refused_and_leaves_the_state(
    policy: PolicySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = DecisionCore(directory(), ControlBook(), policy, default_pack())
    with monkeypatch.context() as patch:
        patch.setattr(online_snapshot, "VERSION", 99)
        future = core.snapshot()
    before = core.snapshot()
    with pytest.raises(InvalidInput, match="features version 99, which this version does not"):
        core.restore(future)
    assert core.snapshot() == before
    with pytest.raises(InvalidInput, match="not a feature state snapshot"):
        OnlineFeatureState.restore(b"FWSNAP\r\n\x04\x00\x00\x00{}", directory())


def test_a_damaged_snapshot_is_refused_as_not_a_snapshot(policy: PolicySettings) -> None:
    core = DecisionCore(directory(), ControlBook(), policy, default_pack())
    saved = core.snapshot()
    for damaged in (saved[: len(saved) // 2], b"", saved[:8] + b"\xff" * 40):
        with pytest.raises(InvalidInput, match="not an engine snapshot"):
            core.restore(damaged)


def test_a_snapshot_whose_counts_do_not_add_up_is_refused(policy: PolicySettings) -> None:
    """A column of per-entity counts that does not match the values it cuts (here: one more
    event for the first payer's track than its times hold) is no snapshot to read."""
    core = DecisionCore(directory(), ControlBook(), policy, default_pack())
    core.decide(tx(1, "A1", "B1", 500))
    saved = bytearray(core.snapshot())
    (length,) = struct.unpack_from("<I", saved, 8)
    header = json.loads(saved[12 : 12 + length])
    start = 12 + length + (-(12 + length) % 8)
    (offset, _), *_ = header["columns"]["features.s0.events"][2]
    struct.pack_into(
        "<q", saved, start + offset, struct.unpack_from("<q", saved, start + offset)[0] + 1
    )
    before = core.snapshot()
    with pytest.raises(
        InvalidInput, match=r"not an engine snapshot .*s0\.ts holds 1 values, not 2"
    ):
        core.restore(bytes(saved))
    assert core.snapshot() == before
