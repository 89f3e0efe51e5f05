"""Offline verification: recompute the tree from the entries, check the signed checkpoint, and
check that an earlier checkpoint is a prefix of it. Everything raises; nothing returns False.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import merkle
from .checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from .errors import InvalidEvent, InvalidFormat, LogInconsistent, ProofInvalid
from .events import canonical_bytes

__all__ = ["VerifiedLog", "verify_log", "verify_entry", "EvidenceBundle", "EVIDENCE_FORMAT"]

EVIDENCE_FORMAT = "govex-evidence/1"


@dataclass(frozen=True)
class VerifiedLog:
    """A log that verified: ``size`` entries with ``root_hash``, as signed. ``uncovered`` counts
    entries given after the checkpoint's size (appended since; not yet signed, not verified)."""

    size: int
    root_hash: bytes
    uncovered: int = 0


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


# -- evidence bundles ---------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceBundle:
    """What an auditor takes away: the log's origin and verifier key, a signed checkpoint and
    every entry (``{"index": int, "entry": dict}``, in order), to verify offline.
    ``retired_vkeys`` are keys the log signed with before a rotation, to check a checkpoint
    saved back then (optional)."""

    origin: str
    vkey: str
    checkpoint: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    retired_vkeys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Raises InvalidFormat if an entry is not ``{"index": int, "entry": object}`` or a
        retired key is not a string."""
        object.__setattr__(self, "entries", [_indexed(item) for item in self.entries])
        if not all(isinstance(k, str) for k in self.retired_vkeys):
            raise InvalidFormat("retired_vkeys is a list of verifier key strings")
        object.__setattr__(self, "retired_vkeys", list(self.retired_vkeys))

    def to_json(self) -> str:
        """The bundle as JSON (format ``govex-evidence/1``)."""
        body = {"format": EVIDENCE_FORMAT, "origin": self.origin, "vkey": self.vkey,
                "checkpoint": self.checkpoint, "entries": self.entries}
        if self.retired_vkeys:
            body["retired_vkeys"] = self.retired_vkeys
        return json.dumps(body, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> EvidenceBundle:
        """Parse :meth:`to_json` output. Raises InvalidFormat if it is not an evidence bundle."""
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise InvalidFormat("the evidence bundle is not JSON") from exc
        if not isinstance(body, dict) or body.get("format") != EVIDENCE_FORMAT:
            raise InvalidFormat(f"not an evidence bundle of format {EVIDENCE_FORMAT}")
        fields = ("origin", "vkey", "checkpoint")
        if not all(isinstance(body.get(k), str) for k in fields) or \
                not isinstance(body.get("entries"), list):
            raise InvalidFormat("an evidence bundle has origin, vkey, checkpoint and entries")
        retired = body.get("retired_vkeys", [])
        if not isinstance(retired, list):
            raise InvalidFormat("retired_vkeys is a list of verifier key strings")
        return cls(**{k: body[k] for k in fields}, entries=body["entries"],
                   retired_vkeys=retired)

    def verify(self, *, verifier: NoteVerifier | None = None, old_checkpoint: str | None = None,
               old_consistency_proof: Sequence[bytes] | None = None,
               old_verifier: NoteVerifier | None = None) -> VerifiedLog:
        """Verify the bundle offline (see :func:`verify_log`). Pass the ``verifier`` you trust;
        without one the bundle's own ``vkey`` is used, which proves integrity but not origin.
        Entries after the checkpoint's size are counted in ``uncovered``, not verified.

        Raises InvalidFormat, SignatureInvalid or LogInconsistent (missing or reordered
        indexes, truncation, altered entries, rollback, rewritten history).
        """
        verifier = verifier or NoteVerifier.from_vkey(self.vkey)
        signed = open_checkpoint(self.checkpoint, verifier, origin=self.origin)
        entries = _in_order(self.entries)
        result = verify_log(entries[: signed.size], checkpoint=self.checkpoint,
                            verifier=verifier, old_checkpoint=old_checkpoint,
                            old_consistency_proof=old_consistency_proof, origin=self.origin,
                            old_verifier=old_verifier)
        uncovered = max(0, len(entries) - signed.size)
        return VerifiedLog(size=result.size, root_hash=result.root_hash, uncovered=uncovered)


def _indexed(item: Any) -> dict[str, Any]:
    """Normalize ``{"index", "entry"}`` or ``(index, entry)``. Raises InvalidFormat."""
    if isinstance(item, Mapping):
        index, entry = item.get("index"), item.get("entry")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        index, entry = item
    else:
        raise InvalidFormat("an evidence entry is {\"index\": n, \"entry\": {...}}")
    if isinstance(index, bool) or not isinstance(index, int) or not isinstance(entry, Mapping):
        raise InvalidFormat("an evidence entry has an integer index and an object entry")
    return {"index": index, "entry": dict(entry)}


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
    return [item["entry"] for item in items]
