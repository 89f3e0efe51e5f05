"""Offline verification: recompute the tree from the entries, check the signed checkpoint, and
check that an earlier checkpoint is a prefix of it. Everything raises; nothing returns False.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import merkle
from .checkpoint import Checkpoint, NoteVerifier, open_checkpoint, pick_verifier
from .errors import (
    InvalidEvent,
    InvalidFormat,
    LogInconsistent,
    ProofInvalid,
    SignatureInvalid,
)
from .events import canonical_bytes

__all__ = ["VerifiedLog", "verify_log", "verify_entry", "EvidenceBundle", "EVIDENCE_FORMAT",
           "signer_first"]

EVIDENCE_FORMAT = "govex-evidence/2"


@dataclass(frozen=True)
class VerifiedLog:
    """A log that verified: ``size`` entries with ``root_hash``, as signed."""

    size: int
    root_hash: bytes


def verify_log(entries: Iterable[Mapping[str, Any] | bytes], *, checkpoint: str,
               verifier: NoteVerifier, old_checkpoint: str | None = None,
               old_consistency_proof: Sequence[bytes] | None = None,
               origin: str | None = None,
               old_verifier: NoteVerifier | None = None) -> VerifiedLog:
    """Check that ``entries`` (every entry, in order: JSON objects, or their canonical bytes as
    logged) are exactly the log ``checkpoint`` signs and, given ``old_checkpoint`` (kept from
    an earlier check), that the log only grew since.
    ``old_consistency_proof``, if the server supplied one, must verify as well;
    ``old_verifier`` checks the old checkpoint when the signing key was rotated since.

    Raises SignatureInvalid if a checkpoint is not signed by ``verifier`` (or is for another
    ``origin``); InvalidFormat if a signed text is not a checkpoint; LogInconsistent for
    rollback, truncation, an altered, removed or reordered entry, or rewritten history.
    """
    new = open_checkpoint(checkpoint, verifier, origin=origin)
    old = open_checkpoint(old_checkpoint, old_verifier or verifier, origin=new.origin) \
        if old_checkpoint else None
    if old is not None and old.size > new.size:
        raise LogInconsistent(f"rollback: the checkpoint covers {new.size} entries but an "
                              f"earlier checkpoint already covered {old.size}: the log was "
                              f"rolled back or truncated since")
    tree, old_root = _rebuild(entries, old.size if old is not None else None)
    _check_against(tree, new)
    if old is not None:
        _check_prefix(old, old_root, new, old_consistency_proof)
    return VerifiedLog(size=new.size, root_hash=new.root_hash)


def verify_entry(entry: Mapping[str, Any], *, index: int, proof: Sequence[bytes],
                 checkpoint: str, verifier: NoteVerifier,
                 origin: str | None = None) -> Checkpoint:
    """Check that ``entry`` is entry ``index`` of the log that ``checkpoint`` signs, by its
    inclusion ``proof`` (the evidence a delivery hands the requester). Returns the checkpoint.

    Raises SignatureInvalid if the checkpoint is not signed by ``verifier`` (or names another
    ``origin``); InvalidFormat if it is not a checkpoint; LogInconsistent if the entry has no
    canonical form; ProofInvalid if the proof does not lead from the entry to the signed root.
    """
    signed = open_checkpoint(checkpoint, verifier, origin=origin)
    leaf = merkle.leaf_hash(_entry_bytes(index, entry))
    merkle.verify_inclusion(index=index, size=signed.size, leaf_hash=leaf, proof=proof,
                            root=signed.root_hash)
    return signed


def _rebuild(entries: Iterable[Mapping[str, Any] | bytes],
             prefix: int | None) -> tuple[merkle.CompactRange, bytes | None]:
    """The tree of ``entries`` and the root of its first ``prefix`` entries (None if fewer)."""
    tree = merkle.CompactRange()
    leaves = (entry if type(entry) is bytes else _entry_bytes(index, entry)
              for index, entry in enumerate(entries))
    if prefix is None:
        tree.extend(leaves)
        return tree, None
    tree.extend(itertools.islice(leaves, prefix))
    prefix_root = tree.root() if tree.size == prefix else None
    tree.extend(leaves)
    return tree, prefix_root


def _entry_bytes(index: int, entry: Mapping[str, Any] | bytes) -> bytes:
    if isinstance(entry, (bytes, bytearray, memoryview)):
        return bytes(entry)
    if not isinstance(entry, Mapping):
        raise LogInconsistent(f"entry {index} is not a JSON object: it was altered")
    try:
        return canonical_bytes(entry)
    except InvalidEvent as exc:
        raise LogInconsistent(f"entry {index} has no canonical form: it was altered") from exc


def _check_against(tree: merkle.CompactRange, signed: Checkpoint) -> None:
    """Raises LogInconsistent unless the rebuilt tree is the one ``signed`` covers."""
    if tree.size < signed.size:
        raise LogInconsistent(f"the log has {tree.size} entries but the checkpoint covers "
                              f"{signed.size}: entries were deleted (truncation)")
    if tree.size > signed.size:
        raise LogInconsistent(f"the log has {tree.size} entries but the checkpoint covers "
                              f"only {signed.size}: entries were added without a signature")
    if tree.root() != signed.root_hash:
        raise LogInconsistent("root mismatch: an entry was altered, removed or reordered "
                              "(the entries do not hash to the signed root)")


def _check_prefix(old: Checkpoint, old_root: bytes | None, new: Checkpoint,
                  proof: Sequence[bytes] | None) -> None:
    """Raises LogInconsistent unless ``old`` is a prefix of ``new``."""
    if old_root != old.root_hash:
        raise LogInconsistent(f"history rewritten: the first {old.size} entries no longer "
                              f"match the earlier checkpoint (a forked log)")
    if proof is None or old.size == 0:
        return
    try:
        merkle.verify_consistency(old_size=old.size, new_size=new.size, old_root=old.root_hash,
                                  new_root=new.root_hash, proof=proof)
    except ProofInvalid as exc:
        raise LogInconsistent(f"history rewritten: the consistency proof from {old.size} to "
                              f"{new.size} entries does not verify ({exc}), so the earlier "
                              f"checkpoint is not a prefix of this log") from exc


def signer_first(note: str, vkeys: Sequence[str]) -> list[str]:
    """The published ``vkeys`` once each, the one that signed ``note`` first (the order given
    if none did, or a key is malformed: verifying the bundle then says so). For an export
    that fetched the checkpoint just before a key rotation, whose signer is no longer the
    active key: ``vkey, *retired = signer_first(note, published)``."""
    unique = list(dict.fromkeys(vkeys))
    verifiers = []
    for vkey in unique:
        try:
            verifiers.append(NoteVerifier.from_vkey(vkey))
        except InvalidFormat:
            continue
    try:
        signer = pick_verifier(note, verifiers).verifier_key
    except (SignatureInvalid, InvalidFormat):
        return unique
    return [signer, *(v for v in unique if v != signer)]


# -- evidence bundles ---------------------------------------------------------------------
#
# Format 2 is JSON Lines: a header object, then one line per entry holding the exact bytes the
# log hashed (RFC 8785 canonical JSON escapes every control character, so an entry never holds
# a newline byte). A verifier hashes each line as it is: no JSON parsing of the entries, no
# re-encoding. Format 1 (one JSON document, entries as objects) is still read.

_LEGACY_FORMAT = "govex-evidence/1"


@dataclass(frozen=True)
class EvidenceBundle:
    """What an auditor takes away: the log's origin and verifier key, a signed checkpoint and
    every entry, ``logged[i]`` being entry ``i`` exactly as the log hashed it, to verify
    offline. ``retired_vkeys`` are keys the log signed with before a rotation, to check a
    checkpoint saved back then (optional)."""

    origin: str
    vkey: str
    checkpoint: str
    logged: list[bytes] = field(default_factory=list)
    retired_vkeys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Raises InvalidFormat if an entry is not bytes holding no newline, or a retired key
        is not a string."""
        logged = list(self.logged)
        if not all(type(b) is bytes and b"\n" not in b for b in logged):
            raise InvalidFormat("an evidence entry is the bytes logged, without a newline")
        if not all(isinstance(k, str) for k in self.retired_vkeys):
            raise InvalidFormat("retired_vkeys is a list of verifier key strings")
        object.__setattr__(self, "logged", logged)
        object.__setattr__(self, "retired_vkeys", list(self.retired_vkeys))

    @classmethod
    def from_entries(cls, *, origin: str, vkey: str, checkpoint: str,
                     entries: Iterable[Mapping[str, Any]],
                     retired_vkeys: Sequence[str] = ()) -> EvidenceBundle:
        """A bundle from entries as the API pages them: ``{"index": n, "logged": text}`` or
        ``{"index": n, "entry": object}`` (canonicalized here). Raises InvalidFormat for a
        malformed entry, LogInconsistent if the indexes do not run 0, 1, 2, … or an object has
        no canonical form."""
        logged = [_logged_bytes(item) for item in _in_order([_indexed(e) for e in entries])]
        return cls(origin=origin, vkey=vkey, checkpoint=checkpoint, logged=logged,
                   retired_vkeys=list(retired_vkeys))

    @classmethod
    def collect(cls, *, checkpoint: str, key: Mapping[str, Any],
                entries: Callable[[int], Iterable[Mapping[str, Any]]]) -> EvidenceBundle:
        """The bundle of the signed ``checkpoint`` and exactly the entries it covers (entries
        appended meanwhile belong to the next checkpoint): ``entries(size)`` gives the log's
        first ``size`` entries as the API pages them; ``key`` is the verifier-key document
        (``origin``, ``vkey``, earlier ``keys``). A rotation may fall between reading the
        checkpoint and the key: the key that signed comes first. The signature itself is
        checked by :meth:`verify`. Raises InvalidFormat, LogInconsistent."""
        size = Checkpoint.unverified(checkpoint).size
        vkey, *retired = signer_first(checkpoint, [key["vkey"], *(k["vkey"] for k in
                                                                  key.get("keys", []))])
        return cls.from_entries(origin=key["origin"], vkey=vkey, checkpoint=checkpoint,
                                entries=entries(size), retired_vkeys=retired)

    def __len__(self) -> int:
        return len(self.logged)

    def to_bytes(self) -> bytes:
        """The bundle as JSON Lines (format ``govex-evidence/2``), UTF-8."""
        header = {"format": EVIDENCE_FORMAT, "origin": self.origin, "vkey": self.vkey,
                  "checkpoint": self.checkpoint, "entries": len(self.logged)}
        if self.retired_vkeys:
            header["retired_vkeys"] = self.retired_vkeys
        first = json.dumps(header, ensure_ascii=False).encode()
        return b"\n".join([first, *self.logged]) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes | str) -> EvidenceBundle:
        """Parse :meth:`to_bytes` output, or a format-1 bundle. Raises InvalidFormat if it is
        not an evidence bundle or is cut short; LogInconsistent for a format-1 bundle whose
        entries are out of order or have no canonical form."""
        if isinstance(data, str):
            data = data.encode()
        end = data.find(b"\n")
        try:
            header = json.loads(data[:end] if end >= 0 else data)
        except ValueError:
            header = None
        if isinstance(header, dict) and header.get("format") == EVIDENCE_FORMAT:
            return cls._from_lines(header, data)
        try:
            body = json.loads(data)
        except ValueError as exc:
            raise InvalidFormat("the evidence bundle is neither JSON Lines nor JSON") from exc
        if not isinstance(body, dict) or body.get("format") != _LEGACY_FORMAT:
            raise InvalidFormat(f"not an evidence bundle of format {EVIDENCE_FORMAT}")
        _require_header(body)
        if not isinstance(body.get("entries"), list):
            raise InvalidFormat("an evidence bundle has origin, vkey, checkpoint and entries")
        return cls.from_entries(**{k: body[k] for k in ("origin", "vkey", "checkpoint")},
                                entries=body["entries"],
                                retired_vkeys=_retired(body))

    @classmethod
    def _from_lines(cls, header: dict[str, Any], data: bytes) -> EvidenceBundle:
        _require_header(header)
        count = header.get("entries")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidFormat("the bundle's header gives no entry count")
        if not data.endswith(b"\n"):
            raise InvalidFormat("the bundle's last line is cut short: the file is incomplete")
        # one split of the whole file (the header is its first line, the empty string after
        # the final newline its last): no copy of the body, and no line can hold a newline
        lines = data.split(b"\n")[1:-1]
        if lines and lines[0].endswith(b"\r"):
            # CRLF line ends (a file saved on Windows): a logged entry, a JSON object, ends
            # with "}", never with "\r", so dropping it restores the logged bytes exactly
            lines = [line.removesuffix(b"\r") for line in lines]
        if len(lines) != count:
            raise InvalidFormat(f"the bundle holds {len(lines)} entries but its header counts "
                                f"{count}: the file is incomplete or was edited")
        retired = _retired(header)
        if not all(isinstance(k, str) for k in retired):
            raise InvalidFormat("retired_vkeys is a list of verifier key strings")
        # built without __post_init__: its per-line newline scan (~0.2 s a million entries)
        # cannot fail on lines that split() produced
        bundle = object.__new__(cls)
        for name, value in (("origin", header["origin"]), ("vkey", header["vkey"]),
                            ("checkpoint", header["checkpoint"]), ("logged", lines),
                            ("retired_vkeys", list(retired))):
            object.__setattr__(bundle, name, value)
        return bundle

    def verify(self, *, verifier: NoteVerifier | None = None, old_checkpoint: str | None = None,
               old_consistency_proof: Sequence[bytes] | None = None,
               old_verifier: NoteVerifier | None = None) -> VerifiedLog:
        """Verify the bundle offline (see :func:`verify_log`): it must hold exactly the
        entries the checkpoint signs. Pass the ``verifier`` you trust; without one the
        bundle's own ``vkey`` is used, which proves integrity but not origin.

        Raises InvalidFormat, SignatureInvalid or LogInconsistent (truncation, entries beyond
        the signed size, altered, removed or reordered entries, rollback, rewritten history).
        """
        return verify_log(self.logged, checkpoint=self.checkpoint,
                          verifier=verifier or NoteVerifier.from_vkey(self.vkey),
                          old_checkpoint=old_checkpoint,
                          old_consistency_proof=old_consistency_proof, origin=self.origin,
                          old_verifier=old_verifier)

    def events(self) -> list[dict[str, Any]]:
        """Every entry as a JSON object, in log order. Raises InvalidFormat if a logged entry
        is not a JSON object."""
        return [_event_of(index, line) for index, line in enumerate(self.logged)]


def _require_header(body: dict[str, Any]) -> None:
    if not all(isinstance(body.get(k), str) for k in ("origin", "vkey", "checkpoint")):
        raise InvalidFormat("an evidence bundle has origin, vkey, checkpoint and entries")


def _retired(body: dict[str, Any]) -> list[str]:
    retired = body.get("retired_vkeys", [])
    if not isinstance(retired, list):
        raise InvalidFormat("retired_vkeys is a list of verifier key strings")
    return retired


def _event_of(index: int, line: bytes) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise InvalidFormat(f"entry {index} as logged is not a JSON object")
    return event


def _logged_bytes(item: dict[str, Any]) -> bytes:
    if "logged" in item:
        return item["logged"].encode()
    return _entry_bytes(item["index"], item["entry"])


def _indexed(item: Any) -> dict[str, Any]:
    """Normalize ``{"index", "logged"}``, ``{"index", "entry"}`` or ``(index, entry)``.
    Raises InvalidFormat."""
    if isinstance(item, Mapping):
        if "logged" in item:
            index, logged = item.get("index"), item["logged"]
            if "entry" in item or _not_index(index) or not isinstance(logged, str) or \
                    "\n" in logged:
                raise InvalidFormat("an evidence entry has an integer index and either the "
                                    "logged text (one line) or an object entry")
            return {"index": index, "logged": logged}
        index, entry = item.get("index"), item.get("entry")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        index, entry = item
    else:
        raise InvalidFormat("an evidence entry is {\"index\": n, \"logged\": \"...\"}")
    if _not_index(index) or not isinstance(entry, Mapping):
        raise InvalidFormat("an evidence entry has an integer index and an object entry")
    return {"index": index, "entry": dict(entry)}


def _not_index(index: Any) -> bool:
    return isinstance(index, bool) or not isinstance(index, int)


def _in_order(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries, checking their indexes run 0, 1, 2, … Raises LogInconsistent otherwise."""
    present = {item["index"] for item in items}
    for position, item in enumerate(items):
        index = item["index"]
        if index == position:
            continue
        if index < position:
            raise LogInconsistent(f"entry {index} appears again at position {position}: "
                                  f"entries were duplicated or reordered")
        if position not in present:
            raise LogInconsistent(f"entry {position} is missing (the next entry is {index}): "
                                  f"entries were deleted")
        raise LogInconsistent(f"entries were reordered: position {position} holds entry {index}")
    return list(items)
