"""An "as of" moment a client names is zoned, not before 2000 and not after now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fundwall.domain.errors import InvalidInput
from fundwall.domain.moments import EARLIEST, past_moment

NOW = datetime(2024, 6, 1, 8, tzinfo=UTC)


def test_a_zoned_past_moment_is_kept_in_utc_and_none_is_now() -> None:
    beijing = datetime(2024, 5, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert past_moment(beijing, NOW) == datetime(2024, 5, 1, tzinfo=UTC)
    assert past_moment(beijing, NOW).tzinfo is UTC
    assert past_moment(None, NOW) == NOW
    assert past_moment(EARLIEST, NOW) == EARLIEST


@pytest.mark.parametrize(
    ("moment", "why"),
    [
        (datetime(2024, 5, 1), "UTC offset"),
        (NOW + timedelta(seconds=1), "earlier moment"),
        (datetime(1970, 1, 1, tzinfo=UTC), "no records before 2000-01-01"),
    ],
)
def test_a_moment_that_cannot_be_meant_is_refused_naming_the_field(
    moment: datetime, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why) as refused:
        past_moment(moment, NOW, "since")
    assert refused.value.field == "since"
