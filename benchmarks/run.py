"""`make bench`: `fundwall bench --size small --json`, the risk engine against its goals.

    .venv/bin/python benchmarks/run.py                   # the small region (seed 7)
    .venv/bin/python benchmarks/run.py --size large      # memory check on the large one

Extra arguments go to `fundwall bench` (a later `--size` wins). See docs/benchmarks.md.
"""

from __future__ import annotations

import sys

from fundwall.cli import main

if __name__ == "__main__":
    sys.argv = ["fundwall", "bench", "--size", "small", "--json", *sys.argv[1:]]
    main()
