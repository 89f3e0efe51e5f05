"""Checkpoints (C2SP tlog-checkpoint) in signed notes (C2SP signed-note) with Ed25519.

A checkpoint is three lines: the log's origin, its size in decimal, its root hash in base64.
A signed note is that text, a blank line, and signature lines ``— <name> <base64>`` (U+2014 EM
DASH), where the base64 holds a 4-byte key id and the 64-byte Ed25519 signature of the text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import _crypto
from ._crypto import Ed25519PrivateKey, Ed25519PublicKey
from .errors import InvalidFormat, SignatureInvalid

__all__ = ["Checkpoint", "NoteSigner", "NoteVerifier", "open_checkpoint", "pick_verifier"]

ALG_ED25519 = 0x01
KEY_ID_SIZE = 4
MAX_SIGNATURES = 100
_DASH = "\u2014 "
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (padding required, no stray characters).
    Raises InvalidFormat if ``text`` is not."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise InvalidFormat(f"{what} is not base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise InvalidFormat(f"{what} is not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# -- checkpoint body ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement "the log ``origin`` has ``size`` entries with root ``root_hash``".

    ``extensions`` are optional extra lines after the root; they are kept, not interpreted.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Raises InvalidFormat if a field cannot appear in a checkpoint."""
        if not self.origin or "\n" in self.origin:
            raise InvalidFormat("a checkpoint origin is one non-empty line")
        if self.size < 0:
            raise InvalidFormat("a checkpoint size is not negative")
        if len(self.root_hash) != 32:
            raise InvalidFormat("a checkpoint root hash has 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise InvalidFormat("a checkpoint extension is one non-empty line")

    def to_text(self) -> str:
        """The checkpoint's note text, ending in a newline."""
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text. Raises InvalidFormat if it is malformed."""
        if not text.endswith("\n"):
            raise InvalidFormat("a checkpoint ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidFormat("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise InvalidFormat(f"checkpoint size {size!r} is not a decimal number")
        return cls(origin, int(size), _b64decode(root, "the root hash"), tuple(extensions))

    @classmethod
    def unverified(cls, note: str) -> Checkpoint:
        """The checkpoint a signed note carries, its signatures NOT checked: only to plan
        what to fetch (how many entries); :func:`open_checkpoint` is what verifies. Raises
        SignatureInvalid or InvalidFormat if the note is malformed."""
        return cls.from_text(_split_note(note)[0])


# -- signed notes -------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise InvalidFormat(f"key name {name!r} must be non-empty, without spaces or '+'")


def _check_text(text: str) -> None:
    """Raises InvalidFormat unless ``text`` can be the text of a signed note."""
    if not text.endswith("\n"):
        raise InvalidFormat("a note's text ends with a newline")
    if any(ch < " " and ch != "\n" for ch in text):
        raise InvalidFormat("a note's text has no control characters")


def _key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key)
    return digest.digest()[:KEY_ID_SIZE]


class NoteSigner:
    """Signs note texts as ``name`` with an Ed25519 private key."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        """Raises InvalidFormat if ``name`` is not a valid key name."""
        _check_name(name)
        self.name = name
        self._private_key = private_key
        self._public = _crypto.public_bytes(private_key.public_key())
        self.key_id = _key_id(name, self._public)

    @property
    def verifier_key(self) -> str:
        """The C2SP verifier key ``name+keyid+base64(0x01 ‖ public key)``."""
        encoded = _b64(bytes([ALG_ED25519]) + self._public)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @property
    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.name, self._private_key.public_key())

    def sign(self, text: str) -> str:
        """The signed note: ``text``, a blank line, one signature line.
        Raises InvalidFormat if ``text`` is empty, lacks its final newline or has controls."""
        _check_text(text)
        signature = _crypto.sign(self._private_key, text.encode())
        return f"{text}\n{_DASH}{self.name} {_b64(self.key_id + signature)}\n"


class NoteVerifier:
    """Checks that a note carries a valid signature from one named Ed25519 key."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        """Raises InvalidFormat if ``name`` is not a valid key name."""
        _check_name(name)
        self.name = name
        self._public_key = public_key
        self.key_id = _key_id(name, _crypto.public_bytes(public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Build from a C2SP verifier key. Raises InvalidFormat if it is malformed, not
        Ed25519, or its key id does not match its key."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _HEX_KEY_ID.fullmatch(parts[1]):
            raise InvalidFormat("a verifier key reads name+keyid+key")
        name, key_id, encoded = parts
        raw = _b64decode(encoded, "the verifier key")
        if not raw or raw[0] != ALG_ED25519:
            raise InvalidFormat("the verifier key is not an Ed25519 key")
        verifier = cls(name, _crypto.load_public_key(raw[1:]))
        if verifier.key_id.hex() != key_id:
            raise InvalidFormat("the verifier key's id does not match its key")
        return verifier

    @classmethod
    def from_public_bytes(cls, name: str, raw: bytes) -> NoteVerifier:
        """Build from a key name and a raw 32-byte Ed25519 public key.
        Raises InvalidFormat if either is malformed."""
        return cls(name, _crypto.load_public_key(raw))

    @property
    def verifier_key(self) -> str:
        """This verifier's C2SP verifier key string."""
        raw = bytes([ALG_ED25519]) + _crypto.public_bytes(self._public_key)
        return f"{self.name}+{self.key_id.hex()}+{_b64(raw)}"

    def verify(self, note: str) -> str:
        """Return the note's text if it has a valid signature from this key.

        Raises SignatureInvalid if the note is malformed, has no signature from this key,
        or this key's signature does not verify.
        """
        text, lines = _split_note(note)
        for name, raw in (_parse_signature_line(line) for line in lines):
            if name == self.name and raw[:KEY_ID_SIZE] == self.key_id:
                _crypto.verify(self._public_key, raw[KEY_ID_SIZE:], text.encode())
                return text
        raise SignatureInvalid(f"the note has no signature by {self.name}+{self.key_id.hex()}")


def _split_note(note: str) -> tuple[str, list[str]]:
    """The note's text and its signature lines. Raises SignatureInvalid if malformed."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise SignatureInvalid("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    try:
        _check_text(text)
    except InvalidFormat as exc:
        raise SignatureInvalid(f"malformed note: {exc}") from None
    lines = block[:-1].split("\n") if block else []
    if not lines or len(lines) > MAX_SIGNATURES:
        raise SignatureInvalid("malformed note: no signature lines (— name signature)")
    return text, lines


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    """``— name base64`` → (name, key id ‖ signature). Raises SignatureInvalid if malformed."""
    if not line.startswith(_DASH):
        raise SignatureInvalid("malformed note: a signature line starts with '— ' (U+2014)")
    fields = line[len(_DASH) :].split(" ")
    if len(fields) != 2 or not fields[0]:
        raise SignatureInvalid("malformed note: a signature line is '— name signature'")
    try:
        raw = _b64decode(fields[1], "a signature")
    except InvalidFormat as exc:
        raise SignatureInvalid(f"malformed note: {exc}") from None
    if len(raw) <= KEY_ID_SIZE:
        raise SignatureInvalid("malformed note: a signature is too short")
    return fields[0], raw


def open_checkpoint(note: str, verifier: NoteVerifier, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and parse it.

    Raises SignatureInvalid if the signature does not verify or (when ``origin`` is given) the
    checkpoint names another log; InvalidFormat if the signed text is not a checkpoint.
    """
    checkpoint = Checkpoint.from_text(verifier.verify(note))
    if origin is not None and checkpoint.origin != origin:
        raise SignatureInvalid(f"the checkpoint is for the log {checkpoint.origin!r}, "
                               f"not {origin!r}")
    return checkpoint


def pick_verifier(note: str, verifiers: Iterable[NoteVerifier]) -> NoteVerifier:
    """The first of ``verifiers`` whose signature on ``note`` verifies: for a checkpoint signed
    by a key that has been retired since.

    Raises SignatureInvalid if none of them signed the note.
    """
    candidates = list(verifiers)
    for verifier in candidates:
        try:
            verifier.verify(note)
        except SignatureInvalid:
            continue
        return verifier
    names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in candidates) or "no key"
    raise SignatureInvalid(f"the note is signed by none of the keys given ({names})")
