"""Payload stores: content addressing, encryption at rest, tamper and wrong-key detection."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from catalog import _crypto
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


# --- streamed payloads (GVX2: sealed in segments) -------------------------------------------

SEGMENT = _crypto.SEGMENT
BIG = bytes((i * 7 + i // 251) % 256 for i in range(3 * SEGMENT + 1234))  # 4 segments
BIG_DIGEST = hashlib.sha256(BIG).hexdigest()

# Written by govex before segmented payloads (catalog/_crypto.seal, GVX1), key bytes(range(32)).
OLD_PLAINTEXT = "姓名,身份证号\r\n张三,11010519491231002X\r\n".encode()
OLD_DIGEST = "c6f345ab6389b9a19502372c387074cdc3feed026c1bd35fec7c43eac041cd83"
OLD_SEALED = bytes.fromhex(
    "47565831060402dfaefc1cb1aac255d8a659cb02cd397310a2ab2473e5353b24b4bff9dd154386dfd359d876"
    "17101cecfbcc54c9400d25887ee30e50f1e4873e8af4aac255e5fe7af7473838d5f5797b2369176eff4ce692"
    "efa285eefbb5e8f32b0c2f78dfe0ee82d12c303444902477d95086b4be40b9624c1a146761cddf7bd482da39"
    "8b58d411efa69800")


def _stream(store: PayloadStore, data: bytes, *, step: int = 10_000) -> str:
    with store.create() as out:
        for start in range(0, len(data), step):
            out.write(data[start:start + step])
        digest = out.finish()
        out.commit()
    return digest


def test_a_payload_sealed_whole_by_an_earlier_version_still_opens(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    store.path_for(OLD_DIGEST).parent.mkdir(parents=True)
    store.path_for(OLD_DIGEST).write_bytes(OLD_SEALED)
    assert store.get(OLD_DIGEST) == OLD_PLAINTEXT
    with store.open(OLD_DIGEST) as fh:
        fh.seek(-5, 2)
        assert fh.read() == b"02X\r\n"
    sealed = bytearray(OLD_SEALED)
    sealed[-1] ^= 1
    store.path_for(OLD_DIGEST).write_bytes(bytes(sealed))
    with pytest.raises(PayloadCorrupt, match="fails authentication"):
        store.get(OLD_DIGEST)


def test_new_payloads_are_sealed_in_segments(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    assert _stream(store, BIG) == BIG_DIGEST
    sealed = store.path_for(BIG_DIGEST).read_bytes()
    assert sealed[:4] == b"GVX2"
    assert len(sealed) == _crypto.HEADER_V2 + len(BIG) + 4 * _crypto.TAG
    assert store.put(b"") == hashlib.sha256(b"").hexdigest()
    assert store.get(hashlib.sha256(b"").hexdigest()) == b""


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT])
def test_segment_edges_round_trip(tmp_path: Path, size: int) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    digest = _stream(store, BIG[:size], step=SEGMENT)
    assert store.get(digest) == BIG[:size]


def test_an_open_payload_reads_and_seeks_anywhere(store: PayloadStore) -> None:
    _stream(store, BIG)
    with store.open(BIG_DIGEST) as fh:
        assert fh.seek(0, 2) == len(BIG)
        for at, n in [(SEGMENT - 3, 10), (5, 5), (3 * SEGMENT, 2000), (len(BIG) - 1, 9)]:
            fh.seek(at)
            assert fh.read(n) == BIG[at:at + n]
        fh.seek(0)
        assert fh.read() == BIG


def _segment_at(index: int) -> int:
    return _crypto.HEADER_V2 + index * (SEGMENT + _crypto.TAG)


@pytest.mark.parametrize(("change", "when"), [
    ("flip a byte of segment 1", "read"),
    ("swap segments 0 and 1", "read"),
    ("cut after segment 2", "open"),
    ("cut inside the last tag", "open"),
    ("append a copy of segment 0", "open"),
    ("flip a byte of the header", "open"),
])
def test_altered_segments_are_detected(tmp_path: Path, change: str, when: str) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    _stream(store, BIG)
    path = store.path_for(BIG_DIGEST)
    sealed = bytearray(path.read_bytes())
    one = SEGMENT + _crypto.TAG
    if change.startswith("flip a byte of segment"):
        sealed[_segment_at(1) + 100] ^= 1
    elif change.startswith("swap"):
        first, second = sealed[_segment_at(0):_segment_at(1)], sealed[_segment_at(1):_segment_at(2)]
        sealed[_segment_at(0):_segment_at(2)] = second + first
    elif change == "cut after segment 2":
        del sealed[_segment_at(3):]
    elif change == "cut inside the last tag":
        del sealed[-4:]
    elif change.startswith("append"):
        sealed += sealed[_segment_at(0):_segment_at(0) + one]
    else:
        sealed[30] ^= 1
    path.write_bytes(bytes(sealed))
    if when == "open":
        with pytest.raises(PayloadCorrupt):
            store.open(BIG_DIGEST)
        return
    with store.open(BIG_DIGEST) as fh, pytest.raises(PayloadCorrupt, match="altered"):
        fh.read()


def test_a_streamed_payload_moved_to_another_address_fails_at_open(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    _stream(store, BIG)
    store.put(PAYLOAD)
    store.path_for(DIGEST).write_bytes(store.path_for(BIG_DIGEST).read_bytes())
    with pytest.raises(PayloadCorrupt, match="moved"):
        store.open(DIGEST)


def _left_behind(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_an_uncommitted_or_failed_payload_leaves_nothing(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    with store.create() as out:
        out.write(BIG)
        digest = out.finish()
    with pytest.raises(RuntimeError), store.create() as out:
        out.write(BIG)
        raise RuntimeError("masking failed halfway")
    assert not store.exists(digest) and _left_behind(tmp_path) == []


def test_a_commit_undone_by_a_later_failure_removes_only_what_it_created(
        store: PayloadStore) -> None:
    store.put(PAYLOAD)
    with pytest.raises(RuntimeError), store.create() as out:
        out.write(PAYLOAD)
        assert out.commit() is False  # already stored: kept whatever happens next
        raise RuntimeError("audit append failed")
    with pytest.raises(RuntimeError), store.create() as out:
        out.write(BIG)
        assert out.commit() is True
        assert store.exists(BIG_DIGEST)
        raise RuntimeError("audit append failed")
    assert store.get(DIGEST) == PAYLOAD and not store.exists(BIG_DIGEST)


def test_a_streamed_file_is_encrypted_and_private(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, key=KEY)
    _stream(store, PAYLOAD * 5000)
    path = store.path_for(hashlib.sha256(PAYLOAD * 5000).hexdigest())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "张三".encode() not in path.read_bytes()
    assert _left_behind(tmp_path) == [path]


# -- sweeping what a crash left behind -------------------------------------------------------

HOUR = 3600.0


def _crashed_store(tmp_path: Path) -> tuple[EncryptedFileStore, dict[str, Path]]:
    """A store as a killed process leaves it: a referenced payload, an unreferenced one, a
    temporary file, and files that are not payloads; every file two hours old."""
    import os
    store = EncryptedFileStore(tmp_path / "payloads", key=KEY)
    kept, orphan = store.put(PAYLOAD), store.put(BIG)
    writer = store.create()
    writer.write(b"half a delivery")  # killed here: never finished nor discarded
    writer._file.close()  # the process dies: the OS closes the file, nothing removes it
    files = {"kept": store.path_for(kept), "orphan": store.path_for(orphan),
             "temp": next((store.root / ".incoming").glob(".tmp-*")),
             "not a digest": store.root / "ab" / "cd" / "notes.txt",
             "misplaced": store.root / "00" / "00" / orphan}
    for name in ("not a digest", "misplaced"):
        files[name].parent.mkdir(parents=True, exist_ok=True)
        files[name].write_bytes(b"x")
    for path in files.values():
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 2 * HOUR))
    return store, files


@pytest.mark.parametrize(("older_than", "removed"), [
    (HOUR, {"orphan", "temp"}),            # old enough: what no record refers to goes
    (3 * HOUR, set()),                     # younger than the limit: may be a running job
])
def test_sweep_removes_only_old_unreferenced_payloads_and_temp_files(
        tmp_path: Path, older_than: float, removed: set[str]) -> None:
    store, files = _crashed_store(tmp_path)
    swept = store.sweep({DIGEST}.__contains__, older_than=older_than)
    assert (swept.temporary_files, swept.unreferenced_payloads) == \
        (int("temp" in removed), int("orphan" in removed))
    assert {name for name, path in files.items() if not path.exists()} == removed
    assert store.get(DIGEST) == PAYLOAD


def test_sweep_spares_a_payload_reused_since(tmp_path: Path) -> None:
    store, files = _crashed_store(tmp_path)
    with store.create() as out:  # a new dataset with the orphan's content
        out.write(BIG)
        out.finish()
        assert out.commit() is False
    store.sweep({DIGEST}.__contains__, older_than=HOUR)  # its record not yet visible
    assert store.get(BIG_DIGEST) == BIG


def test_sweep_of_a_store_never_written(tmp_path: Path) -> None:
    swept = EncryptedFileStore(tmp_path / "none", key=KEY).sweep(lambda d: False)
    assert (swept.temporary_files, swept.unreferenced_payloads) == (0, 0)
