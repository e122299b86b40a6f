"""Same size and seed, same bytes; another seed, another region."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.region import FILES, SCHEMAS, read_table
from fundwall.sim import run
from fundwall.sim.params import SCALES
from fundwall.sim.run import Summary, simulate
from fundwall.sim.writer import fixed_ids


def test_same_seed_gives_byte_identical_files(
    tiny_region: tuple[Path, Summary], tmp_path: Path
) -> None:
    tiny, summary = tiny_region
    again = tmp_path / "again"
    simulate("tiny", summary.seed, again)
    names = sorted(p.name for p in tiny.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert {f"{f}.parquet" for f in FILES} | {"manifest.json"} == set(names)
    for name in names:
        assert (tiny / name).read_bytes() == (again / name).read_bytes(), name


def test_another_seed_gives_another_region(
    tiny_region: tuple[Path, Summary], tmp_path: Path
) -> None:
    tiny, summary = tiny_region
    other = tmp_path / "other"
    simulate("tiny", summary.seed + 1, other)
    assert (tiny / "transactions.parquet").read_bytes() != (
        other / "transactions.parquet"
    ).read_bytes()


def test_the_networks_leave_every_other_draw_as_it_was(
    tiny_region: tuple[Path, Summary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny, summary = tiny_region
    bare = replace(SCALES["tiny"], networks=0, gamblers=0)
    monkeypatch.setattr(run, "SCALES", {**SCALES, "tiny": bare})
    without = tmp_path / "without"
    simulate("tiny", summary.seed, without)
    assert read_table(without, "networks").num_rows == 0
    for name in ("parties", "devices", "logins", "phone_registry", "scams", "victim_reports"):
        assert (tiny / f"{name}.parquet").read_bytes() == (
            without / f"{name}.parquet"
        ).read_bytes(), name


def test_every_file_has_its_documented_schema(tiny: Path) -> None:
    import pyarrow.parquet as pq

    for name in FILES:
        assert pq.read_schema(tiny / f"{name}.parquet").remove_metadata() == SCHEMAS[name], name


def test_summary_counts_match_the_files(tiny_region: tuple[Path, Summary]) -> None:
    folder, summary = tiny_region
    for name in FILES:
        assert summary.counts[name] == read_table(folder, name).num_rows, name
    assert 0 < summary.fraud_share < 0.2
    assert summary.losses_fen > 0


@pytest.mark.parametrize(("size", "seed"), [("huge", 1), ("tiny", -1)])
def test_bad_size_or_seed_is_refused(size: str, seed: int, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        simulate(size, seed, tmp_path)
    assert not any(tmp_path.iterdir())


@given(
    st.text("ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=3),
    st.integers(0, 10**6),
    st.integers(0, 50),
    st.integers(7, 12),
)
def test_fixed_ids_equal_formatted_strings(prefix: str, start: int, count: int, width: int) -> None:
    ids = fixed_ids(prefix, start, count, width)
    assert ids.type == pa.string()
    assert ids.to_pylist() == [f"{prefix}{i:0{width}d}" for i in range(start, start + count)]
