"""Whatever arrives, the doors of the domain answer with InvalidInput, never another error."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.domain._fields import ip_address
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import AccountNumber, CreditCode, MobilePhone, ResidentId
from fundwall.domain.regions import parse_region_code
from fundwall.domain.transactions import COLUMNS, Transaction

offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)
values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.datetimes(),
    st.datetimes(timezones=offsets),
    st.lists(st.integers(), max_size=2),
)
keys = st.sampled_from([*COLUMNS, "amount", "other"])


def _only_invalid_input(call: Callable[[], object]) -> None:
    try:
        call()
    except InvalidInput:
        return


@pytest.mark.parametrize(
    "parse",
    [
        ResidentId.parse,
        CreditCode.parse,
        MobilePhone.parse,
        AccountNumber.parse,
        parse_region_code,
    ],
)
@settings(max_examples=50)
@given(text=st.one_of(st.text(), st.from_regex(r"[0-9xX+ -]{0,25}", fullmatch=True)))
def test_identity_parsers_raise_only_invalid_input(
    parse: Callable[[str], object], text: str
) -> None:
    _only_invalid_input(lambda: parse(text))


@given(st.dictionaries(keys, values, max_size=len(COLUMNS) + 2))
def test_transaction_from_mapping_raises_only_invalid_input(record: dict[str, object]) -> None:
    _only_invalid_input(lambda: Transaction.from_mapping(record))


@given(
    ts=st.one_of(st.datetimes(timezones=offsets), st.text(max_size=40)),
    amount_fen=values,
)
def test_nearly_valid_transactions_raise_only_invalid_input(ts: object, amount_fen: object) -> None:
    record = {
        "tx_id": "T1",
        "ts": ts,
        "kind": "transfer",
        "payer_account": "A1",
        "payee_account": "A2",
        "payer_bank": "B1",
        "payee_bank": "B2",
        "amount_fen": amount_fen,
        "channel": "mobile",
    }
    _only_invalid_input(lambda: Transaction.from_mapping(record))


def test_time_at_the_edge_of_the_calendar_is_refused_cleanly() -> None:
    edge = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))
    with pytest.raises(InvalidInput) as caught:
        Transaction.from_mapping(
            {
                "tx_id": "T1",
                "ts": edge,
                "kind": "deposit",
                "payee_account": "A2",
                "payee_bank": "B2",
                "amount_fen": 1,
                "channel": "counter",
            }
        )
    assert caught.value.field == "ts"


@given(
    st.one_of(
        st.ip_addresses(v=4).map(str),
        st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){2,4}", fullmatch=True),
        st.text(alphabet="0123456789.:abcdef \n", max_size=20),
    )
)
def test_ip_addresses_are_spelt_as_the_standard_library_spells_them(text: str) -> None:
    """The shortcut for addresses already in canonical IPv4 spelling changes nothing."""
    try:
        expected: str | None = str(ipaddress.ip_address(text))
    except ValueError:
        expected = None
    try:
        got: str | None = ip_address(text, "ip")
    except InvalidInput:
        got = None
    assert got == expected
