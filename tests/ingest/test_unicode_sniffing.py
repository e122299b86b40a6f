"""The encoding a body's first bytes show: the quick answer for ASCII-compatible bodies is the
full check's answer."""

from __future__ import annotations

import codecs
import itertools

from fundwall.ingest.unicode import Sniffed, sniff_unicode

_ZERO_PATTERNS = {
    (True, True, True, False): "UTF-32BE",
    (False, True, True, True): "UTF-32LE",
    (True, False, True, False): "UTF-16BE",
    (False, True, False, True): "UTF-16LE",
}
_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
)


def _every_rule(data: bytes) -> Sniffed:
    """The marks, then the zero bytes, checked every time (the rules of the module)."""
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            return Sniffed(encoding, len(mark))
    return Sniffed(_ZERO_PATTERNS.get(tuple(byte == 0 for byte in data[:4])), 0)


def test_every_start_of_up_to_four_bytes_is_read_as_every_rule_reads_it() -> None:
    # Every byte that begins or continues a mark, a zero, and ASCII and non-ASCII others.
    alphabet = [0x00, 0xEF, 0xBB, 0xBF, 0xFE, 0xFF, ord("{"), ord("<"), ord(" "), 0x80]
    for length in range(6):
        for start in itertools.product(alphabet, repeat=min(length, 4)):
            data = bytes(start) + b"[]"[: max(0, length - 4)]
            assert sniff_unicode(data) == _every_rule(data), data


def test_json_in_each_encoding_is_told_apart() -> None:
    body = '{"tx_id": "T1"}'
    assert sniff_unicode(body.encode()) == Sniffed(None, 0)
    assert sniff_unicode(codecs.BOM_UTF8 + body.encode()) == Sniffed("UTF-8", 3)
    for encoding in ("UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"):
        assert sniff_unicode(body.encode(encoding)) == Sniffed(encoding, 0)
