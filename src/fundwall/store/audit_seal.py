"""The audit chain's seal: the key that keys every record, and signed checkpoints of the head.

The key (`fundwall.crypto.audit_key`: `keys.audit_key`, else `<keys_dir>/audit.key`) never
enters the database. Each record's hash is HMAC-SM3 under it, with its own label, so whoever
can only write the database can no longer recompute the chain after an edit.

A keyed chain still cannot show that its tail was cut off and its head moved back: the
shortened chain is a genuine prefix. So the head is also written outside the database, as one
line per checkpoint appended to a file (`audit.checkpoints`, default
`<data_dir>/audit-checkpoints.jsonl`):

    {"seq":12,"hash":"<64 hex>","time":"2024-06-01T08:00:00.000000+00:00","sig":"<64 hex>"}

`sig` is HMAC-SM3 under the audit key of the label `fundwall/audit-checkpoint/v1`, a zero
byte and the JSON array `[seq, hash, time]` (no spaces). `fundwall audit verify` checks every
signature and that the chain holds each checkpointed record with the signed hash.

Each line is one `write` to a file opened with O_APPEND, then fsync'ed: writers in several
processes do not interleave, and a line is on disk before the writer goes on.
"""

from __future__ import annotations

import hmac as stdlib_hmac
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes, hmac

from fundwall.config import Settings, get_settings
from fundwall.crypto import audit_key
from fundwall.domain.errors import InvalidInput

RECORD_LABEL = b"fundwall/audit-record/v2\x00"
CHECKPOINT_LABEL = b"fundwall/audit-checkpoint/v1\x00"
MAX_CHECKPOINT_LINE = 512
"""Bytes: a real line is about 230; anything longer is not read whole (a huge line must not
exhaust the verifier's memory)."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = frozenset({"seq", "hash", "time", "sig"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed checkpoint: the chain had record `seq` with `hash` at `time`."""

    seq: int
    hash: str
    time: str
    line: int = 0
    """Its line number in the checkpoint file, once read from it (1-based)."""


@dataclass(frozen=True, slots=True)
class BadCheckpoint:
    """A line of the checkpoint file that is not a checkpoint signed with the audit key."""

    line: int
    reason: str
    seq: int = 0


class AuditSeal:
    """The audit key (read when first needed) and the checkpoint file of one deployment."""

    def __init__(
        self,
        key: bytes | Callable[[], bytes],
        checkpoints: Path,
        *,
        checkpoint_every: int = 1,
    ) -> None:
        if checkpoint_every < 1:
            raise InvalidInput("must be at least 1", "audit.checkpoint_every")
        self._key = key if isinstance(key, bytes) else None
        self._load_key = key if callable(key) else None
        if self._key is not None and len(self._key) < 16:
            raise InvalidInput("the audit key must be at least 16 bytes", "keys.audit_key")
        self.checkpoints = checkpoints
        self.checkpoint_every = checkpoint_every

    def __repr__(self) -> str:
        return f"AuditSeal(checkpoints={str(self.checkpoints)!r})"

    @classmethod
    def from_settings(cls, settings: Settings, *, create_key: bool = True) -> AuditSeal:
        """The seal `settings` describe; the key is read when first needed.

        A missing key file is created only with `create_key` and while the checkpoint file
        is empty: once checkpoints were signed, the key that signed them is lost, not new,
        and appending under a fresh key would make every keyed record read as altered.
        """
        checkpoints = settings.audit_checkpoints

        def load() -> bytes:
            fresh = create_key and not _has_content(checkpoints)
            return audit_key(settings, create=fresh)

        return cls(load, checkpoints, checkpoint_every=settings.audit.checkpoint_every)

    @property
    def key(self) -> bytes:
        if self._key is None:
            assert self._load_key is not None
            self._key = self._load_key()
        return self._key

    def mac(self, label: bytes, message: bytes) -> str:
        """HMAC-SM3 under the audit key of `label` (which ends in a zero byte) and `message`."""
        code = hmac.HMAC(self.key, hashes.SM3())
        code.update(label + message)
        return code.finalize().hex()

    def checkpoint_due(self, first_seq: int, last_seq: int) -> bool:
        """Whether a commit that appended records first_seq..last_seq crossed a multiple of
        `checkpoint_every`. Depends on the seqs alone, so it holds across processes."""
        every = self.checkpoint_every
        return last_seq // every > (first_seq - 1) // every

    def checkpoint(self, seq: int, hash: str, time: datetime) -> Checkpoint:
        """The checkpoint of record `seq` with `hash` at `time`, to `append` (which signs it)."""
        return Checkpoint(seq, hash, time.astimezone(UTC).isoformat(timespec="microseconds"))

    def append(self, checkpoint: Checkpoint) -> None:
        """Append `checkpoint` as one signed line and fsync it; creates the file (0600)."""
        line = json.dumps(
            {
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "time": checkpoint.time,
                "sig": self._signature(checkpoint.seq, checkpoint.hash, checkpoint.time),
            },
            separators=(",", ":"),
        )
        path = self.checkpoints
        created = not path.exists()
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, (line + "\n").encode("ascii"))
            os.fsync(handle)
        finally:
            os.close(handle)
        if created:  # the new file's name must survive a crash as well as its line
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def append_after_commit(self, checkpoint: Checkpoint) -> None:
        """`append`, from a commit hook: the change is committed already, so a failure to
        write is logged rather than raised; `fundwall audit verify` shows the checkpoint lag."""
        try:
            self.append(checkpoint)
        except OSError as error:
            logger.error(
                "audit checkpoint of seq %s not written to %s: %s",
                checkpoint.seq,
                self.checkpoints,
                error.strerror or error,
            )

    def checkpoint_file_size(self) -> int:
        """Bytes in the checkpoint file now (0 when there is none)."""
        try:
            return self.checkpoints.stat().st_size
        except FileNotFoundError:
            return 0
        except OSError as error:
            raise self._unreadable(error) from None

    def read(self, size: int) -> Iterator[Checkpoint | BadCheckpoint]:
        """The first `size` bytes of the checkpoint file, line by line, each either a
        checkpoint whose signature holds or the reason it is not one."""
        if size == 0:
            return
        try:
            lines = self.checkpoints.open("rb")
        except OSError as error:
            raise self._unreadable(error) from None
        with lines:
            number, left = 0, size
            while left > 0:
                raw = lines.readline(min(left, MAX_CHECKPOINT_LINE + 1))
                if not raw:
                    yield BadCheckpoint(number + 1, "lines were removed while it was read")
                    return
                number += 1
                left -= len(raw)
                if raw.endswith(b"\n"):
                    yield self._parse(number, raw)
                elif len(raw) > MAX_CHECKPOINT_LINE:
                    yield BadCheckpoint(number, f"longer than {MAX_CHECKPOINT_LINE} bytes")
                    left -= _skip_line(lines, left)
                else:
                    yield BadCheckpoint(number, "cut short: it does not end with a line break")

    def _unreadable(self, error: OSError) -> InvalidInput:
        reason = error.strerror or str(error)
        return InvalidInput(
            f"cannot read the audit checkpoint file {self.checkpoints}: {reason}",
            field="audit.checkpoints",
        )

    def _parse(self, number: int, raw: bytes) -> Checkpoint | BadCheckpoint:
        try:
            fields = json.loads(raw)
        except ValueError:
            return BadCheckpoint(number, "not JSON")
        if not isinstance(fields, dict) or set(fields) != _FIELDS:
            return BadCheckpoint(number, f"not the fields {', '.join(sorted(_FIELDS))}")
        seq, hash, time, sig = (fields[name] for name in ("seq", "hash", "time", "sig"))
        if type(seq) is not int or seq < 1:
            return BadCheckpoint(number, "seq is not a positive whole number")
        if not (isinstance(hash, str) and _HEX64.fullmatch(hash)):
            return BadCheckpoint(number, "hash is not 64 hex digits", seq)
        if not isinstance(time, str) or not isinstance(sig, str):
            return BadCheckpoint(number, "time and sig must be text", seq)
        if not stdlib_hmac.compare_digest(sig, self._signature(seq, hash, time)):
            return BadCheckpoint(
                number,
                "its signature does not verify with the audit key: written without the key, "
                "or altered",
                seq,
            )
        return Checkpoint(seq, hash, time, number)

    def _signature(self, seq: int, hash: str, time: str) -> str:
        message = json.dumps([seq, hash, time], separators=(",", ":"), ensure_ascii=True)
        return self.mac(CHECKPOINT_LABEL, message.encode("ascii"))


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _skip_line(lines: BinaryIO, left: int) -> int:
    """Read past the rest of an over-long line, at most `left` bytes; returns bytes read."""
    skipped = 0
    while skipped < left:
        chunk = lines.readline(min(left - skipped, 64 * 1024))
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            break
    return skipped


_deployment: tuple[Settings, AuditSeal] | None = None


def deployment_seal() -> AuditSeal:
    """The seal of this deployment's settings (`get_settings()`): the one a unit of work and
    `verify_chain` use unless given another. Follows `get_settings.cache_clear()`."""
    global _deployment
    settings = get_settings()
    known = _deployment
    if known is None or known[0] is not settings:
        known = _deployment = (settings, AuditSeal.from_settings(settings))
    return known[1]
