"""RFC 6962 / RFC 9162 tree: the published vectors, known roots, proofs for many sizes, and
proofs that must fail (one bit flipped, a hash too many or too few, wrong sizes)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit import merkle
from audit.errors import InvalidFormat, InvalidRange, ProofInvalid
from audit.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The test tree of RFC 6962's reference code and of transparency-dev/merkle's vectors.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                     "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
KINDS = ("inclusion", "consistency", "subtreeinclusion", "subtreeconsistency")


def _vectors_dir() -> Path:
    """transparency-dev/merkle's vectors, kept in the test tree (Apache-2.0, see its README)."""
    return Path(__file__).resolve().parent / "vectors" / "rfc6962" / "testdata"


def _vector_cases() -> list[Any]:
    root = _vectors_dir()
    files = sorted(root.rglob("*.json")) if root.is_dir() else []
    if not files:  # a missing directory must fail the run, never skip it
        return [pytest.param(None, id="vectors-missing")]
    return [pytest.param(f, id=str(f.relative_to(root))) for f in files]


def _b64(text: str) -> bytes:
    return base64.b64decode(text) if text else b""


def _proof(items: list[str] | None) -> list[bytes] | None:
    return None if items is None else [_b64(h) for h in items]


def _check_vector(kind: str, v: dict[str, Any]) -> None:
    if kind == "inclusion":
        verify_inclusion(index=v["leafIdx"], size=v["treeSize"], leaf_hash=_b64(v["leafHash"]),
                         proof=_proof(v["proof"]), root=_b64(v["root"]))
    elif kind == "consistency":
        verify_consistency(old_size=v["size1"], new_size=v["size2"], old_root=_b64(v["root1"]),
                           new_root=_b64(v["root2"]), proof=_proof(v["proof"]))
    elif kind == "subtreeinclusion":
        merkle.verify_subtree_inclusion(index=v["leafIdx"], start=v["start"], end=v["end"],
                                        leaf_hash=_b64(v["leafHash"]),
                                        proof=_proof(v["proof"]), root=_b64(v["root"]))
    else:
        merkle.verify_subtree_consistency(start=v["start"], end=v["end"], size=v["size"],
                                          subtree_root=_b64(v["root1"]), root=_b64(v["root2"]),
                                          proof=_proof(v["proof"]))


def test_every_kind_of_vector_is_present() -> None:
    root = _vectors_dir()
    assert root.is_dir(), f"RFC 6962 vectors not found at {root}"
    counts = {kind: len(list((root / kind).rglob("*.json"))) for kind in KINDS}
    assert counts == {"inclusion": 98, "consistency": 98, "subtreeinclusion": 204,
                      "subtreeconsistency": 118}


@pytest.mark.parametrize("path", _vector_cases())
def test_vector(path: Path | None) -> None:
    if path is None:
        pytest.fail(f"RFC 6962 vectors not found under {_vectors_dir()}")
    vector = json.loads(path.read_text())
    kind = path.relative_to(_vectors_dir()).parts[0]
    if vector["wantErr"]:
        with pytest.raises(ProofInvalid):
            _check_vector(kind, vector)
    else:
        _check_vector(kind, vector)


def test_vectors_include_broken_proofs() -> None:
    cases = [json.loads(p.read_text()) for p in _vectors_dir().rglob("*.json")]
    assert (sum(c["wantErr"] for c in cases), sum(not c["wantErr"] for c in cases)) == (482, 36)


# -- hashes and roots ---------------------------------------------------------------------


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"").hex() == ROOTS[1]
    assert merkle.node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == ROOTS[2]
    assert leaf_hash(b"\x01" + b"a" * 64) != merkle.node_hash(b"a" * 32, b"a" * 32)


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_root_hash_matches_rfc6962_reference(size: int) -> None:
    hashes = [leaf_hash(x) for x in LEAVES[:size]]
    assert root_hash(hashes).hex() == ROOTS[size]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_compact_range_root_matches(size: int) -> None:
    tree = CompactRange()
    for data in LEAVES[:size]:
        tree.append(leaf_hash(data))
    assert tree.size == size and tree.root().hex() == ROOTS[size]


# -- reference proofs for many sizes ------------------------------------------------------


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def test_inclusion_proofs_verify_for_every_index_up_to_64() -> None:
    hashes = _leaves(64)
    for size in range(1, 65):
        root = root_hash(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, hashes)
            verify_inclusion(index=index, size=size, leaf_hash=hashes[index], proof=proof,
                             root=root)


def test_consistency_proofs_verify_for_every_pair_up_to_40() -> None:
    hashes = _leaves(40)
    roots = {n: root_hash(hashes[:n]) for n in range(1, 41)}
    for new in range(1, 41):
        for old in range(1, new + 1):
            verify_consistency(old_size=old, new_size=new, old_root=roots[old],
                               new_root=roots[new], proof=consistency_proof(old, new, hashes))


def _range_hash(hashes: list[bytes], start: int, end: int) -> bytes:
    tiles = [root_hash(hashes[p << lvl:(p + 1) << lvl])
             for lvl, p in merkle.perfect_subtrees(start, end)]
    result = tiles[-1]
    for left in reversed(tiles[:-1]):
        result = merkle.node_hash(left, result)
    return result


def test_proof_ranges_tile_into_the_reference_proofs() -> None:
    hashes = _leaves(33)
    for size in range(1, 34):
        for index in range(size):
            ranges = merkle.inclusion_proof_ranges(index, size)
            assert [_range_hash(hashes, *r) for r in ranges] == \
                inclusion_proof(index, size, hashes)
        for old in range(1, size + 1):
            ranges = merkle.consistency_proof_ranges(old, size)
            assert [_range_hash(hashes, *r) for r in ranges] == \
                consistency_proof(old, size, hashes)


# -- proofs that must fail ----------------------------------------------------------------

HASHES = _leaves(13)
ROOT13, ROOT6 = root_hash(HASHES), root_hash(HASHES[:6])
INCLUSION = inclusion_proof(5, 13, HASHES)
CONSISTENCY = consistency_proof(6, 13, HASHES)


def _flip(proof: list[bytes], item: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[item])
    changed[bit // 8] ^= 1 << (bit % 8)
    return proof[:item] + [bytes(changed)] + proof[item + 1:]


@pytest.mark.parametrize("item", range(len(INCLUSION)))
@pytest.mark.parametrize("bit", [0, 7, 128, 255])
def test_inclusion_with_a_flipped_bit_fails(item: int, bit: int) -> None:
    with pytest.raises(ProofInvalid, match="does not lead to the tree root"):
        verify_inclusion(index=5, size=13, leaf_hash=HASHES[5], proof=_flip(INCLUSION, item, bit),
                         root=ROOT13)


@pytest.mark.parametrize("item", range(len(CONSISTENCY)))
@pytest.mark.parametrize("bit", [0, 100, 255])
def test_consistency_with_a_flipped_bit_fails(item: int, bit: int) -> None:
    with pytest.raises(ProofInvalid, match="does not lead to the"):
        verify_consistency(old_size=6, new_size=13, old_root=ROOT6, new_root=ROOT13,
                           proof=_flip(CONSISTENCY, item, bit))


INCLUSION_NEGATIVES: list[tuple[str, dict[str, Any], str]] = [
    ("wrong leaf", {"leaf_hash": HASHES[4]}, "does not lead"),
    ("wrong index", {"index": 4}, "does not lead"),
    ("index past the end", {"index": 13}, "outside a tree of 13"),
    ("negative index", {"index": -1}, "outside"),
    ("tree of another shape", {"size": 8}, "expected 3"),
    ("hash too many", {"proof": INCLUSION + [HASHES[0]]}, "expected 4"),
    ("hash too few", {"proof": INCLUSION[:-1]}, "expected 4"),
    ("no proof", {"proof": None}, "expected 4"),
    ("short hash", {"proof": INCLUSION[:-1] + [b"\x00" * 31]}, "31 bytes"),
    ("leaf hash of raw data", {"leaf_hash": b"entry 5"}, "7 bytes"),
    ("wrong root", {"root": ROOT6}, "does not lead"),
]


@pytest.mark.parametrize(("change", "pattern"), [c[1:] for c in INCLUSION_NEGATIVES],
                         ids=[c[0] for c in INCLUSION_NEGATIVES])
def test_inclusion_negatives(change: dict[str, Any], pattern: str) -> None:
    args = {"index": 5, "size": 13, "leaf_hash": HASHES[5], "proof": INCLUSION, "root": ROOT13}
    with pytest.raises(ProofInvalid, match=pattern):
        verify_inclusion(**{**args, **change})


CONSISTENCY_NEGATIVES: list[tuple[str, dict[str, Any], str]] = [
    ("swapped roots", {"old_root": ROOT13, "new_root": ROOT6}, "does not lead"),
    ("old larger than new", {"old_size": 14}, "greater than the new size"),
    ("from the empty tree", {"old_size": 0, "proof": []}, "meaningless"),
    ("empty proof", {"proof": []}, "empty"),
    ("equal sizes with a proof", {"old_size": 13, "old_root": ROOT13}, "empty proof"),
    ("equal sizes, other roots", {"old_size": 13, "proof": []}, "same root"),
    ("hash too many", {"proof": CONSISTENCY + [HASHES[0]]}, "expected"),
    ("wrong old size", {"old_size": 5}, "does not lead|expected"),
]


@pytest.mark.parametrize(("change", "pattern"), [c[1:] for c in CONSISTENCY_NEGATIVES],
                         ids=[c[0] for c in CONSISTENCY_NEGATIVES])
def test_consistency_negatives(change: dict[str, Any], pattern: str) -> None:
    args = {"old_size": 6, "new_size": 13, "old_root": ROOT6, "new_root": ROOT13,
            "proof": CONSISTENCY}
    with pytest.raises(ProofInvalid, match=pattern):
        verify_consistency(**{**args, **change})


PROVER_NEGATIVES: list[tuple[str, Callable[[], object]]] = [
    ("index = size", lambda: inclusion_proof(13, 13, HASHES)),
    ("size beyond leaves", lambda: inclusion_proof(0, 14, HASHES)),
    ("negative index", lambda: inclusion_proof(-1, 13, HASHES)),
    ("from size 0", lambda: consistency_proof(0, 13, HASHES)),
    ("old beyond new", lambda: consistency_proof(7, 6, HASHES)),
    ("ranges: index = size", lambda: merkle.inclusion_proof_ranges(3, 3)),
    ("ranges: from size 0", lambda: merkle.consistency_proof_ranges(0, 3)),
    ("empty range", lambda: merkle.perfect_subtrees(3, 3)),
]


@pytest.mark.parametrize("call", [c[1] for c in PROVER_NEGATIVES],
                         ids=[c[0] for c in PROVER_NEGATIVES])
def test_provers_refuse_bad_ranges(call: Callable[[], object]) -> None:
    with pytest.raises(InvalidRange):
        call()


# -- compact range ------------------------------------------------------------------------


def test_compact_range_reports_the_subtrees_it_completes() -> None:
    tree, hashes = CompactRange(), _leaves(8)
    assert tree.append(hashes[0]) == [(0, 0, hashes[0])]
    tree.append(hashes[1])
    tree.append(hashes[2])
    completed = tree.append(hashes[3])
    assert [(lvl, pos) for lvl, pos, _ in completed] == [(0, 3), (1, 1), (2, 0)]
    assert completed[-1][2] == root_hash(hashes[:4])


def test_compact_range_round_trips_through_hex() -> None:
    tree = CompactRange()
    for h in _leaves(11):
        tree.append(h)
    again = CompactRange.from_hex_list(11, tree.to_hex_list())
    assert again == tree and len(tree.to_hex_list()) == 3 and again.root() == tree.root()


@pytest.mark.parametrize(("size", "items"), [
    (11, ["00" * 32] * 2),  # 11 = 8 + 2 + 1 needs three hashes
    (1, ["zz" * 32]),
    (1, ["00" * 31]),
    (-1, []),
], ids=["too few", "not hex", "short", "negative"])
def test_compact_range_rejects_bad_serializations(size: int, items: list[str]) -> None:
    with pytest.raises(InvalidFormat):
        CompactRange.from_hex_list(size, items)
