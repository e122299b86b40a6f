"""The sharing hub's measurement at a small size, in its child process: every figure there
and sane (no speed is asserted: shared machines; the goals judge the figures)."""

from __future__ import annotations

from fundwall.bench.sharing import LISTED_SHARE, measure_sharing


def test_publishing_indexing_and_matching_are_measured() -> None:
    figures = measure_sharing(entries=3_000, identifiers=1_000, timeout=300)
    assert figures["share_entries"] == figures["share_index_entries"] == 3_000
    assert figures["share_identifiers"] == 1_000
    # A tenth of the file is listed, once each; the baseline's join finds the same.
    assert figures["share_hits"] == figures["share_baseline_hits"] == 1_000 // LISTED_SHARE
    for key in ("share_match_ids_per_s", "share_match_csv_ids_per_s", "share_publish_per_s",
                "share_match_baseline_ids_per_s", "share_peak_mb"):  # fmt: skip
        value = figures[key]
        assert isinstance(value, int) and value > 0, (key, value)
