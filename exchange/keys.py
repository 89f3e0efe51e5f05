"""The exchange's keys: the master key, derived keys, and the Ed25519 signing keys.

The signing key signs delivery receipts (JWS) and audit checkpoints (signed notes). Private keys
are stored only as encrypted PKCS#8; retired public keys stay published so that old receipts
still verify after a rotation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import _crypto
from .models import signing_keys

__all__ = ["MasterKey", "SigningKeys", "ActiveKey", "PublicKey"]


class MasterKey:
    """The instance's root secret; every other secret is derived from it for one purpose."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def load(cls, *, secret: str | None, home: Path) -> MasterKey:
        """From ``GOVEX_SECRET`` when set, else from ``home/master.key`` (created, 0600)."""
        if secret:
            return cls(_crypto.master_from_secret(secret))
        return cls(_crypto.load_or_create_master_key(home / "master.key"))

    def derive(self, purpose: str) -> bytes:
        """32 bytes for ``purpose`` ("payload-store", "signing-keys", "pseudonym:civil"...)."""
        return _crypto.derive(self._key, purpose)

    def pseudonym_key(self, department: str) -> bytes:
        """The HMAC key of one receiving department's pseudonyms (never delivered)."""
        return self.derive(f"pseudonym:{department}")


class ActiveKey:
    """The signing key in use: its id and the private key (kept in memory only)."""

    def __init__(self, kid: str, private_key: Ed25519PrivateKey) -> None:
        self.kid = kid
        self.private_key = private_key


@dataclasses.dataclass(frozen=True)
class PublicKey:
    """A signing key's public half: its ``kid``, ``status`` (active or retired) and the raw
    32-byte Ed25519 key."""

    kid: str
    status: str
    raw: bytes


class SigningKeys:
    """Ed25519 signing keys stored encrypted in ``exchange_signing_keys``.

    The active key is cached (decrypting it costs a key derivation), but which key is active
    is read from the database at every use (one indexed read), so a rotation made by another
    process (``govex keys rotate``, another server) counts before the next entry, checkpoint
    or receipt this process signs. ``recheck_seconds`` trades that for fewer reads.
    """

    def __init__(self, master: MasterKey, *, recheck_seconds: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._password = master.derive("signing-keys").hex().encode()
        self._cache: ActiveKey | None = None
        self._checked = 0.0
        self._recheck = recheck_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def ensure(self, conn: sa.Connection, *, now: dt.datetime) -> ActiveKey:
        """The active key, creating the first one if there is none."""
        row = conn.execute(sa.select(signing_keys).where(signing_keys.c.status == "active")).first()
        if row is None:
            return self._create(conn, now=now)
        return self._load(row)

    def active(self, engine: sa.Engine) -> ActiveKey:
        """The active key: cached, and re-read when another process has rotated it (checked at
        most every ``recheck_seconds``). Raises LookupError if none exists."""
        with self._lock:
            now = self._clock()
            if self._cache is not None and now - self._checked < self._recheck:
                return self._cache
            with engine.connect() as conn:
                kid = conn.execute(sa.select(signing_keys.c.kid).where(
                    signing_keys.c.status == "active")).scalar()
                if kid is None:
                    raise LookupError("no signing key: run 'govex init'")
                if self._cache is None or self._cache.kid != kid:
                    row = conn.execute(sa.select(signing_keys).where(
                        signing_keys.c.kid == kid)).one()
                    self._cache = self._load(row)
            self._checked = now
            return self._cache

    def rotate(self, conn: sa.Connection, *, now: dt.datetime) -> ActiveKey:
        """Retire the active key (still published) and create a new one."""
        conn.execute(signing_keys.update().where(signing_keys.c.status == "active")
                     .values(status="retired", retired_at=now))
        with self._lock:
            self._cache = None
        return self._create(conn, now=now)

    def jwks(self, conn: sa.Connection) -> dict:
        """The JSON Web Key Set of every key, active first, retired ones kept."""
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": r.public_key, "kid": r.kid,
                          "alg": "EdDSA", "use": "sig"} for r in self._published(conn)]}

    def public_keys(self, conn: sa.Connection) -> list[PublicKey]:
        """Every key's public half, active first, then retired ones, newest first."""
        return [PublicKey(r.kid, r.status, _crypto.unb64url(r.public_key))
                for r in self._published(conn)]

    def _published(self, conn: sa.Connection) -> list[sa.Row]:
        return list(conn.execute(sa.select(signing_keys.c.kid, signing_keys.c.public_key,
                                           signing_keys.c.status).order_by(
            signing_keys.c.status, signing_keys.c.created_at.desc())))

    def _create(self, conn: sa.Connection, *, now: dt.datetime) -> ActiveKey:
        key = _crypto.new_signing_key()
        x = _crypto.b64url(_crypto.public_raw(key))
        kid = _crypto.jwk_thumbprint(x)
        conn.execute(signing_keys.insert().values(
            kid=kid, public_key=x, private_pem=_crypto.encrypt_private_key(key, self._password),
            status="active", created_at=now))
        return ActiveKey(kid, key)

    def _load(self, row: sa.Row) -> ActiveKey:
        return ActiveKey(row.kid, _crypto.decrypt_private_key(row.private_pem, self._password))
