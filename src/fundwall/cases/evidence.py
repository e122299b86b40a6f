"""Evidence files of a case (证据材料): PDF, PNG, JPEG or CSV up to a size limit, checked by
their content (not only the declared type or the name), stored SM4-GCM encrypted with the
SM3 digest of the plaintext beside, listed with who added them and when, and read back only
by the case's member.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from fundwall.auth.actor import Actor
from fundwall.auth.roles import Permission
from fundwall.auth.usecase import use_case
from fundwall.cases.model import CaseStatus, EvidenceItem
from fundwall.cases.queries import case_row, evidence_items
from fundwall.config import CaseSettings, get_settings
from fundwall.crypto import Keyring, sm3_hex
from fundwall.domain.errors import Conflict, InvalidInput, NotFound
from fundwall.store.police_tables import FILENAME, CaseEvidenceRow
from fundwall.store.uow import UnitOfWork


def _is_pdf(content: bytes) -> bool:
    return content.startswith(b"%PDF-")


def _is_png(content: bytes) -> bool:
    return content.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(content: bytes) -> bool:
    return content.startswith(b"\xff\xd8\xff")


def _is_csv(content: bytes) -> bool:
    """Text (UTF-8, or GB18030 as Chinese spreadsheets save it) without control characters
    but tab and line ends: a binary file renamed .csv fails."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(unicodedata.category(char) == "Cc" and char not in "\t\r\n" for char in text)
    return False


CONTENT_CHECKS: Final[Mapping[str, Callable[[bytes], bool]]] = MappingProxyType(
    {
        "application/pdf": _is_pdf,
        "image/png": _is_png,
        "image/jpeg": _is_jpeg,
        "text/csv": _is_csv,
    }
)
"""How each evidence media type is recognised by its content."""
EXTENSIONS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "application/pdf": (".pdf",),
        "image/png": (".png",),
        "image/jpeg": (".jpg", ".jpeg"),
        "text/csv": (".csv",),
    }
)
"""The file name endings of each type, so a download opens with the right program."""


@use_case(Permission.WORK_CASES)
def add_evidence(
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    filename: str,
    media_type: str,
    content: bytes,
    keyring: Keyring,
    *,
    settings: CaseSettings | None = None,
) -> EvidenceItem:
    """Add an evidence file to an open case of the member, encrypted; refused when empty,
    over `evidence_max_bytes`, of a type not allowed, or when its content is not what
    its type says."""
    limits = settings or get_settings().cases
    row = case_row(uow.session, actor, case_id)
    if row.status == CaseStatus.CLOSED.value:
        raise Conflict(f"case {case_id} is closed")
    name, media_type = checked_file(
        filename,
        media_type,
        content,
        max_bytes=limits.evidence_max_bytes,
        media_types=limits.evidence_media_types,
    )
    now = uow.clock.now()
    evidence = CaseEvidenceRow(
        case_id=case_id,
        filename=name,
        media_type=media_type,
        size_bytes=len(content),
        sm3=sm3_hex(content),
        content_enc=keyring.encrypt_bytes(content),
        added_at=now,
        added_by=actor.audit_id,
    )
    uow.session.add(evidence)
    row.updated_at = now
    uow.session.flush()
    uow.audit.record(
        actor,
        "case_evidence",
        f"case:{case_id}",
        {
            "evidence": evidence.id,
            "media_type": media_type,
            "bytes": len(content),
            "sm3": evidence.sm3,
        },
    )
    uow.commit()
    return _item(uow, case_id, evidence.id)


@use_case(Permission.WORK_CASES)
def evidence_file(
    uow: UnitOfWork, actor: Actor, case_id: int, evidence_id: int, keyring: Keyring
) -> tuple[EvidenceItem, bytes]:
    """An evidence file of the member's case and its content, decrypted and held against its
    SM3 digest. Reading it is audited."""
    case_row(uow.session, actor, case_id)
    stored = uow.session.get(CaseEvidenceRow, evidence_id)
    if stored is None or stored.case_id != case_id:
        raise NotFound("evidence", str(evidence_id))
    content = keyring.decrypt_bytes(stored.content_enc)
    if sm3_hex(content) != stored.sm3:
        raise Conflict(f"evidence {evidence_id} does not match its SM3 digest")
    uow.audit.record(actor, "case_evidence_read", f"case:{case_id}", {"evidence": evidence_id})
    uow.commit()
    return _item(uow, case_id, evidence_id), content


def _item(uow: UnitOfWork, case_id: int, evidence_id: int) -> EvidenceItem:
    return next(item for item in evidence_items(uow.session, case_id) if item.id == evidence_id)


def checked_file(
    filename: str,
    media_type: str,
    content: bytes,
    *,
    max_bytes: int,
    media_types: Sequence[str],
    field: str = "file",
) -> tuple[str, str]:
    """The file's clean name and media type, once its type is among `media_types`, its name
    ends as that type's do, and its content is not empty, at most `max_bytes` and what its
    type says; InvalidInput naming `field` and why otherwise. Shared with appeals' files."""
    name = _clean_filename(filename, field)
    media_type = media_type.partition(";")[0].strip().lower()
    if media_type not in media_types:
        allowed = ", ".join(media_types)
        raise InvalidInput(
            f"{name}: a file of type {media_type or 'unknown'} is refused; send {allowed}", field
        )
    if not name.lower().endswith(EXTENSIONS[media_type]):
        raise InvalidInput(
            f"{name}: a {media_type} file's name ends in {'/'.join(EXTENSIONS[media_type])}",
            field,
        )
    if not content:
        raise InvalidInput(f"{name}: the file is empty", field)
    if len(content) > max_bytes:
        raise InvalidInput(
            f"{name}: {len(content)} bytes is over the limit of {max_bytes} bytes", field
        )
    if not CONTENT_CHECKS[media_type](content):
        raise InvalidInput(f"{name}: the file's content is not {media_type}", field)
    return name, media_type


def _clean_filename(filename: str, field: str) -> str:
    """The file's own name (no folders, no control characters), bounded."""
    name = filename.replace("\\", "/").rpartition("/")[2]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise InvalidInput("the file has no name", field)
    if len(name) > FILENAME:
        raise InvalidInput(f"a file name has at most {FILENAME} characters", field)
    return name
