"""Field encryption (SM4-GCM) and keyed hashing (SM3-HMAC) of personal data.

Personal data (names, ID numbers, phone numbers) is stored encrypted, with a keyed hash
beside it so equal values can be matched without decrypting (and shared with the hub without
revealing them). Masking for display lives with the identity types in `fundwall.domain`.

Ciphertext format, version 1 (all of it authenticated; the header is the GCM associated data):

    0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)

The key id is derived from the key itself, so a keyring holding the current key and retired
ones decrypts old values after a rotation without any numbering scheme to coordinate.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fundwall.config import Settings
from fundwall.domain.errors import FundwallError, InvalidInput

FORMAT_VERSION = 1
SM4_KEY_BYTES = 16
HMAC_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_BYTES = 4
HEADER_BYTES = 1 + KEY_ID_BYTES
AUDIT_KEY_BYTES = 32
SM4_KEY_FILE = "sm4.key"
HMAC_KEY_FILE = "hmac.key"
AUDIT_KEY_FILE = "audit.key"

# Keyed-hash kinds of identifiers matched across the platform (parties, the risk list).
ID_HASH_KIND = "id"
PHONE_HASH_KIND = "phone"
CREDIT_CODE_HASH_KIND = "credit_code"

SHARE_KEY_BYTES = 32
SHARE_KEYS_DIR = "share"
"""The regional sharing keys live in `<keys_dir>/share/v<N>.key`, one file a version."""
_SHARED_HASH = re.compile(r"v(?P<v>[1-9][0-9]{0,5}):(?P<h>[0-9a-f]{64})")
SHARED_HASH_PATTERN = _SHARED_HASH.pattern
SHARED_HASH_FORM = "a shared hash is written vN:<64 lower-case hex digits> (N the key version)"

KEYED_HASH = re.compile(r"[0-9a-f]{64}")
"""What `Keyring.keyed_hash` returns: 64 lower-case hex digits (the server's own key)."""
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PHONE_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")


# Not frozen, like the domain errors: contextlib sets __traceback__ on exceptions it re-raises.
@dataclass(eq=False)
class DecryptionError(FundwallError):
    """An encrypted value could not be opened: damaged, altered, or made with an unknown key."""

    reason: str

    kind = "decryption-failed"

    def message(self) -> str:
        return f"cannot decrypt value: {self.reason}"


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes) -> str:
    """The SM3 digest of `data` in hex (an evidence file's fingerprint)."""
    return _sm3(data).hex()


def _key_id(key: bytes) -> bytes:
    return _sm3(b"fundwall/sm4-key-id\x00" + key)[:KEY_ID_BYTES]


def normalise(kind: str, value: str) -> str:
    """The form of `value` that is hashed: NFKC, no spaces or hyphens, upper case.

    So "3502 0319 9001 0112 3x" and "35020319900101123X" hash alike; for `kind="phone"` a
    leading +86/0086/86 country code is dropped as well.
    """
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()
    if kind == PHONE_HASH_KIND:
        text = _PHONE_PREFIX.sub("", text)
    return text


class Keyring:
    """The keys of one deployment: the active SM4 key, retired SM4 keys, the HMAC key."""

    def __init__(
        self, sm4_key: bytes, hmac_key: bytes, *, retired_sm4_keys: Sequence[bytes] = ()
    ) -> None:
        for key in (sm4_key, *retired_sm4_keys):
            if len(key) != SM4_KEY_BYTES:
                raise InvalidInput(f"an SM4 key is {SM4_KEY_BYTES} bytes, not {len(key)}", "keys")
        if len(hmac_key) < 16:
            raise InvalidInput("the HMAC key must be at least 16 bytes", "keys")
        self._active_id = _key_id(sm4_key)
        self._sm4: dict[bytes, bytes] = {}
        for key in (sm4_key, *retired_sm4_keys):
            key_id = _key_id(key)
            if key_id in self._sm4:
                raise InvalidInput("the same SM4 key is listed twice (or two keys share an id)")
            self._sm4[key_id] = key
        self._hmac_key = hmac_key

    def __repr__(self) -> str:
        return f"Keyring(key_id={self.key_id}, retired={len(self._sm4) - 1})"

    @property
    def key_id(self) -> str:
        """Hex id of the active SM4 key, as written in every new ciphertext."""
        return self._active_id.hex()

    @classmethod
    def load(cls, keys_dir: Path, *, retired_sm4_keys: Sequence[bytes] = ()) -> Keyring:
        """Read the key files in `keys_dir`, creating the directory and keys on first run.

        New key files are random, hex-encoded and readable by their owner only (0600). A key
        file that others may read is refused, as ssh refuses a private key.
        """
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        sm4_key = _read_or_create_key(keys_dir / SM4_KEY_FILE, SM4_KEY_BYTES)
        hmac_key = _read_or_create_key(keys_dir / HMAC_KEY_FILE, HMAC_KEY_BYTES)
        return cls(sm4_key, hmac_key, retired_sm4_keys=retired_sm4_keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """Keys given in the configuration (hex), else the key files under `keys_dir`."""
        keys = settings.keys
        retired = [bytes.fromhex(key.get_secret_value()) for key in keys.retired_sm4_keys]
        if keys.sm4_key is not None and keys.hmac_key is not None:
            return cls(
                bytes.fromhex(keys.sm4_key.get_secret_value()),
                bytes.fromhex(keys.hmac_key.get_secret_value()),
                retired_sm4_keys=retired,
            )
        return cls.load(settings.keys_dir, retired_sm4_keys=retired)

    def encrypt(self, plaintext: str) -> bytes:
        """SM4-GCM encrypt `plaintext` under the active key with a fresh random nonce."""
        return self.encrypt_bytes(plaintext.encode("utf-8"))

    def encrypt_bytes(self, plaintext: bytes) -> bytes:
        """SM4-GCM encrypt bytes (a file) as `encrypt` does text."""
        header = bytes([FORMAT_VERSION]) + self._active_id
        nonce = os.urandom(NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self._sm4[self._active_id]), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(header)
        body = encryptor.update(plaintext) + encryptor.finalize()
        return header + nonce + body + encryptor.tag

    def decrypt(self, blob: bytes) -> str:
        """Open a value made by `encrypt`; DecryptionError if it was altered or is foreign."""
        return self.decrypt_bytes(blob).decode("utf-8")

    def decrypt_bytes(self, blob: bytes) -> bytes:
        """Open bytes made by `encrypt_bytes` (or `encrypt`); DecryptionError if they were
        altered or are foreign."""
        if len(blob) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"too short ({len(blob)} bytes) to be an encrypted value")
        if blob[0] != FORMAT_VERSION:
            raise DecryptionError(f"unknown format version {blob[0]}")
        header, key_id = blob[:HEADER_BYTES], blob[1:HEADER_BYTES]
        key = self._sm4.get(key_id)
        if key is None:
            raise DecryptionError(f"made with key {key_id.hex()}, which this keyring lacks")
        nonce = blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        body, tag = blob[HEADER_BYTES + NONCE_BYTES : -TAG_BYTES], blob[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(header)
        try:
            plain = decryptor.update(body) + decryptor.finalize()
        except InvalidTag:
            raise DecryptionError("authentication failed: the value was altered") from None
        return plain

    def keyed_hash(self, kind: str, value: str) -> str:
        """SM3-HMAC of the normalised `value`, separated by `kind` ("id", "phone", "name" …).

        The same value under two kinds hashes differently, so an ID hash can never match a
        phone hash. Returns 64 hex digits.
        """
        return _keyed_hash(self._hmac_key, b"fundwall/keyed-hash/v1", kind, value).hex()


def _keyed_hash(key: bytes, label: bytes, kind: str, value: str) -> bytes:
    """SM3-HMAC under `key` of `label`, `kind` and the normalised `value`, each separated."""
    if not _KIND.fullmatch(kind):
        raise InvalidInput(f"hash kind must be a short lower-case word, not {kind!r}", "kind")
    text = normalise(kind, value)
    if not text:
        raise InvalidInput("nothing to hash: the value is empty", kind)
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(label + b"\x00" + kind.encode() + b"\x00" + text.encode("utf-8"))
    return mac.finalize()


def parse_shared_hash(text: str, field: str = "key") -> tuple[int, str]:
    """(version, 64 hex digits) of a shared hash written `vN:<64 lower-case hex>`."""
    found = _SHARED_HASH.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise InvalidInput(SHARED_HASH_FORM, field)
    return int(found.group(1)), found.group(2)


class SharingKeys:
    """The regional sharing keys (区域共享密钥), by version: what members hash resident ID
    numbers, credit codes and phone numbers with before they send them to the hub, so the
    hub matches without receiving them raw.

    A hash is SM3-HMAC under the version's key of a label, the kind (`id`, `phone`,
    `credit_code`: the same value under two kinds hashes differently) and the normalised
    value, written `vN:<64 hex>`. The hub creates a version per rotation
    (`fundwall share key rotate`) and exports it to members (`fundwall share key export`);
    which versions it accepts is the store's (`share_keys`), the key material these files.
    """

    LABEL = b"fundwall/shared-hash/v1"

    def __init__(self, keys: Mapping[int, bytes]) -> None:
        for version, key in keys.items():
            if version < 1 or len(key) != SHARE_KEY_BYTES:
                raise InvalidInput(
                    f"sharing key v{version}: a version is >= 1 and a key {SHARE_KEY_BYTES} bytes",
                    "keys",
                )
        self._keys = dict(sorted(keys.items()))

    def __repr__(self) -> str:
        return f"SharingKeys(versions={list(self._keys)})"

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(self._keys)

    @property
    def current(self) -> int | None:
        """The newest version, which new hashes use; None without any."""
        return max(self._keys, default=None)

    def hash(self, kind: str, value: str, version: int | None = None) -> str:
        """`vN:<hex>` of `value` under version `version` (the current one by default)."""
        chosen = self.current if version is None else version
        key = self._keys.get(chosen) if chosen is not None else None
        if key is None:
            raise InvalidInput(f"no sharing key of version {chosen}", "version")
        return f"v{chosen}:{_keyed_hash(key, self.LABEL, kind, value).hex()}"

    def hashes(self, kind: str, value: str) -> tuple[str, ...]:
        """`value` hashed under every version held, oldest first."""
        return tuple(self.hash(kind, value, version) for version in self._keys)

    @classmethod
    def load(cls, keys_dir: Path, versions: Iterable[int]) -> SharingKeys:
        """The key files of `versions` under `keys_dir/share`; a missing one is an error."""
        folder = keys_dir / SHARE_KEYS_DIR
        keys: dict[int, bytes] = {}
        for version in versions:
            path = folder / f"v{version}.key"
            if not path.exists():
                raise InvalidInput(
                    f"the sharing key file {path} of version {version} is missing: restore "
                    "it, or retire the version",
                    "keys",
                )
            keys[version] = _read_or_create_key(path, SHARE_KEY_BYTES)
        return cls(keys)

    @staticmethod
    def create(keys_dir: Path, version: int) -> Path:
        """A new random key file for `version` (0600); refused if one exists."""
        folder = keys_dir / SHARE_KEYS_DIR
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"v{version}.key"
        if path.exists():
            raise InvalidInput(f"a sharing key of version {version} exists already: {path}")
        _create_key_file(path, os.urandom(SHARE_KEY_BYTES))
        return path

    def export(self, version: int) -> str:
        """The text of an exported key file (what a member's `fundwall share hash` reads)."""
        key = self._keys.get(version)
        if key is None:
            raise InvalidInput(f"no sharing key of version {version}", "version")
        return f"{EXPORT_HEADER}\nversion={version}\nkey={key.hex()}\n"

    @classmethod
    def read_export(cls, path: Path) -> SharingKeys:
        """The key of an exported key file, refused when others may read it."""
        if not path.is_file():
            raise InvalidInput(f"no such key file: {path}", "key_file")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise InvalidInput(
                f"key file {path} may be read by others (mode {mode:04o}); run: chmod 600 {path}",
                "key_file",
            )
        lines = path.read_text(encoding="ascii").split()
        fields = dict(line.partition("=")[::2] for line in lines[1:])
        try:
            if lines[0] != EXPORT_HEADER:
                raise ValueError("header")
            return cls({int(fields["version"]): bytes.fromhex(fields["key"])})
        except (ValueError, KeyError, IndexError):
            raise InvalidInput(f"{path} is not an exported sharing key", "key_file") from None


EXPORT_HEADER = "fundwall-sharing-key"


def audit_key(settings: Settings, *, create: bool = True) -> bytes:
    """The key of the audit chain and its checkpoints: `keys.audit_key` (hex), else the file
    `audit.key` under `keys_dir`, created on first use (0600) when `create` is set.

    A key of its own, not the keyed-hash key: the audit chain must stay checkable when the
    field keys are rotated, and a leak of one key must not forge the other's output.
    Without `create` a missing file is an error, so that a lost key or a wrong `keys_dir`
    says so instead of making a fresh key that no keyed record matches.
    """
    configured = settings.keys.audit_key
    if configured is not None:
        return bytes.fromhex(configured.get_secret_value())
    path = settings.keys_dir / AUDIT_KEY_FILE
    if not create and not path.exists():
        raise InvalidInput(
            f"the audit key file {path} does not exist, but the audit chain was keyed with "
            "it: restore it, or set keys.audit_key",
            field="keys.audit_key",
        )
    settings.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return _read_or_create_key(path, AUDIT_KEY_BYTES)


def _read_or_create_key(path: Path, size: int) -> bytes:
    if not path.exists():
        _create_key_file(path, os.urandom(size))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InvalidInput(
            f"key file {path} may be read by others (mode {mode:04o}); run: chmod 600 {path}",
            field="keys",
        )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InvalidInput(f"key file {path} does not hold hex digits", field="keys") from None
    if len(key) != size:
        raise InvalidInput(f"key file {path} holds {len(key)} bytes, expected {size}", "keys")
    return key


def _create_key_file(path: Path, key: bytes) -> None:
    """Write the key completely under a temporary name, then link it into place.

    Linking fails if the file appeared meanwhile, so two processes starting together both end
    up using whichever key landed first, and nobody reads a half-written file.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(key.hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
    finally:
        os.unlink(temporary)
