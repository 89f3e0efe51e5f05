"""Envelope encryption of payloads with AES-256-GCM (private: use :mod:`catalog.store`).

Layout of a sealed payload (all lengths fixed)::

    b"GVX1" | key nonce (12) | wrapped data key (32 + 16 tag) | data nonce (12) | ciphertext+tag

A fresh 256-bit data key per payload is wrapped by the store's key; both layers take the
caller's associated data (the plaintext digest), so a file moved to another address fails to open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import PayloadCorrupt

__all__ = ["KEY_BYTES", "check_key", "seal", "unseal"]

KEY_BYTES = 32
_MAGIC = b"GVX1"
_NONCE = 12
_TAG = 16
_WRAPPED = KEY_BYTES + _TAG
_HEADER = len(_MAGIC) + _NONCE + _WRAPPED + _NONCE


def check_key(key: bytes) -> None:
    """Raises ValueError unless ``key`` is 32 bytes (AES-256)."""
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError("the payload key must be 32 bytes")


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """``plaintext`` encrypted under a fresh data key that ``key`` wraps."""
    data_key = AESGCM.generate_key(bit_length=256)
    key_nonce, data_nonce = os.urandom(_NONCE), os.urandom(_NONCE)
    wrapped = AESGCM(key).encrypt(key_nonce, data_key, b"govex-data-key|" + aad)
    body = AESGCM(data_key).encrypt(data_nonce, plaintext, aad)
    return b"".join((_MAGIC, key_nonce, wrapped, data_nonce, body))


def unseal(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    """The plaintext of ``sealed``. Raises PayloadCorrupt (altered, truncated, wrong key or aad)."""
    if len(sealed) < _HEADER + _TAG or not sealed.startswith(_MAGIC):
        raise PayloadCorrupt("stored payload is truncated or not a govex payload")
    at = len(_MAGIC)
    key_nonce, at = sealed[at:at + _NONCE], at + _NONCE
    wrapped, at = sealed[at:at + _WRAPPED], at + _WRAPPED
    data_nonce, body = sealed[at:at + _NONCE], sealed[at + _NONCE:]
    try:
        data_key = AESGCM(key).decrypt(key_nonce, wrapped, b"govex-data-key|" + aad)
        return AESGCM(data_key).decrypt(data_nonce, body, aad)
    except InvalidTag as exc:
        raise PayloadCorrupt("stored payload fails authentication: altered, or another key") \
            from exc
