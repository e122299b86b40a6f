"""Run one measured step of Python in a child process: its wall time, its CPU time, its own
peak memory and its output.

The peak is the child's `VmHWM` (high-water mark of its resident set), which the child
writes as it exits. The kernel's accounting that `wait4` and `RUSAGE_CHILDREN` report would
not do: a child starts as a copy of its parent, and Linux carries that copy's peak over
`exec` into the child's figure, so a child of a large process would be credited with the
parent's memory. CPU time is what `RUSAGE_CHILDREN` gained while the child ran (the parent
waits for one child at a time).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

KIB: Final = 1024
MIB: Final = 1024 * 1024
PEAK_FILE_VARIABLE: Final = "FUNDWALL_BENCH_PEAK_FILE"

# Registered before the step's code runs, so it runs last, once the step is done.
_REPORT_PEAK: Final = """\
import atexit as _atexit, os as _os

def _report_peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(_os.environ["FUNDWALL_BENCH_PEAK_FILE"], "w") as out:
        out.write(peak)

_atexit.register(_report_peak)
"""


@dataclass(frozen=True, slots=True)
class ChildRun:
    """What a child process did: seconds from start to exit, peak RSS in bytes, stdout, and
    its CPU seconds (user and system)."""

    seconds: float
    peak_rss_bytes: int
    output: str
    cpu_seconds: float = 0.0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_bytes / MIB


def resident_mb() -> float:
    """This process's resident memory now (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        kib = next(line.split()[1] for line in status if line.startswith("VmRSS:"))
    return int(kib) / 1024


def python_code(code: str, *args: str) -> list[str]:
    """The command that runs `code` in this interpreter, with `args` in `sys.argv[1:]`."""
    return [sys.executable, "-c", code, *args]


def run_python(
    code: str, *args: str, timeout: float, env: Mapping[str, str] | None = None
) -> ChildRun:
    """Run `code` with `args` in a child to its end; raise RuntimeError when it fails or
    outlives `timeout` seconds."""
    with (
        tempfile.TemporaryDirectory(prefix="fundwall-bench-child-") as scratch,
        (Path(scratch) / "stdout").open("w+", encoding="utf-8") as out,
    ):
        peak_file = Path(scratch) / "peak"
        environment = {**(os.environ if env is None else env), PEAK_FILE_VARIABLE: str(peak_file)}
        command = python_code(_REPORT_PEAK + code, *args)
        before = _children_cpu()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, env=environment)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the child did not finish in {timeout:.0f} s") from None
        finally:
            # Outlived its time, or this process is stopping (SIGTERM, Ctrl-C): not left behind.
            if process.poll() is None:
                process.kill()
                process.wait()
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - before
        if returncode != 0:
            raise RuntimeError(f"the child exited with {returncode}")
        out.seek(0)
        return ChildRun(seconds, int(peak_file.read_text()) * KIB, out.read(), cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
