"""The four answers of a registration history (`fundwall.phones.registry.judge`)."""

from __future__ import annotations

from datetime import UTC, datetime

from fundwall.phones.registry import PhoneResult, Registration, judge

T1 = datetime(2020, 1, 1, tzinfo=UTC)
T2 = datetime(2022, 1, 1, tzinfo=UTC)
T3 = datetime(2023, 6, 1, tzinfo=UTC)


def test_a_number_registered_to_the_person_now_matches() -> None:
    history = [Registration("someone", T1, T2), Registration("me", T3, None)]
    assert judge(history, "me") == (PhoneResult.MATCH, None)


def test_a_number_the_person_gave_up_is_recycled_with_when() -> None:
    history = [Registration("me", T1, T2), Registration("someone", T3, None)]
    assert judge(history, "me") == (PhoneResult.RECYCLED, T2)
    given_up_and_idle = [Registration("me", T1, T2), Registration("me", T2, T3)]
    assert judge(given_up_and_idle, "me") == (PhoneResult.RECYCLED, T3)


def test_a_number_someone_else_holds_is_a_mismatch() -> None:
    assert judge([Registration("someone", T1, None)], "me") == (PhoneResult.MISMATCH, None)


def test_a_number_nobody_holds_is_not_found() -> None:
    assert judge([], "me") == (PhoneResult.NOT_FOUND, None)
    assert judge([Registration("someone", T1, T2)], "me") == (PhoneResult.NOT_FOUND, None)
