"""A child process's own peak memory and time, and its failures."""

from __future__ import annotations

import pytest

from fundwall.bench.child import run_python

# bytearray's zeroed pages count only once written, so every page is written.
_ALLOCATE = """
import sys
block = bytearray(int(sys.argv[1]) * 2**20)
block[::4096] = b"x" * len(block[::4096])
print("done")
"""


def test_the_peak_is_the_childs_own() -> None:
    big = run_python(_ALLOCATE, "300", timeout=60)
    small = run_python(_ALLOCATE, "1", timeout=60)
    assert big.output == "done\n"
    assert big.peak_rss_mb >= 300
    # Neither the earlier, larger child's peak nor this (test) process's memory counts.
    assert small.peak_rss_mb < 50
    assert small.seconds > 0


def test_a_failing_child_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="exited with 3"):
        run_python("raise SystemExit(3)", timeout=60)


def test_a_child_that_outlives_its_time_is_ended() -> None:
    with pytest.raises(RuntimeError, match="did not finish in 1 s"):
        run_python("import time; time.sleep(30)", timeout=1)


def test_the_cpu_time_is_the_childs_own() -> None:
    busy = run_python(
        "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass",
        timeout=60,
    )
    idle = run_python("import time; time.sleep(0.3)", timeout=60)
    assert busy.cpu_seconds >= 0.3
    assert idle.cpu_seconds < 0.25 <= idle.seconds
