"""The only module that calls Ed25519 primitives directly (pyca/cryptography)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import InvalidFormat, SignatureInvalid

__all__ = ["Ed25519PrivateKey", "Ed25519PublicKey", "sign", "verify", "public_bytes",
           "load_public_key", "PUBLIC_KEY_SIZE", "SIGNATURE_SIZE"]

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


def sign(private_key: Ed25519PrivateKey, message: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``message``."""
    return private_key.sign(message)


def verify(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    """Check an Ed25519 signature. Raises SignatureInvalid if it does not verify."""
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        raise SignatureInvalid("the Ed25519 signature does not verify") from None


def public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte encoding of ``public_key``."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def load_public_key(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes. Raises InvalidFormat if malformed."""
    if len(raw) != PUBLIC_KEY_SIZE:
        raise InvalidFormat(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidFormat("not an Ed25519 public key") from exc
