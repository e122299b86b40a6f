"""The sharing hub, measured in a child process of its own: bulk publishing, the index's
memory, and bulk matching file to file.

The child makes a hub in a fresh SQLite database (sharing key v1) and publishes `entries`
entries as a member's system would: Parquet files of at most 500,000 rows, each read,
checked row by row and written in one transaction with its events and audit record
(`share_publish_per_s`, over all of them). The entries are 60% resident-ID hashes, 30%
phone hashes and 10% accounts; the hashes are random 256-bit values, which a keyed SM3 output
is indistinguishable from (hashing millions with the key would measure the member's side).
Then the index is built from the store (seconds, its arrays' bytes, the child's resident
memory before and after) and a member's file of `identifiers` resident-ID hashes, a tenth of
them listed, is matched end to end: the Parquet file read from disk, checked, matched, the
hits written to a Parquet file on disk (`share_match_ids_per_s`, best of three), and the same
as CSV. The baseline, in the same run, is what an analyst would write: pandas reading the
file and merging it with the list's keys in a DataFrame already in memory.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from fundwall.bench.child import MIB, resident_mb, run_python

PUBLISH_FILE_ROWS: Final = 500_000
LISTED_SHARE: Final = 10

_CHILD: Final = (
    "import sys; from fundwall.bench.sharing import child; "
    "child(int(sys.argv[1]), int(sys.argv[2]))"
)


def _hashes(count: int) -> list[str]:
    digits = os.urandom(32 * count).hex()
    return ["v1:" + digits[64 * i : 64 * (i + 1)] for i in range(count)]


def child(entries: int, identifiers: int) -> None:
    """The child's work: print one JSON object of its figures."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fundwall import bootstrap
    from fundwall.auth.actor import Actor
    from fundwall.config import load_settings
    from fundwall.sharing.files import (
        ENTRY_COLUMNS,
        ENTRY_REQUIRED,
        IDENTIFIER_COLUMNS,
        IDENTIFIER_REQUIRED,
        read_file,
        write_table,
    )
    from fundwall.sharing.index import RiskIndex
    from fundwall.sharing.keys import rotate_sharing_key
    from fundwall.sharing.matching import match_identifiers
    from fundwall.sharing.risk_list import entries_of, publish_entries
    from fundwall.store.migrate import upgrade

    pd: Any = importlib.import_module("pandas")  # the baseline's; not a runtime dependency
    member = Actor.operator("bench")
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-share-") as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'hub.db'}"
        upgrade(url)
        settings = load_settings(config_file=None, data_dir=folder, database_url=url)
        with bootstrap.opened(settings, operator="bench", check_schema=False) as hub:
            with hub.unit_of_work() as uow:
                rotate_sharing_key(uow, member, settings.keys_dir)
            ids = _hashes(int(entries * 0.6))
            phones = _hashes(int(entries * 0.3))
            accounts = [f"62220{i:014d}" for i in range(entries - len(ids) - len(phones))]
            kinds = ["id_hash"] * len(ids) + ["phone_hash"] * len(phones)
            kinds += ["account"] * len(accounts)
            table = pa.table(
                {
                    "kind": kinds,
                    "key": ids + phones + accounts,
                    "bank": [None] * (len(ids) + len(phones)) + ["B002"] * len(accounts),
                    "category": ["mule"] * entries,
                    "evidence": ["member_verified"] * entries,
                }
            )
            publish_seconds = 0.0
            for start in range(0, entries, PUBLISH_FILE_ROWS):
                path = folder / f"entries-{start}.parquet"
                pq.write_table(table.slice(start, PUBLISH_FILE_ROWS), path)
                began = time.perf_counter()
                file = read_file(path, "parquet", ENTRY_COLUMNS, ENTRY_REQUIRED)
                parsed = entries_of(file.table.to_pylist(), file.locate)
                with hub.unit_of_work() as uow:
                    publish_entries(uow, member, parsed, member="B001", locate=file.locate)
                publish_seconds += time.perf_counter() - began
                del file, parsed
            del table, phones, accounts
            gc.collect()

            resident_before = resident_mb()
            index = RiskIndex()
            began = time.perf_counter()
            with hub.unit_of_work() as uow:
                index.refresh(uow.session, uow.clock.now())
            build_seconds = time.perf_counter() - began
            gc.collect()
            resident_built = resident_mb()

            listed = ids[: identifiers // LISTED_SHARE]
            asked = pa.table(
                {"kind": ["id_hash"] * identifiers,
                 "key": listed + _hashes(identifiers - len(listed))}
            )  # fmt: skip
            timings: dict[str, float] = {}
            hits = 0
            for file_format in ("parquet", "csv"):
                source = folder / f"customers.{file_format}"
                source.write_bytes(write_table(asked, file_format))
                best = float("inf")
                for _ in range(3):
                    began = time.perf_counter()
                    file = read_file(source, file_format, IDENTIFIER_COLUMNS, IDENTIFIER_REQUIRED)
                    with hub.unit_of_work() as uow:
                        result = match_identifiers(uow, member, index, file)
                    (folder / f"hits.{file_format}").write_bytes(
                        write_table(result.hits, file_format)
                    )
                    best = min(best, time.perf_counter() - began)
                    hits = result.hits.num_rows
                timings[file_format] = best

            frame = pd.DataFrame({"key": ids})
            source = folder / "customers.parquet"
            began = time.perf_counter()
            customers = pd.read_parquet(source)
            merged = customers.merge(frame, on="key", how="inner")
            merged.to_parquet(folder / "hits-baseline.parquet")
            baseline_seconds = time.perf_counter() - began
    figures = {
        "entries": entries,
        "identifiers": identifiers,
        "hits": hits,
        "baseline_hits": len(merged),
        "publish_seconds": publish_seconds,
        "index_entries": len(index),
        "index_build_seconds": build_seconds,
        "index_bytes": index.memory_bytes(),
        "resident_before_mb": resident_before,
        "resident_built_mb": resident_built,
        "match_seconds": timings["parquet"],
        "match_csv_seconds": timings["csv"],
        "baseline_seconds": baseline_seconds,
        "load_average_1m": os.getloadavg()[0],
    }
    print(json.dumps(figures))


def measure_sharing(*, entries: int, identifiers: int, timeout: float) -> dict[str, object]:
    """Publish, index and match in a child process; see the module docstring."""
    run = run_python(_CHILD, str(entries), str(identifiers), timeout=timeout)
    figures = json.loads(run.output.strip().splitlines()[-1])
    asked = int(figures["identifiers"])
    match_rate = asked / float(figures["match_seconds"])
    baseline_rate = asked / float(figures["baseline_seconds"])
    return {
        "share_match_ids_per_s": round(match_rate),
        "share_match_csv_ids_per_s": round(asked / float(figures["match_csv_seconds"])),
        "share_match_baseline_ids_per_s": round(baseline_rate),
        "share_match_vs_baseline": round(match_rate / baseline_rate, 1),
        "share_publish_per_s": round(int(figures["entries"]) / float(figures["publish_seconds"])),
        "share_entries": int(figures["entries"]),
        "share_identifiers": asked,
        "share_hits": int(figures["hits"]),
        "share_baseline_hits": int(figures["baseline_hits"]),
        "share_index_entries": int(figures["index_entries"]),
        "share_index_build_seconds": round(float(figures["index_build_seconds"]), 1),
        "share_index_mb": round(int(figures["index_bytes"]) / MIB, 1),
        "share_index_rss_mb": round(
            float(figures["resident_built_mb"]) - float(figures["resident_before_mb"])
        ),
        "share_peak_mb": round(run.peak_rss_mb),
        "share_load_average_1m": round(float(figures["load_average_1m"]), 2),
    }
