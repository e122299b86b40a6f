"""The engine's state as plain values, to compare a restarted or rebuilt state with one that
never stopped: dicts compare whatever order their entries arrived in, and a difference reads
as values, not as bytes of a snapshot."""

from __future__ import annotations

from fundwall.engine.core import DecisionCore
from fundwall.engine.features import OnlineFeatureState
from fundwall.engine.features.logins import LoginHistory
from fundwall.engine.features.online_singles import AccountState
from fundwall.engine.features.tracks import Track


def _track(track: Track) -> tuple[object, ...]:
    return (
        track.ts.tolist(),
        list(track.cum),
        track.base,
        list(track.head),
        None if track.flags is None else bytes(track.flags),
        dict(track.latest),
        None if track.stack is None else list(track.stack),
    )


def _logins(history: LoginHistory | None) -> tuple[object, ...] | None:
    if history is None:
        return None
    return (
        list(history.ts), list(history.ids), list(history.devices), bytes(history.bad),
        dict(history.first), history.since, list(history.older),
    )  # fmt: skip


def _account(account: AccountState) -> tuple[object, ...]:
    return (
        account.balance, account.last_ts, dict(account.seen), account.device_since,
        _logins(account.logins),
    )  # fmt: skip


def windows(state: OnlineFeatureState) -> list[dict[object, tuple[object, ...]]]:
    """Each stream's tracks (the windows' raw arrays), by entity."""
    return [{key: _track(track) for key, track in tracks.items()} for tracks in state._tracks]


def feature_values(state: OnlineFeatureState) -> dict[str, object]:
    """Clock, counts, accounts (with their logins) and devices; not the windows (`windows`)."""
    return {
        "clock": state.clock,
        "applied": state.applied,
        "logins": (state.logins, state.logins_dropped),
        "accounts": {no: _account(account) for no, account in state._accounts.items()},
        "devices": {device: set(payers) for device, payers in state._device_payers.items()},
    }


def engine_values(core: DecisionCore, *, with_windows: bool = True) -> dict[str, object]:
    """Everything the core holds that a snapshot keeps. It takes a snapshot first, which folds
    the logins past the horizon as every snapshot does, so states compare as their snapshots
    would."""
    core.snapshot()
    values = feature_values(core.features)
    if with_windows:
        values["windows"] = windows(core.features)
    controls = core.controls
    values["ledger"] = {
        account: controls.ledger_entry(account) for account in controls.ledger_accounts()
    }
    values["clock_us"] = core.clock_us
    values["clock_ts"] = core._clock_ts
    return values
