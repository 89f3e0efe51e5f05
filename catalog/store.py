"""Content-addressed payload storage: files named by the SHA-256 of their plaintext.

:class:`EncryptedFileStore` keeps each payload encrypted at rest (AES-256-GCM, a data key per
file wrapped by the store key, sealed in segments so that neither writing nor reading needs the
whole payload in memory); :class:`MemoryPayloadStore` is the in-memory one for tests.

A payload too large for memory is written through :meth:`PayloadStore.create` and becomes
visible only when committed, so a job that fails halfway leaves nothing behind::

    with store.create() as out:          # leaving on an exception removes what was written
        for block in blocks:
            out.write(block)             # hashed as it is written
        digest = out.finish()            # the SHA-256 of everything written
        with engine.begin() as conn:     # record it; if this fails, the payload goes too
            ...
            out.commit()                 # now stored under ``digest``
    with store.open(digest) as fh:       # a seekable file of the plaintext, read lazily
        fh.read(100)
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, Self, runtime_checkable

from . import _crypto
from .errors import PayloadCorrupt, PayloadMissing

__all__ = ["PayloadStore", "PayloadWriter", "EncryptedFileStore", "MemoryPayloadStore",
           "Swept", "digest_of"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


def digest_of(data: bytes) -> str:
    """The lowercase SHA-256 hex digest of ``data``: a payload's address."""
    return hashlib.sha256(data).hexdigest()


@runtime_checkable
class PayloadStore(Protocol):
    """Where payload bytes live, addressed by the SHA-256 of their plaintext."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its SHA-256 hex digest."""
        ...

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``. Raises PayloadMissing, PayloadCorrupt."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether a payload is stored under ``digest``."""
        ...

    def create(self) -> PayloadWriter:
        """A writer of a new payload, stored only when committed."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """A seekable binary file of the payload's plaintext. Raises PayloadMissing,
        PayloadCorrupt (also while reading)."""
        ...


def _require_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise PayloadMissing("not a SHA-256 hex digest")
    return digest


class PayloadWriter(io.RawIOBase):
    """A payload being written: :meth:`write` bytes (hashed as they go), :meth:`finish` to
    end it and learn its digest, :meth:`commit` to store it under that digest.

    Leaving the ``with`` block uncommitted or on an exception discards it; if :meth:`commit`
    had stored a payload that was not there before, the exception removes that too (the
    record that was to point at it failed). Closing the file (as some writers of table
    formats do) neither finishes nor commits.
    """

    def __init__(self) -> None:
        super().__init__()
        self._sha = hashlib.sha256()
        self.size = 0
        self.digest: str | None = None
        self._committed = self._created = False

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Append ``data``; returns its length. Raises ValueError once finished, OSError."""
        if self.digest is not None:
            raise ValueError("the payload is finished")
        view = memoryview(data).cast("B")
        self._sha.update(view)
        self.size += len(view)
        self._write(view)
        return len(view)

    def finish(self) -> str:
        """End the payload (idempotent); returns the SHA-256 hex digest of what was written.
        It is not stored yet. Raises OSError."""
        if self.digest is None:
            self.digest = self._sha.hexdigest()
            self._finish(self.digest)
        return self.digest

    def commit(self) -> bool:
        """Store the payload under its digest (finishing it first); True when it was not
        stored before. Raises OSError."""
        self.finish()
        if not self._committed:
            self._created = self._commit()
            self._committed = True
        return self._created

    def discard(self) -> None:
        """Forget the payload: what was written, and the stored payload if :meth:`commit`
        created it."""
        self._discard(remove_stored=self._created)
        self._committed = self._created = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None or not self._committed:
            self.discard()
        self.close()

    def _write(self, view: memoryview) -> None:
        raise NotImplementedError

    def _finish(self, digest: str) -> None:
        raise NotImplementedError

    def _commit(self) -> bool:
        raise NotImplementedError

    def _discard(self, *, remove_stored: bool) -> None:
        raise NotImplementedError


class EncryptedFileStore:
    """Encrypted payload files under ``root``, at ``root/ab/cd/<digest>``, mode 0600.

    New payloads are written to ``root/.incoming`` and linked into place when committed, so a
    reader never sees half a file. Payloads sealed whole by earlier versions (``GVX1``) are
    still read (whole, as they were written). ``key`` is 32 bytes (AES-256); raises ValueError
    otherwise.
    """

    def __init__(self, root: Path, *, key: bytes) -> None:
        _crypto.check_key(key)
        self.root = Path(root)
        self._key = key

    def __repr__(self) -> str:
        return f"EncryptedFileStore({str(self.root)!r})"  # never the key

    def path_for(self, digest: str) -> Path:
        """Where the payload ``digest`` lives. Raises PayloadMissing for a malformed digest."""
        _require_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Encrypt and store ``data``; returns its digest. A payload already stored is kept."""
        digest = digest_of(data)
        if not self.path_for(digest).exists():
            with self.create() as out:
                out.write(data)
                out.commit()
        return digest

    def create(self) -> PayloadWriter:
        """A writer of a new payload, sealed segment by segment as it is written.
        Raises OSError."""
        return _SealedWriter(self, self._key)

    def open(self, digest: str) -> BinaryIO:
        """A seekable file of the plaintext under ``digest``, decrypted a segment at a time.

        Raises PayloadMissing, PayloadCorrupt (altered, truncated, wrong key, moved; a segment
        altered further on is raised when read).
        """
        try:
            fh = self.path_for(digest).open("rb")
        except FileNotFoundError:
            raise PayloadMissing(f"no payload {digest}") from None
        try:
            if _crypto.version_of(fh.read(4)) == 1:
                fh.seek(0)
                data = _crypto.unseal(self._key, fh.read(), aad=digest.encode())
                fh.close()
                return _checked(io.BytesIO(data), digest)
            fh.seek(0)
            return io.BufferedReader(_SegmentReader(fh, self._key, digest),
                                     buffer_size=_crypto.SEGMENT)
        except BaseException:
            fh.close()
            raise

    def get(self, digest: str) -> bytes:
        """The plaintext stored under ``digest``, checked against it.

        Raises PayloadMissing (no such payload), PayloadCorrupt (altered, wrong key, mismatch).
        """
        with self.open(digest) as fh:
            data = fh.read()
        if digest_of(data) != digest:
            raise PayloadCorrupt(f"payload {digest} does not match its digest")
        return data

    def exists(self, digest: str) -> bool:
        """Whether a payload file exists under ``digest`` (malformed digests: False)."""
        try:
            return self.path_for(digest).is_file()
        except PayloadMissing:
            return False

    def sweep(self, referenced: Callable[[str], bool], *, older_than: float = 3600.0,
              now: float | None = None) -> Swept:
        """Remove what a crash can leave behind, untouched for ``older_than`` seconds:
        temporary files in ``.incoming`` (a job killed while writing) and payloads for which
        ``referenced(digest)`` is false (killed between storing a payload and committing its
        record). Anything younger is left alone: it may belong to a job still running. Files
        that are not payloads (other names) are never touched. Raises OSError."""
        cutoff = (time.time() if now is None else now) - older_than
        temps = payloads = 0
        incoming = self.root / ".incoming"
        if incoming.is_dir():
            for path in incoming.glob(".tmp-*"):
                if _untouched_since(path, cutoff):
                    path.unlink(missing_ok=True)
                    temps += 1
        for digest, path in self._payload_files():
            if _untouched_since(path, cutoff) and not referenced(digest):
                path.unlink(missing_ok=True)
                payloads += 1
        return Swept(temporary_files=temps, unreferenced_payloads=payloads)

    def _payload_files(self) -> Iterator[tuple[str, Path]]:
        """Every stored payload, at ``root/ab/cd/<digest>`` with ``ab``, ``cd`` its start."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            name = path.name
            if _DIGEST.fullmatch(name) and name[:2] == path.parent.parent.name and \
                    name[2:4] == path.parent.name and path.is_file():
                yield name, path


@dataclass(frozen=True)
class Swept:
    """What :meth:`EncryptedFileStore.sweep` removed."""

    temporary_files: int
    unreferenced_payloads: int


def _untouched_since(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:  # removed meanwhile
        return False


def _checked(fh: io.BytesIO, digest: str) -> io.BytesIO:
    if digest_of(fh.getbuffer()) != digest:
        raise PayloadCorrupt(f"payload {digest} does not match its digest")
    return fh


class _SealedWriter(PayloadWriter):
    """Seals into a temporary file in ``root/.incoming``; linked to its address on commit."""

    def __init__(self, store: EncryptedFileStore, key: bytes) -> None:
        super().__init__()
        self._store = store
        incoming = store.root / ".incoming"
        incoming.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=incoming, prefix=".tmp-")  # mode 0600
        self._temp, self._file = Path(name), os.fdopen(handle, "wb")
        self._sealer = _crypto.SegmentSealer(key)
        self._pending = bytearray()
        self._file.write(self._sealer.header)

    def _write(self, view: memoryview) -> None:
        self._pending += view
        size, at = _crypto.SEGMENT, 0
        while len(self._pending) - at > size:  # the last segment is sealed by _finish
            self._file.write(self._sealer.seal(bytes(self._pending[at:at + size])))
            at += size
        if at:
            del self._pending[:at]

    def _finish(self, digest: str) -> None:
        self._file.write(self._sealer.seal(bytes(self._pending), final_aad=digest.encode()))
        self._pending.clear()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def _commit(self) -> bool:
        path = self._store.path_for(self.digest or "")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.link(self._temp, path)
            created = True
        except FileExistsError:
            created = False
            os.utime(path)  # in use again: young, so a sweep of unreferenced payloads spares it
        except OSError as exc:  # a file system without hard links
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            created = not path.exists()
            if created:
                os.replace(self._temp, path)
            else:
                os.utime(path)  # in use again, as above
        self._temp.unlink(missing_ok=True)
        return created

    def _discard(self, *, remove_stored: bool) -> None:
        self._file.close()
        self._temp.unlink(missing_ok=True)
        if remove_stored and self.digest:
            self._store.path_for(self.digest).unlink(missing_ok=True)


class _SegmentReader(io.RawIOBase):
    """The plaintext of a ``GVX2`` file, read and authenticated a segment at a time.

    The last segment is opened at once: a file moved from another address, truncated or
    extended fails here, before anything is read."""

    def __init__(self, fh: BinaryIO, key: bytes, digest: str) -> None:
        super().__init__()
        self._fh, self._final_aad = fh, digest.encode()
        self._opener = _crypto.SegmentOpener(key, fh.read(_crypto.HEADER_V2))
        body = os.fstat(fh.fileno()).st_size - _crypto.HEADER_V2
        sealed = _crypto.SEGMENT + _crypto.TAG
        self._count = max(1, -(-body // sealed))
        if body - (self._count - 1) * sealed < _crypto.TAG:
            raise PayloadCorrupt("stored payload is truncated or not a govex payload")
        self.size = body - self._count * _crypto.TAG
        self._position = 0
        self._cached: tuple[int, bytes] = (-1, b"")
        self._segment(self._count - 1)

    def _segment(self, index: int) -> bytes:
        if self._cached[0] != index:
            sealed = _crypto.SEGMENT + _crypto.TAG
            self._fh.seek(_crypto.HEADER_V2 + index * sealed)
            last = index == self._count - 1
            plain = self._opener.open(index, self._fh.read(sealed),
                                      final_aad=self._final_aad if last else None)
            self._cached = (index, plain)
        return self._cached[1]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._position >= self.size:
            return 0
        index, offset = divmod(self._position, _crypto.SEGMENT)
        plain = self._segment(index)
        count = min(len(buffer), len(plain) - offset)
        buffer[:count] = plain[offset:offset + count]
        self._position += count
        return count

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise OSError(errno.EINVAL, "negative seek position")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._fh.close()
        super().close()


class MemoryPayloadStore:
    """Payloads in a dict, for tests; same contract as :class:`EncryptedFileStore`."""

    def __init__(self) -> None:
        self._payloads: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its digest."""
        digest = digest_of(data)
        with self._lock:
            self._payloads.setdefault(digest, bytes(data))
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes under ``digest``. Raises PayloadMissing, PayloadCorrupt (if tampered)."""
        try:
            data = self._payloads[_require_digest(digest)]
        except KeyError:
            raise PayloadMissing(f"no payload {digest}") from None
        if digest_of(data) != digest:
            raise PayloadCorrupt(f"payload {digest} does not match its digest")
        return data

    def exists(self, digest: str) -> bool:
        """Whether a payload is stored under ``digest``."""
        return digest in self._payloads

    def create(self) -> PayloadWriter:
        """A writer of a new payload, kept in memory."""
        return _MemoryWriter(self)

    def open(self, digest: str) -> BinaryIO:
        """A file of the bytes under ``digest``. Raises PayloadMissing, PayloadCorrupt."""
        return io.BytesIO(self.get(digest))

    def _add(self, digest: str, data: bytes) -> bool:
        with self._lock:
            created = digest not in self._payloads
            self._payloads.setdefault(digest, data)
        return created

    def _remove(self, digest: str) -> None:
        with self._lock:
            self._payloads.pop(digest, None)


class _MemoryWriter(PayloadWriter):
    def __init__(self, store: MemoryPayloadStore) -> None:
        super().__init__()
        self._store, self._buffer = store, bytearray()

    def _write(self, view: memoryview) -> None:
        self._buffer += view

    def _finish(self, digest: str) -> None:
        pass

    def _commit(self) -> bool:
        return self._store._add(self.digest or "", bytes(self._buffer))

    def _discard(self, *, remove_stored: bool) -> None:
        self._buffer.clear()
        if remove_stored and self.digest:
            self._store._remove(self.digest)
