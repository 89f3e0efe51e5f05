"""The exchange's raw cryptography, in one place: key derivation, Ed25519 keys at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["load_or_create_master_key", "master_from_secret", "derive", "new_signing_key",
           "encrypt_private_key", "decrypt_private_key", "public_raw", "public_from_raw",
           "b64url", "unb64url", "jwk_thumbprint", "keyed_hash", "seal", "unseal",
           "new_webhook_secret", "webhook_signature"]


def load_or_create_master_key(path: Path) -> bytes:
    """Read the 32-byte master key from ``path``, creating it (mode 0600) when absent."""
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != 32:
            raise ValueError(f"{path} does not hold a 32-byte key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    return key


def master_from_secret(secret: str) -> bytes:
    """A master key from the operator's ``GOVEX_SECRET`` (must be at least 16 characters)."""
    if len(secret) < 16:
        raise ValueError("GOVEX_SECRET must be at least 16 characters")
    return hashlib.sha256(b"govex master key\x00" + secret.encode()).digest()


def derive(master: bytes, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` (HKDF-SHA-256), independent of every other purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"govex:" + purpose.encode()).derive(master)


def keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA-256 hex of ``text``: a stable name for it that nobody without ``key`` can
    reverse, even for guessable texts such as IPv4 addresses."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def seal(key: bytes, text: str, *, context: str) -> str:
    """``text`` encrypted with AES-256-GCM under ``key``, bound to ``context`` (a row's id:
    a sealed value copied to another row does not open); base64url of nonce and ciphertext."""
    nonce = secrets.token_bytes(12)
    return b64url(nonce + AESGCM(key).encrypt(nonce, text.encode(), context.encode()))


def unseal(key: bytes, sealed: str, *, context: str) -> str:
    """The text :func:`seal` encrypted (raises cryptography's InvalidTag when tampered)."""
    raw = unb64url(sealed)
    return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of the Standard Webhooks specification: ``v1,`` and
    the base64 HMAC-SHA-256, under the secret's bytes, of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def new_signing_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 key."""
    return Ed25519PrivateKey.generate()


def encrypt_private_key(key: Ed25519PrivateKey, password: bytes) -> str:
    """PKCS#8 PEM encrypted with the best available scheme."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(password)).decode()


def decrypt_private_key(pem: str, password: bytes) -> Ed25519PrivateKey:
    """Raises ValueError for a wrong password or a key of another type."""
    key = serialization.load_pem_private_key(pem.encode(), password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("stored signing key is not Ed25519")
    return key


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of the public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(raw: bytes) -> Ed25519PublicKey:
    """Raises ValueError for a wrong length."""
    return Ed25519PublicKey.from_public_bytes(raw)


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url. Raises ValueError."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_thumbprint(x: str) -> str:
    """RFC 7638 thumbprint of an Ed25519 OKP key with public value ``x``."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"),
                           sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())
