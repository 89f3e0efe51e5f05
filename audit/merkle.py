"""The RFC 6962 / RFC 9162 Merkle tree: hashes, roots, proofs and their verification.

Pure functions over hashes; no storage. The reference provers (:func:`inclusion_proof`,
:func:`consistency_proof`) read a list of leaf hashes and follow the RFC's recursive definitions
word for word; the stored log computes the same proofs from its stored subtrees through
:func:`inclusion_proof_ranges` and :func:`consistency_proof_ranges`. Verifiers raise
:class:`~audit.errors.ProofInvalid`; they never return ``False``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from .errors import InvalidFormat, InvalidRange, ProofInvalid

__all__ = [
    "HASH_SIZE",
    "EMPTY_ROOT",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "inclusion_proof",
    "consistency_proof",
    "inclusion_proof_ranges",
    "consistency_proof_ranges",
    "perfect_subtrees",
    "verify_inclusion",
    "verify_consistency",
    "verify_subtree_inclusion",
    "verify_subtree_consistency",
    "CompactRange",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data): the hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return hashes[start]
    k = _split(end - start)
    return node_hash(_mth(hashes, start, start + k), _mth(hashes, start + k, end))


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaf_hashes``; SHA-256 of the empty string for no leaves."""
    return _mth(leaf_hashes, 0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


# -- reference provers (RFC 9162 §2.1.3.1 and §2.1.4.1, over a list) ------------------------


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves.

    Raises InvalidRange unless 0 ≤ index < size ≤ len(leaf_hashes).
    """
    if not 0 <= index < size <= len(leaf_hashes):
        raise InvalidRange(f"no leaf {index} in a tree of {size} (of {len(leaf_hashes)})")
    return _path(index, leaf_hashes, 0, size)


def _path(m: int, hashes: Sequence[bytes], start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _path(m, hashes, start, start + k) + [_mth(hashes, start + k, end)]
    return _path(m - k, hashes, start + k, end) + [_mth(hashes, start, start + k)]


def consistency_proof(old_size: int, new_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``.

    Raises InvalidRange unless 0 < old_size ≤ new_size ≤ len(leaf_hashes).
    """
    if not 0 < old_size <= new_size <= len(leaf_hashes):
        raise InvalidRange(f"no consistency proof from {old_size} to {new_size} "
                           f"(of {len(leaf_hashes)})")
    if old_size == new_size:
        return []
    return _subproof(old_size, leaf_hashes, 0, new_size, True)


def _subproof(m: int, hashes: Sequence[bytes], start: int, end: int, whole: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [_mth(hashes, start, end)]
    k = _split(n)
    if m <= k:
        return _subproof(m, hashes, start, start + k, whole) + [_mth(hashes, start + k, end)]
    return _subproof(m - k, hashes, start + k, end, False) + [_mth(hashes, start, start + k)]


# -- the same proofs as lists of leaf ranges, for a prover that stores subtrees -------------


def inclusion_proof_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges ``[start, end)`` whose tree hashes form the inclusion proof of
    ``index`` in a tree of ``size``, bottom first. Raises InvalidRange unless 0 ≤ index < size.
    """
    if not 0 <= index < size:
        raise InvalidRange(f"no entry {index} in a tree of {size} entries")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_proof_ranges(old_size: int, new_size: int) -> list[Range]:
    """The leaf ranges whose tree hashes form the consistency proof from ``old_size`` to
    ``new_size``. Raises InvalidRange unless 0 < old_size ≤ new_size.
    """
    if not 0 < old_size <= new_size:
        raise InvalidRange(f"no consistency proof from {old_size} to {new_size} entries")
    ranges: list[Range] = []
    start, end, whole = 0, new_size, True
    while old_size - start != end - start:
        k = _split(end - start)
        if old_size - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, whole = start + k, False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The complete subtrees, as ``(level, index)`` from left to right, that tile the leaf
    range ``[start, end)``. For the ranges of a proof their hashes, folded from the right
    with :func:`node_hash`, give the range's tree hash. Raises InvalidRange if empty."""
    if not 0 <= start < end:
        raise InvalidRange(f"empty or negative leaf range [{start}, {end})")
    tiles = []
    while start < end:
        level = 0
        while start % (2 << level) == 0 and start + (2 << level) <= end:
            level += 1
        tiles.append((level, start >> level))
        start += 1 << level
    return tiles


# -- verifiers ----------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofInvalid(f"{what} has {len(value)} bytes, not {HASH_SIZE}")


def _match(calculated: bytes, expected: bytes, what: str) -> None:
    if not hmac.compare_digest(calculated, expected):
        raise ProofInvalid(f"the proof does not lead to the {what}")


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        seed = node_hash(seed, sibling) if (index >> i) & 1 == 0 else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofInvalid(f"index {index} is outside a tree of {size} entries")
    _check_hash(leaf, "the leaf hash")
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    if len(proof) != inner + border:
        raise ProofInvalid(f"the proof has {len(proof)} hashes, expected {inner + border}")
    for sibling in proof:
        _check_hash(sibling, "a proof hash")
    return _chain_border_right(_chain_inner(leaf, proof[:inner], index), proof[inner:])


def verify_inclusion(*, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes] | None,
                     root: bytes) -> None:
    """Check that ``leaf_hash`` is entry ``index`` of the tree of ``size`` with ``root``.

    Raises ProofInvalid if the arguments are out of range or the proof does not verify.
    """
    calculated = _root_from_inclusion(index, size, leaf_hash, list(proof or ()))
    _match(calculated, root, "tree root")


def verify_consistency(*, old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes] | None) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the tree of
    ``new_size`` with ``new_root``. A proof from the empty tree proves nothing and is refused.

    Raises ProofInvalid if the sizes are out of order or zero, or the proof does not verify.
    """
    proof = list(proof or ())
    if not 0 <= old_size <= new_size:
        raise ProofInvalid(f"the old size {old_size} is greater than the new size {new_size}")
    if old_size == 0:
        raise ProofInvalid("a consistency proof from the empty tree is meaningless")
    if old_size == new_size:
        if proof:
            raise ProofInvalid("equal sizes need an empty proof")
        _match(old_root, new_root, "same root for the same size")
        return
    if not proof:
        raise ProofInvalid("the consistency proof is empty")
    calculated = _root_from_subtree_consistency(0, old_size, new_size, proof, old_root)
    _match(calculated, new_root, "new tree root")


def _check_subtree(start: int, end: int) -> None:
    """A subtree [start, end) is valid if non-empty and start is a multiple of the smallest
    power of two ≥ end - start."""
    if not 0 <= start < end:
        raise ProofInvalid(f"the subtree [{start}, {end}) is empty or negative")
    width = 1 << (end - start - 1).bit_length()
    if start % width:
        raise ProofInvalid(f"[{start}, {end}) is not a subtree of a Merkle tree")


def verify_subtree_inclusion(*, index: int, start: int, end: int, leaf_hash: bytes,
                             proof: Sequence[bytes] | None, root: bytes) -> None:
    """Check that ``leaf_hash`` is entry ``index`` of the subtree ``[start, end)`` whose hash
    is ``root`` (draft-ietf-plants-merkle-tree-certs subtree proofs).

    Raises ProofInvalid if the subtree or index is invalid or the proof does not verify.
    """
    _check_subtree(start, end)
    if not start <= index < end:
        raise ProofInvalid(f"index {index} is outside the subtree [{start}, {end})")
    calculated = _root_from_inclusion(index - start, end - start, leaf_hash, list(proof or ()))
    _match(calculated, root, "subtree hash")


def verify_subtree_consistency(*, start: int, end: int, size: int, subtree_root: bytes,
                               root: bytes, proof: Sequence[bytes] | None) -> None:
    """Check that the subtree ``[start, end)`` with hash ``subtree_root`` is part of the tree
    of ``size`` with ``root``.

    Raises ProofInvalid if the subtree is invalid or the proof does not verify.
    """
    proof = list(proof or ())
    if 0 <= start == end <= size:
        _check_empty_subtree(subtree_root, proof)
        return
    _check_subtree(start, end)
    if size < end:
        raise ProofInvalid(f"the subtree [{start}, {end}) extends past the tree of {size}")
    if start == 0 and end == size:
        if proof:
            raise ProofInvalid("the subtree is the whole tree: the proof must be empty")
        _match(subtree_root, root, "same root for the whole tree")
        return
    if not proof:
        raise ProofInvalid("the consistency proof is empty")
    calculated = _root_from_subtree_consistency(start, end, size, proof, subtree_root)
    _match(calculated, root, "tree root")


def _check_empty_subtree(subtree_root: bytes, proof: list[bytes]) -> None:
    """An empty subtree is part of every tree: its hash must be the empty tree's, with no proof."""
    if proof:
        raise ProofInvalid("an empty subtree needs an empty proof")
    _match(subtree_root, EMPTY_ROOT, "empty tree's hash")


def _root_from_subtree_consistency(start: int, end: int, size: int, proof: list[bytes],
                                   sub_root: bytes) -> bytes:
    for sibling in proof:
        _check_hash(sibling, "a proof hash")
    height = ((end - 1) ^ start).bit_length()
    if end == size:
        wanted = (start >> height).bit_count()
        if len(proof) != wanted:
            raise ProofInvalid(f"the proof has {len(proof)} hashes, expected {wanted}")
        return _chain_border_right(sub_root, proof)
    fork = ((end - 1) ^ (size - 1)).bit_length()
    shift = ((end - start) & -(end - start)).bit_length() - 1
    whole = end - start == 1 << shift
    seed, rest = (sub_root, proof) if whole else (proof[0], proof[1:])
    wanted = (fork - shift) + ((end - 1) >> fork).bit_count()
    if len(rest) != wanted:
        raise ProofInvalid(f"the proof has {len(proof)} hashes, expected {wanted + (not whole)}")
    old, grown, rest = _chain_subtree(seed, rest, start, end, fork, shift)
    _match(old, sub_root, "old tree root")
    return _root_from_inclusion(start >> height, ((size - 1) >> height) + 1, grown, rest)


def _chain_subtree(seed: bytes, proof: list[bytes], start: int, end: int, fork: int,
                   shift: int) -> tuple[bytes, bytes, list[bytes]]:
    """Hash up from the rightmost complete subtree of [start, end) to that range's root, both
    as it was (left siblings only) and as grown in the larger tree; return the unused proof."""
    old, grown, used = seed, seed, 0
    for level in range(shift, ((end - 1) ^ start).bit_length()):
        if ((end - 1) >> level) & 1:
            old, grown = node_hash(proof[used], old), node_hash(proof[used], grown)
            used += 1
        elif level < fork:
            grown = node_hash(grown, proof[used])
            used += 1
    return old, grown, proof[used:]


# -- the right edge of a growing tree ----------------------------------------------------


class CompactRange:
    """The hashes of the complete subtrees along the right edge of a tree of ``size`` leaves
    (one per set bit of ``size``, largest first): enough to append and to compute the root.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Raises InvalidFormat if ``hashes`` do not fit ``size``."""
        if size < 0 or len(hashes) != size.bit_count():
            raise InvalidFormat(f"{len(hashes)} hashes cannot be the compact range of {size}")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise InvalidFormat("a compact range hash is not 32 bytes")
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """The number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The right-edge subtree hashes, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf. Returns the complete subtrees it completes, as ``(level, index,
        hash)`` from the leaf itself (level 0) upwards. Raises InvalidFormat if not 32 bytes.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise InvalidFormat("a leaf hash has 32 bytes")
        completed = [(0, self._size, leaf_hash)]
        node, position = leaf_hash, self._size
        while position & 1:
            node, position = node_hash(self._hashes.pop(), node), position >> 1
            completed.append((len(completed), position, node))
        self._hashes.append(node)
        self._size += 1
        return completed

    def extend(self, entries: Iterable[bytes]) -> None:
        """Append the leaf of each entry's bytes (hashing them here): the fast path of a
        verifier, which needs the root and not the completed subtrees."""
        sha256, hashes, size = hashlib.sha256, self._hashes, self._size
        for data in entries:
            node = sha256(b"\x00" + data).digest()
            position = size
            while position & 1:
                node = sha256(b"\x01" + hashes.pop() + node).digest()
                position >>= 1
            hashes.append(node)
            size += 1
            self._size = size

    def root(self) -> bytes:
        """The root hash of the tree covered (SHA-256 of the empty string when empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _chain_border_right(self._hashes[-1], self._hashes[-2::-1])

    def to_hex_list(self) -> list[str]:
        """The hashes as hex strings, largest subtree first."""
        return [h.hex() for h in self._hashes]

    @classmethod
    def from_hex_list(cls, size: int, items: Sequence[str]) -> CompactRange:
        """Rebuild from :meth:`to_hex_list`. Raises InvalidFormat if malformed."""
        try:
            hashes = [bytes.fromhex(item) for item in items]
        except (TypeError, ValueError) as exc:
            raise InvalidFormat("a compact range hash is not hex") from exc
        return cls(size, hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()[:16]}…)"
