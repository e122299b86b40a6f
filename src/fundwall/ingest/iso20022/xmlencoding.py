"""The characters of an XML message: its bytes decoded as its byte-order mark or declaration says.

Fundwall decodes the message itself, then hands the parser text, so the parser never looks an
encoding up by a name the sender chose (the standard library's expat would try any Python
codec for it and fail with errors that are not about the message). Accepted: UTF-8 (the
default, with or without a byte-order mark), UTF-16 (a byte-order mark, or the zero bytes of
its first characters, tells the byte order), ISO-8859-1, US-ASCII, and GB18030 with its
subsets GBK and GB2312, which Chinese banks' systems still write. Anything else, or a
declaration that contradicts the bytes, refuses the message naming the encoding.
"""

from __future__ import annotations

import re
from typing import Final

from fundwall.ingest.unicode import sniff_unicode

ACCEPTED_ENCODINGS: Final = {
    "UTF8": "UTF-8",
    "UTF16": "UTF-16",
    "UTF16LE": "UTF-16LE",
    "UTF16BE": "UTF-16BE",
    "ISO88591": "ISO-8859-1",
    "LATIN1": "ISO-8859-1",
    "USASCII": "US-ASCII",
    "ASCII": "US-ASCII",
    "GB18030": "GB18030",
    "GBK": "GBK",
    "GB2312": "GB2312",
}
"""Declared names (upper case, without '-' and '_') → the encoding read."""

_SHOWN: Final = "UTF-8, UTF-16, ISO-8859-1, US-ASCII, GB18030, GBK or GB2312"
_UTF16: Final = frozenset({"UTF-16", "UTF-16LE", "UTF-16BE"})
_DECLARATION: Final = re.compile(
    r"<\?xml\s+version\s*=\s*(['\"])[^'\"]*\1\s+encoding\s*=\s*(['\"])([A-Za-z][A-Za-z0-9._-]*)\2"
)
_DECLARATION_BYTES: Final = 200
"""Enough of the start to hold any sensible XML declaration."""


class UndecodableXml(ValueError):
    """The message's encoding is not accepted, contradicts its bytes, or its bytes are not
    valid in it. `text` holds what was decoded before the bad bytes (for locating them)."""

    def __init__(self, reason: str, text: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


def decode_xml(data: bytes) -> str:
    """The text of the XML message `data` (without its byte-order mark)."""
    sniffed, mark_length = sniff_unicode(data)
    if sniffed is not None and sniffed.startswith("UTF-32"):
        raise UndecodableXml(f"the message is in {sniffed}, which is not accepted: use {_SHOWN}")
    body = data[mark_length:]
    encoding = _encoding(_declared(body, sniffed), sniffed)
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as error:
        before = body[: error.start].decode(encoding, errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1)
        raise UndecodableXml(
            f"byte 0x{body[error.start]:02X} is not valid {encoding}: line {line}, column {column}",
            before,
        ) from None


def _declared(body: bytes, sniffed: str | None) -> str | None:
    """The encoding named by the XML declaration, as written; None without one."""
    head = body[: _DECLARATION_BYTES * (2 if sniffed else 1)]
    # ISO-8859-1 maps every byte, so the ASCII of a declaration reads the same in every
    # encoding the first bytes cannot tell apart.
    text = head.decode(sniffed or "ISO-8859-1", errors="replace")
    match = _DECLARATION.match(text)
    return None if match is None else match[3]


def _encoding(declared: str | None, sniffed: str | None) -> str:
    """The encoding to read: what the declaration names, if the bytes agree."""
    if declared is None:
        return sniffed or "UTF-8"
    encoding = ACCEPTED_ENCODINGS.get(declared.upper().replace("-", "").replace("_", ""))
    if encoding is None:
        raise UndecodableXml(f"encoding '{declared}' is not accepted: use {_SHOWN}")
    if sniffed in _UTF16 and encoding in (sniffed, "UTF-16"):
        return sniffed
    if (sniffed is None and encoding not in _UTF16) or sniffed == encoding == "UTF-8":
        return encoding
    raise UndecodableXml(
        f"the XML declaration names {declared} but the message's bytes are "
        f"{sniffed or 'not UTF-16'}"
    )
