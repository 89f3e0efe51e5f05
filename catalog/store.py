"""Content-addressed payload storage: files named by the SHA-256 of their plaintext.

:class:`EncryptedFileStore` keeps each payload encrypted at rest (AES-256-GCM, a data key per
file wrapped by the store key); :class:`MemoryPayloadStore` is the in-memory one for tests.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from . import _crypto
from .errors import PayloadCorrupt, PayloadMissing

__all__ = ["PayloadStore", "EncryptedFileStore", "MemoryPayloadStore", "digest_of"]

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


def _require_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise PayloadMissing("not a SHA-256 hex digest")
    return digest


class EncryptedFileStore:
    """Encrypted payload files under ``root``, at ``root/ab/cd/<digest>``, mode 0600.

    Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a reader
    never sees half a file. ``key`` is 32 bytes (AES-256); raises ValueError otherwise.
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
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_atomically(path, _crypto.seal(self._key, data, aad=digest.encode()))
        return digest

    def get(self, digest: str) -> bytes:
        """The plaintext stored under ``digest``, checked against it.

        Raises PayloadMissing (no such payload), PayloadCorrupt (altered, wrong key, mismatch).
        """
        try:
            sealed = self.path_for(digest).read_bytes()
        except FileNotFoundError:
            raise PayloadMissing(f"no payload {digest}") from None
        data = _crypto.unseal(self._key, sealed, aad=digest.encode())
        if digest_of(data) != digest:
            raise PayloadCorrupt(f"payload {digest} does not match its digest")
        return data

    def exists(self, digest: str) -> bool:
        """Whether a payload file exists under ``digest`` (malformed digests: False)."""
        try:
            return self.path_for(digest).is_file()
        except PayloadMissing:
            return False


def _write_atomically(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
