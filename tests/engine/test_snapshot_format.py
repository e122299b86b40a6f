"""The snapshot format: columns come back as they went in, strings are stored once, and what
is not a snapshot of this layout and part version is refused with a clear error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.domain.errors import InvalidInput
from fundwall.engine.snapshot_format import FORMAT, MAGIC, SnapshotReader, SnapshotWriter

INT64 = st.integers(-(2**63), 2**63 - 1)
TEXTS = st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8"))))


@given(
    st.lists(INT64),
    st.lists(st.one_of(st.none(), INT64)),
    st.binary(),
    TEXTS,
    TEXTS,
)
def test_columns_come_back_as_they_went_in(
    ints: list[int],
    optional: list[int | None],
    raw: bytes,
    texts: list[str | None],
    more: list[str | None],
) -> None:
    writer = SnapshotWriter()
    part = writer.part("p", 3, note="kept", clock=None)
    part.ints("ints", ints)
    part.optional_ints("optional", optional)
    part.bytes("raw", raw)
    part.strings("texts", texts)
    writer.part("q", 1).strings("texts", more)  # the same column name in another part

    reader = SnapshotReader(writer.to_bytes(), "a test")
    read = reader.part("p", 3)
    assert read.meta == {"note": "kept", "clock": None}
    assert read.ints("ints").tolist() == ints
    assert read.optional_ints("optional") == optional
    assert read.bytes("raw").tobytes() == raw
    assert read.strings("texts") == texts
    assert reader.part("q", 1).strings("texts") == more


def test_a_string_repeated_across_columns_is_stored_once() -> None:
    account = "6222" + "0" * 60
    writer = SnapshotWriter()
    part = writer.part("p", 1)
    part.strings("payers", [account] * 10_000)
    part.strings("payees", [account, None] * 5_000)
    data = writer.to_bytes()
    assert data.count(account.encode()) == 1
    assert len(data) < 2 * 4 * 20_000  # about an int32 code a value


def test_numbers_beyond_64_bits_are_refused_by_name() -> None:
    part = SnapshotWriter().part("p", 1)
    with pytest.raises(ValueError, match=r"p\.big holds a number beyond 64 bits"):
        part.ints("big", [2**63])
    with pytest.raises(ValueError, match=r"p\.bigger"):
        part.optional_ints("bigger", [None, -(2**63) - 1])


def _snapshot() -> bytes:
    writer = SnapshotWriter()
    writer.part("features", 3).ints("ts", np.arange(5, dtype=np.int64))
    return writer.to_bytes()


def _with_header(data: bytes, change: dict[str, object]) -> bytes:
    """`data` with its header changed (the buffers stay where they were)."""
    length = int.from_bytes(data[8:12], "little")
    header = json.loads(data[12 : 12 + length])
    header.update(change)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (length - len(text))  # same length: the buffers start where they did
    assert len(text) == length
    return data[:12] + text + data[12 + length :]


def test_another_part_version_is_refused_saying_which() -> None:
    reader = SnapshotReader(_snapshot(), "an engine")
    with pytest.raises(InvalidInput) as refused:
        reader.part("features", 4)
    assert str(refused.value) == (
        "field 'snapshot': an engine snapshot with features version 3, which this version "
        "does not read (it reads version 4)"
    )
    with pytest.raises(InvalidInput, match=r"not an engine snapshot \(it has no ledger part"):
        reader.part("ledger", 2)


def test_another_layout_is_refused_saying_which() -> None:
    later = _with_header(_snapshot(), {"format": FORMAT + 1})
    with pytest.raises(InvalidInput, match=f"in layout {FORMAT + 1}, which this version does"):
        SnapshotReader(later, "an engine")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00garbage",
        MAGIC + b"\xff\xff\x00\x00{",
        MAGIC + b"\x02\x00\x00\x00[]",
    ],
)
def test_what_is_not_a_snapshot_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="not an engine snapshot"):
        SnapshotReader(data, "an engine")


def test_a_cut_snapshot_is_refused() -> None:
    data = _snapshot()
    with pytest.raises(InvalidInput, match=r"column ~strings is cut"):  # the last column
        SnapshotReader(data[:-8], "an engine")
    reader = SnapshotReader(data, "an engine")
    with pytest.raises(InvalidInput, match=r"no int column features\.cum"):
        reader.part("features", 3).ints("cum")
