"""Start-up of the command line: `fundwall --help` in fresh interpreters, beside `python -c
pass` in the same run.

Each run is a child process of its own (`bench.child`): the median of `RUNS` wall times (what
a user waits), of their CPU times (which other work on a shared machine hardly inflates) and
of their peak memories. The two kinds of run alternate, so both see the same load; the
baseline is the interpreter's own start, which no change of ours can lower.
"""

from __future__ import annotations

from statistics import median
from typing import Final

from fundwall.bench.child import MIB, ChildRun, run_python

RUNS: Final = 7
HELP: Final = "import sys; sys.argv[0] = 'fundwall'; from fundwall.cli import main; main()"
"""`fundwall --help` as the console script runs it (the help names the program `fundwall`)."""
BASELINE: Final = "pass"


def _figures(prefix: str, runs: list[ChildRun]) -> dict[str, object]:
    return {
        f"{prefix}_s": round(median(run.seconds for run in runs), 3),
        f"{prefix}_cpu_s": round(median(run.cpu_seconds for run in runs), 3),
        f"{prefix}_mb": round(median(run.peak_rss_bytes for run in runs) / MIB, 1),
    }


def measure_startup(runs: int = RUNS, *, timeout: float = 120.0) -> dict[str, object]:
    """`fundwall --help` and `python -c pass`, `runs` times each, alternating."""
    helps: list[ChildRun] = []
    bases: list[ChildRun] = []
    for _ in range(runs):
        helps.append(run_python(HELP, "--help", timeout=timeout))
        bases.append(run_python(BASELINE, timeout=timeout))
    if "Usage: fundwall" not in helps[0].output:
        raise RuntimeError(f"`fundwall --help` printed no usage: {helps[0].output[:200]!r}")
    return {
        **_figures("startup", helps),
        **_figures("startup_baseline", bases),
        "startup_runs": runs,
    }
