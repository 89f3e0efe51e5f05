"""Delivery receipts: a compact JWS (RFC 7515, EdDSA/Ed25519 per RFC 8037) over the manifest.

joserfc marks ``EdDSA`` as deprecated in favour of RFC 9864's ``Ed25519``; the issue asks for
``EdDSA`` (what most JOSE libraries verify today), so the warning is silenced right here only.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet, OKPKey

__all__ = ["sign_receipt", "verify_receipt", "ReceiptInvalid"]


class ReceiptInvalid(ValueError):
    """The receipt does not verify, or does not match the delivered bytes."""


def sign_receipt(manifest: dict[str, Any], *, kid: str, private_key: Ed25519PrivateKey) -> str:
    """Compact JWS over the JSON manifest, header ``{"alg": "EdDSA", "kid": kid}``."""
    payload = json.dumps(manifest, ensure_ascii=False, sort_keys=True,
                         separators=(",", ":")).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return jws.serialize_compact({"alg": "EdDSA", "kid": kid, "typ": "govex-receipt+jws"},
                                     payload, OKPKey.import_key(private_key),
                                     algorithms=["EdDSA"])


def verify_receipt(token: str, *, jwks: dict[str, Any], data: bytes | None = None) -> dict:
    """Verify ``token`` against the key set and, when given, that ``data`` is what it covers.

    Returns the manifest. Raises ReceiptInvalid saying what failed.
    """
    try:
        keyset = KeySet.import_key_set(jwks)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            obj = jws.deserialize_compact(token.strip(), keyset, algorithms=["EdDSA"])
        manifest = json.loads(obj.payload)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise ReceiptInvalid(f"receipt signature does not verify: {exc}") from exc
    if data is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != manifest.get("sha256"):
            raise ReceiptInvalid(
                f"file does not match the receipt: sha256 {digest} != {manifest.get('sha256')}")
    return manifest
