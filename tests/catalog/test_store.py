"""Payload stores: content addressing, encryption at rest, tamper and wrong-key detection."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from catalog.errors import PayloadCorrupt, PayloadMissing
from catalog.store import EncryptedFileStore, MemoryPayloadStore, PayloadStore

KEY = bytes(range(32))
PAYLOAD = "姓名,身份证号\n张三,11010519491231002X\n".encode()
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PayloadStore:
    if request.param == "file":
        return EncryptedFileStore(tmp_path / "payloads", key=KEY)
    return MemoryPayloadStore()


def test_round_trip_by_sha256_of_the_plaintext(store: PayloadStore) -> None:
    assert isinstance(store, PayloadStore)
    assert not store.exists(DIGEST)
    assert store.put(PAYLOAD) == DIGEST
    assert store.put(PAYLOAD) == DIGEST  # idempotent
    assert store.exists(DIGEST)
    assert store.get(DIGEST) == PAYLOAD


@pytest.mark.parametrize("digest", ["0" * 64, "../" * 20 + "etc", "A" * 64, ""])
def test_missing_or_malformed_digest(store: PayloadStore, digest: str) -> None:
    assert not store.exists(digest)
    with pytest.raises(PayloadMissing):
        store.get(digest)


def test_file_layout_mode_and_encryption(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    store.put(PAYLOAD)
    path = tmp_path / DIGEST[:2] / DIGEST[2:4] / DIGEST
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_bytes()
    assert PAYLOAD not in stored and "张三".encode() not in stored
    assert [p.name for p in path.parent.iterdir()] == [DIGEST]  # no temporary file left


def test_same_plaintext_encrypts_differently_per_store(tmp_path: Path) -> None:
    first = EncryptedFileStore(tmp_path / "a", key=KEY)
    second = EncryptedFileStore(tmp_path / "b", key=KEY)
    first.put(PAYLOAD), second.put(PAYLOAD)
    assert first.path_for(DIGEST).read_bytes() != second.path_for(DIGEST).read_bytes()


@pytest.mark.parametrize("position", [0, 10, 40, 80, -1])
def test_a_flipped_byte_is_detected(tmp_path: Path, position: int) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    store.put(PAYLOAD)
    path = store.path_for(DIGEST)
    sealed = bytearray(path.read_bytes())
    sealed[position] ^= 0x01
    path.write_bytes(bytes(sealed))
    with pytest.raises(PayloadCorrupt):
        store.get(DIGEST)


def test_truncated_file_is_corrupt(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    store.put(PAYLOAD)
    store.path_for(DIGEST).write_bytes(store.path_for(DIGEST).read_bytes()[:30])
    with pytest.raises(PayloadCorrupt, match="truncated"):
        store.get(DIGEST)


def test_wrong_key_is_corrupt(tmp_path: Path) -> None:
    EncryptedFileStore(tmp_path, key=KEY).put(PAYLOAD)
    with pytest.raises(PayloadCorrupt, match="another key"):
        EncryptedFileStore(tmp_path, key=bytes(32)).get(DIGEST)


def test_file_moved_to_another_address_is_corrupt(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    other = store.put(b"other payload")
    store.path_for(DIGEST).parent.mkdir(parents=True, exist_ok=True)
    store.path_for(DIGEST).write_bytes(store.path_for(other).read_bytes())
    with pytest.raises(PayloadCorrupt):
        store.get(DIGEST)


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(33), "k" * 32])
def test_key_must_be_32_bytes(tmp_path: Path, key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptedFileStore(tmp_path, key=key)


def test_repr_does_not_show_the_key(tmp_path: Path) -> None:
    assert KEY.hex() not in repr(EncryptedFileStore(tmp_path, key=KEY))
