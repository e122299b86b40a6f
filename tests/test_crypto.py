"""SM4-GCM field encryption, SM3-HMAC keyed hashes, and the key files behind them."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundwall.config import load_settings
from fundwall.crypto import (
    HMAC_KEY_FILE,
    SM4_KEY_FILE,
    DecryptionError,
    Keyring,
    SharingKeys,
    normalise,
    parse_shared_hash,
)
from fundwall.domain.errors import InvalidInput

# One keyring for the property tests: hypothesis runs a test body many times per fixture.
FIXED = Keyring(bytes(range(16)), bytes(range(32)))


@given(st.text())
def test_encrypt_then_decrypt_gives_the_text_back(plaintext: str) -> None:
    assert FIXED.decrypt(FIXED.encrypt(plaintext)) == plaintext


def test_same_text_encrypts_differently_each_time() -> None:
    assert FIXED.encrypt("350203199001011234") != FIXED.encrypt("350203199001011234")


def test_ciphertext_carries_version_and_key_id() -> None:
    blob = FIXED.encrypt("x")
    assert blob[0] == 1
    assert blob[1:5].hex() == FIXED.key_id
    assert len(blob) == 1 + 4 + 12 + 1 + 16


@given(st.text(min_size=1, max_size=40), st.data())
def test_any_flipped_bit_is_detected(plaintext: str, data: st.DataObject) -> None:
    blob = bytearray(FIXED.encrypt(plaintext))
    position = data.draw(st.integers(0, len(blob) - 1))
    bit = data.draw(st.integers(0, 7))
    blob[position] ^= 1 << bit
    with pytest.raises(DecryptionError):
        FIXED.decrypt(bytes(blob))


def test_tampered_body_is_reported_as_altered() -> None:
    blob = bytearray(FIXED.encrypt("13812345678"))
    blob[20] ^= 0xFF
    with pytest.raises(DecryptionError, match="authentication failed: the value was altered"):
        FIXED.decrypt(bytes(blob))


def test_truncated_and_foreign_values_are_refused() -> None:
    with pytest.raises(DecryptionError, match="too short"):
        FIXED.decrypt(b"\x01abc")
    blob = FIXED.encrypt("x")
    with pytest.raises(DecryptionError, match="unknown format version 2"):
        FIXED.decrypt(b"\x02" + blob[1:])
    other = Keyring(bytes(16), bytes(32))
    with pytest.raises(DecryptionError, match="which this keyring lacks"):
        other.decrypt(blob)


def test_retired_keys_still_decrypt_after_rotation() -> None:
    old = Keyring(b"o" * 16, b"h" * 32)
    blob = old.encrypt("old secret")
    rotated = Keyring(b"n" * 16, b"h" * 32, retired_sm4_keys=[b"o" * 16])
    assert rotated.decrypt(blob) == "old secret"
    assert rotated.encrypt("new")[1:5].hex() == rotated.key_id != old.key_id
    with pytest.raises(InvalidInput, match="listed twice"):
        Keyring(b"n" * 16, b"h" * 32, retired_sm4_keys=[b"n" * 16])


def test_keys_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(InvalidInput, match="16 bytes, not 15"):
        Keyring(bytes(15), bytes(32))
    with pytest.raises(InvalidInput, match="at least 16 bytes"):
        Keyring(bytes(16), bytes(8))


def test_keyed_hash_is_hex_sm3_and_separates_kinds() -> None:
    digest = FIXED.keyed_hash("id", "35020319900101123X")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest != FIXED.keyed_hash("phone", "35020319900101123X")
    assert digest != Keyring(bytes(range(16)), bytes(32)).keyed_hash("id", "35020319900101123X")


def test_keyed_hash_is_hmac_sm3_of_the_documented_message() -> None:
    message = b"fundwall/keyed-hash/v1\x00id\x0035020319900101123X"
    expected = hmac.new(bytes(range(32)), message, lambda: hashlib.new("sm3")).hexdigest()
    assert FIXED.keyed_hash("id", "35020319900101123x") == expected


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("id", "35020319900101123x", "350203 19900101 123X"),
        ("id", "３５０２０３１９９００１０１１２３Ｘ", "35020319900101123X"),
        ("phone", "+86 138-1234-5678", "13812345678"),
        ("phone", "008613812345678", "13812345678"),
        ("name", " zhang san ", "ZHANGSAN"),
    ],
)
def test_keyed_hash_normalises_spelling(kind: str, a: str, b: str) -> None:
    assert FIXED.keyed_hash(kind, a) == FIXED.keyed_hash(kind, b)


def test_country_code_is_only_dropped_from_phone_numbers() -> None:
    assert normalise("phone", "8613812345678") == "13812345678"
    assert normalise("account", "8613812345678") == "8613812345678"


def test_keyed_hash_refuses_bad_kind_and_empty_value() -> None:
    with pytest.raises(InvalidInput, match="hash kind"):
        FIXED.keyed_hash("ID number", "x")
    with pytest.raises(InvalidInput, match="nothing to hash"):
        FIXED.keyed_hash("phone", " - ")


def test_key_files_are_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    keys = tmp_path / "var" / "keys"
    Keyring.load(keys)
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in (SM4_KEY_FILE, HMAC_KEY_FILE):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    assert sorted(path.name for path in keys.iterdir()) == [HMAC_KEY_FILE, SM4_KEY_FILE]


def test_keyed_hash_is_stable_across_restarts_and_differs_between_deployments(
    tmp_path: Path,
) -> None:
    first = Keyring.load(tmp_path / "a")
    digest = first.keyed_hash("id", "35020319900101123X")
    blob = first.encrypt("张三")
    again = Keyring.load(tmp_path / "a")
    assert again.keyed_hash("id", "35020319900101123X") == digest
    assert again.decrypt(blob) == "张三"
    assert Keyring.load(tmp_path / "b").keyed_hash("id", "35020319900101123X") != digest


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    Keyring.load(tmp_path)
    os.chmod(tmp_path / SM4_KEY_FILE, 0o644)
    with pytest.raises(InvalidInput, match=r"may be read by others \(mode 0644\); run: chmod 600"):
        Keyring.load(tmp_path)


def test_damaged_key_files_are_refused(tmp_path: Path) -> None:
    Keyring.load(tmp_path)
    (tmp_path / HMAC_KEY_FILE).write_text("zz\n")
    with pytest.raises(InvalidInput, match="does not hold hex digits"):
        Keyring.load(tmp_path)
    (tmp_path / HMAC_KEY_FILE).write_text("abcd\n")
    with pytest.raises(InvalidInput, match="holds 2 bytes, expected 32"):
        Keyring.load(tmp_path)


def test_keys_from_configuration_need_no_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FUNDWALL_KEYS__SM4_KEY", bytes(range(16)).hex())
    monkeypatch.setenv("FUNDWALL_KEYS__HMAC_KEY", bytes(range(32)).hex())
    settings = load_settings(data_dir=tmp_path)
    configured = Keyring.from_settings(settings)
    assert configured.keyed_hash("phone", "13812345678") == FIXED.keyed_hash("phone", "13812345678")
    assert configured.decrypt(FIXED.encrypt("x")) == "x"
    assert not (tmp_path / "keys").exists()


def test_keys_from_files_in_the_data_directory_with_configured_retired_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FUNDWALL_KEYS__RETIRED_SM4_KEYS", f'["{bytes(range(16)).hex()}"]')
    keyring = Keyring.from_settings(load_settings(data_dir=tmp_path))
    assert (tmp_path / "keys" / SM4_KEY_FILE).exists()
    assert keyring.decrypt(FIXED.encrypt("old")) == "old"


def test_repr_shows_no_key_material() -> None:
    assert repr(FIXED) == f"Keyring(key_id={FIXED.key_id}, retired=0)"
    assert bytes(range(16)).hex() not in repr(FIXED)


def test_sharing_keys_hash_by_version_and_kind(tmp_path: Path) -> None:
    for version in (1, 2):
        SharingKeys.create(tmp_path, version)
    keys = SharingKeys.load(tmp_path, (1, 2))
    assert keys.current == 2
    same = keys.hash("phone", "+86 138-1234-5678", 1)
    assert same == keys.hash("phone", "13812345678", 1) and same.startswith("v1:")
    assert parse_shared_hash(same)[0] == 1
    assert keys.hash("phone", "13812345678") != same  # v2, another key
    assert keys.hash("id", "13812345678", 1) != same  # another kind
    assert keys.hashes("phone", "13812345678") == (same, keys.hash("phone", "13812345678"))
    with pytest.raises(InvalidInput, match="exists already"):
        SharingKeys.create(tmp_path, 2)
    with pytest.raises(InvalidInput, match="version 3 is missing"):
        SharingKeys.load(tmp_path, (3,))


def test_an_exported_sharing_key_hashes_alike_and_must_be_private(tmp_path: Path) -> None:
    SharingKeys.create(tmp_path, 1)
    keys = SharingKeys.load(tmp_path, (1,))
    exported = tmp_path / "member.key"
    exported.write_text(keys.export(1), encoding="ascii")
    exported.chmod(0o644)
    with pytest.raises(InvalidInput, match="may be read by others"):
        SharingKeys.read_export(exported)
    exported.chmod(0o600)
    member = SharingKeys.read_export(exported)
    assert member.versions == (1,)
    assert member.hash("id", "11010519491231002X") == keys.hash("id", "11010519491231002x")
    exported.write_text("not a key\n", encoding="ascii")
    with pytest.raises(InvalidInput, match="not an exported sharing key"):
        SharingKeys.read_export(exported)
