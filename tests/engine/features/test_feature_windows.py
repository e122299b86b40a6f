"""Window aggregates by hand: edges, ties, each measure, each entity, online and bulk."""

from __future__ import annotations

from datetime import timedelta

from feature_streams import T0, Run, directory_of, tx

from fundwall.engine.features import AccountDirectory

NOBODY = AccountDirectory.empty()
MIN = 60.0
HOUR = 3600.0
DAY = 86_400.0


def test_an_event_exactly_one_window_ago_is_inside_and_one_microsecond_more_is_outside(
    features: Run,
) -> None:
    events = [
        tx(0, "A", "B", 100),
        tx(1e-6, "A", "B", 200),
        tx(10 * MIN, "A", "C", 1),
        tx(10 * MIN + 1e-6, "A", "C", 1),
    ]
    rows = features(events, NOBODY)
    # At 10m: the events at 0 and 1µs are both within [t - 10m, t).
    assert rows[2]["payer_out_count_10m"] == 2
    assert rows[2]["payer_out_sum_10m"] == 300
    # At 10m + 1µs: the event at 0 is 1µs too old; 1µs and 10m remain.
    assert rows[3]["payer_out_count_10m"] == 2
    assert rows[3]["payer_out_sum_10m"] == 201
    assert rows[3]["payer_out_count_1h"] == 3


def test_the_current_transaction_is_not_in_its_own_windows_but_earlier_ties_are(
    features: Run,
) -> None:
    events = [tx(5, "A", "B", 10), tx(5, "A", "B", 20), tx(5, "A", "C", 30)]
    rows = features(events, NOBODY)
    assert [r["payer_out_count_10m"] for r in rows] == [0, 1, 2]
    assert [r["payer_out_sum_1h"] for r in rows] == [0, 10, 30]
    assert [r["payer_out_distinct_24h"] for r in rows] == [0, 1, 1]


def test_each_window_length(features: Run) -> None:
    """An event seen exactly W later is inside W and every longer window, and outside the
    shorter ones."""
    ages = {"10m": 10 * MIN, "1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
    for position, (window, age) in enumerate(ages.items()):
        rows = features([tx(0, "A", "B", 7), tx(age, "A", "B", 1)], NOBODY)
        counts = {w: rows[1][f"payer_out_count_{w}"] for w in ages}
        assert counts == {w: int(i >= position) for i, w in enumerate(ages)}, window


def test_max_follows_the_window_as_large_amounts_leave(features: Run) -> None:
    events = [
        tx(0, "A", "B", 900),
        tx(30 * MIN, "A", "B", 500),
        tx(50 * MIN, "A", "B", 700),
        tx(61 * MIN, "A", "B", 1),
        tx(85 * MIN, "A", "B", 1),
        tx(3 * HOUR, "A", "B", 1),
    ]
    rows = features(events, NOBODY)
    assert [r["payer_out_max_1h"] for r in rows] == [0, 900, 900, 700, 700, 0]
    assert [r["payer_out_max_10m"] for r in rows] == [0, 0, 0, 0, 0, 0]
    assert rows[5]["payer_out_max_24h"] == 900


def test_distinct_payees_count_each_payee_once_and_forget_it_when_it_leaves(
    features: Run,
) -> None:
    events = [
        tx(0, "A", "B", 1),
        tx(1, "A", "C", 1),
        tx(2, "A", "B", 1),
        tx(3, "A", None, 1),  # a withdrawal: money out, no payee to count
        tx(11 * MIN + 1.5, "A", "D", 1),
        tx(12 * MIN + 2.5, "A", "D", 1),
    ]
    rows = features(events, NOBODY)
    assert [r["payer_out_distinct_10m"] for r in rows] == [0, 1, 2, 2, 0, 1]
    assert [r["payer_out_count_10m"] for r in rows] == [0, 1, 2, 3, 0, 1]
    assert rows[5]["payer_out_distinct_1h"] == 3


def test_fan_in_and_the_receiving_accounts_own_outflows(features: Run) -> None:
    events = [
        tx(0, "V1", "M", 5_000),
        tx(60, "V2", "M", 7_000),
        tx(120, "V1", "M", 1_000),
        tx(180, "M", "N", 12_000),
        tx(240, "V3", "M", 2_000),
    ]
    rows = features(events, NOBODY)
    last = rows[4]
    assert last["payee_in_count_10m"] == 3
    assert last["payee_in_sum_10m"] == 13_000
    assert last["payee_in_distinct_10m"] == 2
    assert last["payee_out_count_10m"] == 1
    assert last["payee_out_sum_10m"] == 12_000
    # M paying N: money that came into the paying account first (快进快出).
    assert rows[3]["payer_in_count_1h"] == 3
    assert rows[3]["payer_in_sum_1h"] == 13_000


def test_deposits_count_as_inflows_and_withdrawals_as_outflows(features: Run) -> None:
    events = [tx(0, None, "A", 300), tx(10, "A", None, 100), tx(20, "A", "B", 50)]
    rows = features(events, NOBODY)
    assert rows[2]["payer_in_sum_1h"] == 300
    assert rows[2]["payer_out_sum_1h"] == 100
    assert rows[2]["payer_out_distinct_1h"] == 0
    assert rows[0]["payer_out_count_1h"] == 0  # a deposit has no payer


def test_device_and_ip_velocity_with_distinct_paying_accounts(features: Run) -> None:
    events = [
        tx(0, "A", "X", 1, device="D", ip="1.1.1.1"),
        tx(10, "B", "X", 1, device="D", ip="1.1.1.1"),
        tx(20, "A", "X", 1, device="D", ip="2.2.2.2"),
        tx(30, None, "X", 1, device="D"),
        tx(40, "C", "X", 1, device="D", ip="1.1.1.1"),
        tx(50, "C", "X", 1),
    ]
    rows = features(events, NOBODY)
    assert [r["device_count_1h"] for r in rows] == [0, 1, 2, 3, 4, 0]
    assert [r["device_distinct_1h"] for r in rows] == [0, 1, 2, 2, 2, 0]
    assert [r["ip_count_1h"] for r in rows] == [0, 1, 0, 0, 2, 0]
    assert [r["ip_distinct_1h"] for r in rows] == [0, 1, 0, 0, 2, 0]


def test_person_outflows_add_up_every_account_of_the_payers_party(features: Run) -> None:
    opened = T0 - timedelta(days=10)
    directory = directory_of(
        [
            ("A1", "301", "P", "I", opened, 0),
            ("A2", "302", "P", "II", opened, 0),
            ("B1", "301", "Q", "I", opened, 0),
        ],
        [("P", None, None), ("Q", None, None)],
    )
    events = [
        tx(0, "A1", "X", 100),
        tx(10, "A2", "X", 200),
        tx(20, "B1", "X", 400),
        tx(30, "A1", "Y", 1),
        tx(40, "EXT", "Y", 1),
    ]
    rows = features(events, directory)
    assert [r["person_out_count_1h"] for r in rows] == [0, 1, 0, 2, 0]
    assert [r["person_out_sum_1h"] for r in rows] == [0, 100, 0, 300, 0]
