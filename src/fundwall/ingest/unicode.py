"""Which Unicode encoding the first bytes of a body show, before anything decodes it.

A byte-order mark says it outright. Without one, JSON (RFC 4627, section 3) and XML (XML 1.0,
appendix F) both begin with ASCII characters (`{`, `[`, `"`, `<` …), so the zero bytes around
them tell UTF-16 and UTF-32 from the encodings in which ASCII is one byte (UTF-8, ISO-8859-1,
GB18030 …), which the first bytes cannot tell apart.
"""

from __future__ import annotations

import codecs
from typing import Final, NamedTuple

_MARKS: Final = (
    # UTF-32LE before UTF-16LE: its mark begins with UTF-16LE's.
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
)
_BY_ZERO_BYTES: Final[dict[tuple[bool, ...], str]] = {
    (True, True, True, False): "UTF-32BE",
    (False, True, True, True): "UTF-32LE",
    (True, False, True, False): "UTF-16BE",
    (False, True, False, True): "UTF-16LE",
}


class Sniffed(NamedTuple):
    """What the first bytes show: the encoding (None when ASCII is one byte in it, as in
    UTF-8 without a mark) and the length of the byte-order mark (0 without one)."""

    encoding: str | None
    mark_length: int


_MARK_STARTS: Final = frozenset(mark[0] for mark, _ in _MARKS)
_ONE_BYTE_ASCII: Final = Sniffed(None, 0)


def sniff_unicode(data: bytes) -> Sniffed:
    """The encoding shown by a byte-order mark or by the zero bytes of the first four."""
    head = data[:4]
    if head and head[0] not in _MARK_STARTS and 0 not in head:
        # Nearly every body: no mark can begin with that byte, and no zero byte, so ASCII is
        # one byte. Answered in one pass over four bytes, for every JSON request.
        return _ONE_BYTE_ASCII
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            return Sniffed(encoding, len(mark))
    zero_bytes = tuple(byte == 0 for byte in data[:4])
    return Sniffed(_BY_ZERO_BYTES.get(zero_bytes), 0)
