"""Settings the suite's platforms share, where a production default would only make the tests
wait."""

from __future__ import annotations

from typing import Final

TEST_PORTAL: Final = {"answer_floor_ms": 20}
"""The portal answers its identity forms no sooner than this in tests: long enough for the
floor to be measured, short enough that signing in often costs the suite little."""
