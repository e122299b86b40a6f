"""Safe XML reading for ISO 20022 messages, and a small navigator that knows its path.

Messages come from outside the region's trust boundary, so parsing refuses every DTD (which
shuts out entity expansion bombs such as "billion laughs" and external entities that would read
local files or reach the network) and any input over a size limit, before building a tree.
The parser is the standard library's expat behind `defusedxml`, which never fetches anything
and never processes XInclude; it reads text that `decode_xml` decoded. A message that is not
well-formed, e.g. for a character XML does not allow, is refused naming the element that holds
the fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import fromstring

from fundwall.domain.errors import InvalidInput
from fundwall.ingest.iso20022.xmlencoding import UndecodableXml, decode_xml

MAX_XML_BYTES = 5 * 1024 * 1024
"""Largest accepted message (5 MiB): thousands of transactions, far below what memory allows."""

DOCUMENT: Final = "Document"
APP_HEADER: Final = "AppHdr"
MESSAGE_ELEMENT: Final = "FIToFICstmrCdtTrf"
PATH_ROOTS: Final = frozenset({DOCUMENT, APP_HEADER, MESSAGE_ELEMENT})
"""Where element paths begin: the ISO 20022 elements, not the envelope around them."""
MAX_PATH_ELEMENTS: Final = 12
"""Elements shown of the path to a fault: a pacs.008 is under ten deep; a hostile nesting of
thousands is shown by its innermost ones."""

_DECIMAL = re.compile(r"[0-9]{1,18}(\.[0-9]{1,17})?")


@dataclass(eq=False)
class InvalidMessage(InvalidInput):
    """A message rejected as a whole (its group status is RJCT).

    `status_reason` is the ISO 20022 external status reason code to answer with; the original
    message id and name are kept when they could be read, so the status report can cite them.
    """

    status_reason: str = "FF01"
    original_msg_id: str | None = None
    original_msg_name: str | None = None


def parse_xml(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> Element:
    """Parse `data` into a tree, refusing oversize input, DTDs, entities and malformed XML."""
    if len(data) > max_bytes:
        raise InvalidMessage(f"message is {len(data)} bytes, over the limit of {max_bytes} bytes")
    try:
        text = decode_xml(data)
    except UndecodableXml as error:
        raise InvalidMessage(
            f"malformed XML: {error.reason}", field=_open_elements(error.text, final=False)
        ) from None
    try:
        return fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise InvalidMessage(
            "a document type declaration (<!DOCTYPE …>) is not accepted: ISO 20022 messages "
            "have none, and it could expand entities or fetch external files"
        ) from None
    except DefusedXmlException as error:
        raise InvalidMessage(
            f"entities and external references are not accepted: {error}"
        ) from None
    except ParseError as error:
        raise InvalidMessage(
            f"malformed XML: {error}", field=_open_elements(text, final=True)
        ) from None


class _DoctypeSeen(Exception):
    """A DTD met while locating a fault: never read, whatever it declares."""


def _open_elements(text: str, *, final: bool) -> str | None:
    """The path of the elements open where `text` stops being well-formed XML (or where it
    ends, unless `final`), from its ISO 20022 root; None outside any element.

    Runs only after the safe parse refused `text`, and refuses any DTD itself.
    """
    names: list[str] = []
    seen: list[dict[str, int]] = [{}]

    def start(tag: str, _attributes: object) -> None:
        local = tag.rpartition(" ")[2]
        siblings = seen[-1]
        siblings[local] = position = siblings.get(local, 0) + 1
        names.append(local if position == 1 else f"{local}[{position}]")
        seen.append({})

    def end(_tag: str) -> None:
        names.pop()
        seen.pop()

    def doctype(*_details: object) -> None:
        raise _DoctypeSeen

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    with suppress(expat.ExpatError, _DoctypeSeen):
        parser.Parse(text, final)
    return _element_path(names)


def _element_path(names: list[str]) -> str | None:
    roots = [index for index, name in enumerate(names) if name.partition("[")[0] in PATH_ROOTS]
    shown = names[roots[0] if roots else 0 :]
    if len(shown) > MAX_PATH_ELEMENTS:
        shown = ["…", *shown[-MAX_PATH_ELEMENTS:]]
    return "/".join(shown) or None


def located(error: InvalidInput, *within: str) -> str:
    """The error as 'element: reason', its element path relative to the first path of
    `within` that holds it (a report on one credit transfer names `Cdtr/Nm`)."""
    if error.field is None:
        return error.reason
    field = error.field
    for base in within:
        if field.startswith(f"{base}/"):
            field = field.removeprefix(f"{base}/")
            break
    return f"{field}: {error.reason}"


def split_tag(tag: str) -> tuple[str, str]:
    """`{namespace}Local` → (namespace, local); a tag without namespace has namespace ''."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def parse_decimal(text: str, where: str) -> Decimal:
    """An ISO 20022 amount or decimal number: digits, an optional point and fraction, no sign."""
    if not _DECIMAL.fullmatch(text):
        raise InvalidInput(f"'{text}' is not a decimal number", field=where)
    return Decimal(text)


@dataclass(frozen=True)
class Node:
    """An element in one namespace, with the path that led to it (for error messages)."""

    element: Element
    path: str
    namespace: str

    def _tag(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}" if self.namespace else name

    def child(self, name: str) -> Node | None:
        """The first child element called `name`, if any."""
        found = self.element.find(self._tag(name))
        return None if found is None else Node(found, f"{self.path}/{name}", self.namespace)

    def children(self, name: str) -> Iterator[Node]:
        """Every child element called `name`, with 1-based positions in their paths."""
        for position, found in enumerate(self.element.findall(self._tag(name)), start=1):
            yield Node(found, f"{self.path}/{name}[{position}]", self.namespace)

    def find(self, *names: str) -> Node | None:
        """The element at the relative path `names` (first match at each step), if any."""
        node: Node | None = self
        for name in names:
            if node is None:
                return None
            node = node.child(name)
        return node

    def need(self, *names: str) -> Node:
        """Like `find`, but a missing element is an error naming the element's path."""
        node = self.find(*names)
        if node is None:
            raise InvalidInput("required element is missing", field="/".join([self.path, *names]))
        return node

    def text(self, *names: str) -> str | None:
        """The stripped text at the relative path `names`; None when absent or empty."""
        node = self.find(*names)
        if node is None or node.element.text is None:
            return None
        return node.element.text.strip() or None

    def need_text(self, *names: str) -> str:
        """Like `text`, but a missing or empty element is an error naming its path."""
        value = self.text(*names)
        if value is None:
            raise InvalidInput(
                "required element is missing or empty", field="/".join([self.path, *names])
            )
        return value

    def attribute(self, name: str) -> str | None:
        """The stripped value of the unqualified attribute `name`, if present and not empty."""
        value = self.element.get(name)
        return None if value is None else (value.strip() or None)
