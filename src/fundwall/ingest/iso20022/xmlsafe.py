"""Safe XML reading for ISO 20022 messages, and a small navigator that knows its path.

Messages come from outside the region's trust boundary, so parsing refuses every DTD (which
shuts out entity expansion bombs such as "billion laughs" and external entities that would read
local files or reach the network) and any input over a size limit, before building a tree.
The parser is the standard library's expat behind `defusedxml`, which never fetches anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import fromstring

from fundwall.domain.errors import InvalidInput

MAX_XML_BYTES = 5 * 1024 * 1024
"""Largest accepted message (5 MiB): thousands of transactions, far below what memory allows."""

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
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
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
        raise InvalidMessage(f"malformed XML: {error}") from None


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
