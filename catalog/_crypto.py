"""Envelope encryption of payloads with AES-256-GCM (private: use :mod:`catalog.store`).

A fresh 256-bit data key per payload is wrapped by the store's key. Two layouts exist; the
first four bytes say which.

``GVX1`` (written until version 2; still read) seals the whole payload in one AEAD call, so
reading or writing it needs the whole payload in memory::

    b"GVX1" | key nonce (12) | wrapped data key (32 + 16 tag) | data nonce (12) | ciphertext+tag

``GVX2`` is a segmented stream (the STREAM construction of Hoang, Reyhanitabar, Rogaway and
Vizár, laid out as Tink's AES-GCM-HKDF streaming AEAD): the plaintext is cut into segments of
:data:`SEGMENT` bytes (the last one shorter, empty only for an empty payload), each sealed on
its own with the nonce ``prefix (7) | segment index (4, big-endian) | last flag (1)``::

    b"GVX2" | key nonce (12) | wrapped data key (48) | nonce prefix (7) | segment | segment ...

Every segment is authenticated with the header as associated data; the last one also with the
caller's ``final_aad`` (the store gives the plaintext's digest, known only once the stream
ends), so a reordered, truncated or extended file fails, and so does a file moved to another
address. Segments can be opened one at a time, in any order: memory is one segment.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import PayloadCorrupt

__all__ = ["KEY_BYTES", "SEGMENT", "TAG", "HEADER_V2", "check_key", "seal", "unseal",
           "version_of", "SegmentSealer", "SegmentOpener"]

KEY_BYTES = 32
SEGMENT = 64 * 1024  # plaintext bytes per GVX2 segment
TAG = 16
_MAGIC_V1, _MAGIC_V2 = b"GVX1", b"GVX2"
_NONCE = 12
_PREFIX = 7
_MAX_SEGMENTS = 2**32
_WRAPPED = KEY_BYTES + TAG
_HEADER_V1 = len(_MAGIC_V1) + _NONCE + _WRAPPED + _NONCE
HEADER_V2 = len(_MAGIC_V2) + _NONCE + _WRAPPED + _PREFIX
_WRAP_AAD_V2 = b"govex-data-key|GVX2"


def check_key(key: bytes) -> None:
    """Raises ValueError unless ``key`` is 32 bytes (AES-256)."""
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError("the payload key must be 32 bytes")


def version_of(head: bytes) -> int:
    """1 or 2, from a sealed payload's first bytes. Raises PayloadCorrupt for anything else."""
    if head.startswith(_MAGIC_V2):
        return 2
    if head.startswith(_MAGIC_V1):
        return 1
    raise PayloadCorrupt("stored payload is truncated or not a govex payload")


# --- GVX1: one AEAD call over the whole payload ------------------------------------------


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """``plaintext`` sealed whole (``GVX1``) under a fresh data key that ``key`` wraps.
    Kept to write test fixtures of the old layout; the store writes ``GVX2``."""
    data_key = AESGCM.generate_key(bit_length=256)
    key_nonce, data_nonce = os.urandom(_NONCE), os.urandom(_NONCE)
    wrapped = AESGCM(key).encrypt(key_nonce, data_key, b"govex-data-key|" + aad)
    body = AESGCM(data_key).encrypt(data_nonce, plaintext, aad)
    return b"".join((_MAGIC_V1, key_nonce, wrapped, data_nonce, body))


def unseal(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    """The plaintext of a ``GVX1`` payload. Raises PayloadCorrupt (altered, truncated, wrong
    key or aad)."""
    if len(sealed) < _HEADER_V1 + TAG or not sealed.startswith(_MAGIC_V1):
        raise PayloadCorrupt("stored payload is truncated or not a govex payload")
    at = len(_MAGIC_V1)
    key_nonce, at = sealed[at:at + _NONCE], at + _NONCE
    wrapped, at = sealed[at:at + _WRAPPED], at + _WRAPPED
    data_nonce, body = sealed[at:at + _NONCE], sealed[at + _NONCE:]
    try:
        data_key = AESGCM(key).decrypt(key_nonce, wrapped, b"govex-data-key|" + aad)
        return AESGCM(data_key).decrypt(data_nonce, body, aad)
    except InvalidTag as exc:
        raise PayloadCorrupt("stored payload fails authentication: altered, or another key") \
            from exc


# --- GVX2: segments ------------------------------------------------------------------------


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= _MAX_SEGMENTS:
        raise PayloadCorrupt("payload has too many segments")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _segment_aad(header: bytes, final_aad: bytes | None) -> bytes:
    return header if final_aad is None else header + b"|last|" + final_aad


class SegmentSealer:
    """Seals one ``GVX2`` stream: write :attr:`header`, then :meth:`seal` each segment in
    order, the last one with ``final_aad``."""

    def __init__(self, key: bytes) -> None:
        data_key = AESGCM.generate_key(bit_length=256)
        key_nonce, self._prefix = os.urandom(_NONCE), os.urandom(_PREFIX)
        wrapped = AESGCM(key).encrypt(key_nonce, data_key, _WRAP_AAD_V2)
        self.header = b"".join((_MAGIC_V2, key_nonce, wrapped, self._prefix))
        self._aead = AESGCM(data_key)
        self._index = 0

    def seal(self, segment: bytes, *, final_aad: bytes | None = None) -> bytes:
        """The next segment sealed; ``final_aad`` (not None) marks it as the last."""
        last = final_aad is not None
        nonce = _nonce(self._prefix, self._index, last)
        self._index += 1
        return self._aead.encrypt(nonce, segment, _segment_aad(self.header, final_aad))


class SegmentOpener:
    """Opens the segments of one ``GVX2`` stream, given its header. Raises PayloadCorrupt
    (not a GVX2 header, wrong key)."""

    def __init__(self, key: bytes, header: bytes) -> None:
        if len(header) != HEADER_V2 or not header.startswith(_MAGIC_V2):
            raise PayloadCorrupt("stored payload is truncated or not a govex payload")
        at = len(_MAGIC_V2)
        key_nonce, wrapped = header[at:at + _NONCE], header[at + _NONCE:at + _NONCE + _WRAPPED]
        try:
            data_key = AESGCM(key).decrypt(key_nonce, wrapped, _WRAP_AAD_V2)
        except InvalidTag as exc:
            raise PayloadCorrupt("stored payload fails authentication: altered, or another "
                                 "key") from exc
        self.header, self._prefix = header, header[-_PREFIX:]
        self._aead = AESGCM(data_key)

    def open(self, index: int, sealed: bytes, *, final_aad: bytes | None = None) -> bytes:
        """The plaintext of segment ``index``; ``final_aad`` (not None) when it is the last.
        Raises PayloadCorrupt (altered, moved, truncated or reordered)."""
        nonce = _nonce(self._prefix, index, final_aad is not None)
        try:
            return self._aead.decrypt(nonce, sealed, _segment_aad(self.header, final_aad))
        except InvalidTag as exc:
            raise PayloadCorrupt("stored payload fails authentication: altered, truncated "
                                 "or moved") from exc
