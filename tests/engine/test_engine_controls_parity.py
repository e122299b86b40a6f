"""The online and the bulk execution of the hard controls (and of the whole decision) agree
on random streams over random control books and limits."""

from __future__ import annotations

from datetime import timedelta

from engine_fixtures import (
    ACCOUNTS,
    ID_HASH,
    SHARED_ID,
    SHARED_PHONE,
    T0,
    book,
    run_bulk,
    run_online,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundwall.config import PolicySettings
from fundwall.domain.accounts import AccountStatus
from fundwall.engine.controls import (
    ControlBook,
    Evidence,
    Listing,
    ListKind,
    Restriction,
    RestrictionKind,
    RiskCategory,
    RiskEntry,
)
from fundwall.engine.controls.model import NEVER_US
from fundwall.engine.features import TxEvent
from fundwall.engine.features.inputs import micros

NUMBERS = [a[0] for a in ACCOUNTS] + ["EXT"]
DEVICES = [None, "DV1", "DV2"]
IPS = [None, "10.0.0.1", "10.0.0.2"]
SPAN_US = 3 * 24 * 3600 * 1_000_000
START_US = micros(T0, "t")

_moments = st.integers(START_US - 3600 * 1_000_000, START_US + SPAN_US)
_ends = st.one_of(st.just(NEVER_US), _moments)


@st.composite
def books(draw: st.DrawFn) -> ControlBook:
    statuses = {
        number: draw(st.sampled_from([AccountStatus.NORMAL] * 6 + list(AccountStatus)))
        for number in NUMBERS
    }
    control_book = book(statuses)
    for i in range(draw(st.integers(0, 4))):
        control_book.put_restriction(
            Restriction(
                i,
                draw(st.sampled_from(NUMBERS)),
                draw(st.sampled_from(list(RestrictionKind))),
                None,
                draw(_moments),
                draw(_ends),
            )
        )
        restriction = control_book.all_restrictions()[-1]
        if restriction.kind is not RestrictionKind.NON_COUNTER_SUSPENSION and draw(st.booleans()):
            control_book.put_restriction(
                Restriction(
                    i,
                    restriction.account_no,
                    restriction.kind,
                    draw(st.integers(1, 3_000_00)),
                    restriction.start_us,
                    restriction.end_us,
                )
            )
    keys = {
        ListKind.ACCOUNT: NUMBERS,
        ListKind.DEVICE: [d for d in DEVICES if d],
        ListKind.IP: [a for a in IPS if a],
        ListKind.ID_HASH: [key for keys in SHARED_ID.values() for key in keys],
        ListKind.PHONE_HASH: [key for keys in SHARED_PHONE.values() for key in keys],
        # The same strings as the ID hashes: an entry of another kind must not match them.
        ListKind.CREDIT_CODE_HASH: [key for keys in SHARED_ID.values() for key in keys],
        ListKind.MERCHANT: ["M-0001"],
    }
    for i in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(list(ListKind)))
        control_book.put_entry(
            RiskEntry(
                i,
                kind,
                draw(st.sampled_from(keys[kind])),
                draw(st.sampled_from(list(RiskCategory))),
                Evidence.MEMBER_VERIFIED,
                "301",
                draw(_moments),
                draw(_ends),
            )
        )
    for i in range(draw(st.integers(0, 2))):
        control_book.put_listing(
            Listing(i, draw(st.sampled_from(list(ID_HASH.values()))), draw(_moments), draw(_ends))
        )
    return control_book


@st.composite
def policies(draw: st.DrawFn) -> PolicySettings:
    def pair() -> tuple[int, int]:
        daily = draw(st.integers(1, 5_000_00))
        return daily, draw(st.integers(daily, 3 * daily))

    c2_out, c2_in, c3_out = pair(), pair(), pair()
    return PolicySettings(
        class_ii_outflow_daily_limit_fen=c2_out[0],
        class_ii_outflow_yearly_limit_fen=c2_out[1],
        class_ii_inflow_daily_limit_fen=c2_in[0],
        class_ii_inflow_yearly_limit_fen=c2_in[1],
        class_iii_outflow_daily_limit_fen=c3_out[0],
        class_iii_outflow_yearly_limit_fen=c3_out[1],
        class_iii_balance_cap_fen=draw(st.integers(1, 20_000_00)),
    )


# Steps mostly forward (some across midnight in Beijing), sometimes back: a late stamp is
# decided as of the latest time in both executions.
_steps = st.one_of(
    st.integers(0, 3 * 3600 * 1_000_000),
    st.sampled_from([0, 1, 15 * 3600 * 1_000_000, 24 * 3600 * 1_000_000]),
    st.integers(-600 * 1_000_000, 0),
)


@st.composite
def streams(draw: st.DrawFn) -> list[TxEvent]:
    now = T0
    events = []
    for i in range(draw(st.integers(1, 40))):
        now += timedelta(microseconds=draw(_steps))
        kind = draw(st.sampled_from(["transfer", "transfer", "transfer", "withdrawal", "deposit"]))
        payer = None if kind == "deposit" else draw(st.sampled_from(NUMBERS))
        payee = None
        if kind != "withdrawal":
            payee = draw(st.sampled_from([n for n in NUMBERS if n != payer]))
        events.append(
            TxEvent(
                tx_id=f"p{i}",
                ts=now,
                kind=kind,
                payer_account=payer,
                payee_account=payee,
                payer_bank=None if payer is None else "301",
                payee_bank=None if payee is None else "302",
                amount_fen=draw(st.one_of(st.integers(1, 3_000_00), st.just(777_00))),
                channel=draw(st.sampled_from(["counter", "atm", "mobile", "online", "pos"])),
                device_id=draw(st.sampled_from(DEVICES)),
                ip=draw(st.sampled_from(IPS)),
                city=None,
            )
        )
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), books(), policies())
def test_online_and_bulk_decide_alike(
    events: list[TxEvent], control_book: ControlBook, policy: PolicySettings
) -> None:
    assert run_online(events, control_book, policy) == run_bulk(events, control_book, policy)
