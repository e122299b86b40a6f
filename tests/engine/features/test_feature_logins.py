"""Login features (断卡 signs) and ratios by hand, online and bulk."""

from __future__ import annotations

import pytest
from feature_streams import Run, login, tx

from fundwall.engine.features import AccountDirectory

NOBODY = AccountDirectory.empty()
HOUR = 3600.0
DAY = 24 * HOUR
US = 1e-6
LOGINS = (
    "payer_takeover_hours",
    "payer_new_device_login_hours",
    "payer_face_fail_7d",
    "payee_takeover_hours",
    "payee_new_device_login_hours",
    "payee_face_fail_7d",
)


def logins_of(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(row[name] for name in LOGINS)


def test_without_logins_every_login_feature_reads_none(features: Run) -> None:
    rows = features([tx(0, "A", "B", 100), tx(1, None, "B", 100), tx(2, "A", None, 100)], NOBODY)
    assert [logins_of(r) for r in rows] == [(-1, -1, 0, -1, -1, 0)] * 3


def test_hours_since_the_receiving_account_was_taken_over_from_a_new_device(
    features: Run,
) -> None:
    logins = [
        login(0, "B", "OWNER"),
        login(10 * HOUR, "B", "OWNER"),  # a known device: nothing new
        login(20 * HOUR, "B", "GANG"),  # a new device: taken over
        login(21 * HOUR, "B", "GANG"),  # the gang's device again: not new any more
    ]
    rows = features(
        [tx(5 * HOUR, "A", "B", 1), tx(22 * HOUR + 59 * 60, "A", "B", 1)], NOBODY, logins
    )
    # The account's first device is its owner's: no change of hands.
    assert rows[0]["payee_takeover_hours"] == rows[0]["payee_new_device_login_hours"] == -1
    assert rows[1]["payee_takeover_hours"] == rows[1]["payee_new_device_login_hours"] == 2
    assert rows[1]["payer_takeover_hours"] == -1


def test_a_failed_face_check_is_a_takeover_sign_from_a_known_device(features: Run) -> None:
    logins = [
        login(0, "B", "OWNER"),
        login(30 * HOUR, "B", "OWNER", "mismatch"),
        login(31 * HOUR, "B", None, "failed"),
        login(32 * HOUR, "B", "OWNER", "passed"),
    ]
    (row,) = features([tx(33 * HOUR, "A", "B", 1)], NOBODY, logins)
    assert row["payee_takeover_hours"] == 2  # the failed check at 31h, without a device
    assert row["payee_new_device_login_hours"] == -1
    assert row["payee_face_fail_7d"] == 2


def test_a_device_the_account_paid_from_before_is_not_new(features: Run) -> None:
    events = [
        tx(0, "B", "C", 1, device="PHONE"),
        tx(3 * HOUR, "A", "B", 1),
        tx(3 * HOUR, "A", "C", 1),
    ]
    logins = [
        login(HOUR, "B", "PHONE"),
        login(HOUR / 2, "C", "HOME"),
        login(2 * HOUR, "C", "PHONE"),
    ]
    rows = features(events, NOBODY, logins)
    assert rows[1]["payee_new_device_login_hours"] == -1  # B paid from PHONE at 0h
    assert rows[1]["payer_new_device_login_hours"] == -1  # A never logged in
    # C only received a transfer made on PHONE: receiving does not show the device.
    assert rows[2]["payee_new_device_login_hours"] == 1


def test_events_at_the_same_microsecond_do_not_make_each_other_old(features: Run) -> None:
    # B pays from PHONE in the very µs it logs in from PHONE: the login still shows a new
    # device. Two logins in one µs from one device are both new.
    events = [tx(HOUR, "B", "C", 1, device="PHONE"), tx(2 * HOUR, "A", "B", 1)]
    logins = [
        login(0, "B", "HOME"),
        login(HOUR, "B", "PHONE"),
        login(HOUR, "B", "PHONE", login_id="again"),
    ]
    rows = features(events, NOBODY, logins)
    assert rows[1]["payee_new_device_login_hours"] == 1


def test_a_login_at_the_transactions_microsecond_counts_as_before_it(features: Run) -> None:
    logins = [login(HOUR, "A", "NEW", "failed"), login(HOUR + US, "A", "LATER", "failed")]
    (row,) = features([tx(HOUR, "A", "B", 1)], NOBODY, logins)
    assert row["payer_takeover_hours"] == 0
    assert row["payer_face_fail_7d"] == 1  # the login a µs later is not seen yet


def test_failed_face_checks_count_over_seven_days_edge_included(features: Run) -> None:
    logins = [
        login(0, "A", "P", "failed"),
        login(US, "A", "P", "mismatch"),
        login(HOUR, "A", "P", "passed"),
        login(2 * HOUR, "A", "P", "not_done"),
    ]
    rows = features([tx(7 * DAY, "A", "B", 1), tx(7 * DAY + US, "A", "B", 1)], NOBODY, logins)
    assert [r["payer_face_fail_7d"] for r in rows] == [2, 1]
    # The latest failed check, a µs after the first: 7 days less a µs, then 7 days whole.
    assert [r["payer_takeover_hours"] for r in rows] == [7 * 24 - 1, 7 * 24]


def test_logins_long_gone_still_say_when_the_account_was_taken_over(features: Run) -> None:
    """Logins older than the longest window are summed up online; the hours still count."""
    logins = [login(0, "B", "OLD"), login(HOUR, "B", "NEW"), login(DAY, "B", "NEW", "failed")]
    logins += [login(DAY + i * HOUR, "B", "NEW", "passed") for i in range(1, 40)]
    events = [tx(20 * DAY + i * DAY, "A", "B", 1) for i in range(3)]
    rows = features(events, NOBODY, logins)
    assert [r["payee_takeover_hours"] for r in rows] == [19 * 24, 20 * 24, 21 * 24]
    assert [r["payee_new_device_login_hours"] for r in rows] == [
        20 * 24 - 1,
        21 * 24 - 1,
        22 * 24 - 1,
    ]
    assert {r["payee_face_fail_7d"] for r in rows} == {0}


def test_ratios_against_the_accounts_own_history(features: Run) -> None:
    events = [
        tx(0, "A", "B", 400),
        tx(HOUR, "A", "B", 100),
        tx(2 * HOUR, "X", "A", 1_000),
        tx(3 * HOUR, "A", "B", 800),  # twice A's largest, 80% of what it just received
        tx(4 * HOUR, None, "C", 50),  # a deposit: no payer history to compare with
    ]
    rows = features(events, NOBODY)
    last_transfer, deposit = rows[3], rows[4]
    assert last_transfer["amount_to_payer_max_30d"] == 2.0
    assert last_transfer["amount_to_payer_in_24h"] == 0.8
    assert last_transfer["payer_out_count_1h_to_24h"] == 0.0
    assert last_transfer["payer_out_sum_24h_to_30d"] == 1.0
    assert last_transfer["payee_in_count_1h_to_24h"] == 0.0
    assert last_transfer["payee_out_to_in_24h"] == 0.0
    assert rows[1]["payer_out_count_1h_to_24h"] == 1.0  # the one earlier transfer, an hour ago
    assert rows[0]["amount_to_payer_max_30d"] == -1.0  # no history: -1, never inf or NaN
    assert deposit["amount_to_payer_max_30d"] == deposit["amount_to_payer_in_24h"] == -1.0
    assert deposit["payee_in_count_1h_to_24h"] == -1.0


@pytest.mark.parametrize("face", ["failed", "mismatch"])
def test_only_failed_and_mismatched_checks_count_as_failed(features: Run, face: str) -> None:
    logins = [login(0, "A", "P", face), login(1, "A", "P", "passed"), login(2, "A", "P")]
    (row,) = features([tx(HOUR, "A", "B", 1)], NOBODY, logins)
    assert row["payer_face_fail_7d"] == 1
