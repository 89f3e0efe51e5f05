"""The fast paths of verification agree with the general ones: canonical JSON through the
standard library equals RFC 8785 byte for byte (or falls back to it), ``CompactRange.extend``
equals appending leaf by leaf, and a log given as its logged bytes verifies like its objects.
Also the helpers for keys rotated since a checkpoint was saved."""

from __future__ import annotations

import json

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import (
    EvidenceBundle,
    InvalidEvent,
    LogInconsistent,
    NoteSigner,
    NoteVerifier,
    SignatureInvalid,
    canonical_bytes,
    pick_verifier,
    verify_log,
)
from audit.checkpoint import Checkpoint
from audit.merkle import CompactRange, leaf_hash, root_hash

ORIGIN = "test.govex/audit"

CASES = {
    "plain": {"type": "exchange", "time": "2026-11-28T03:40:00Z", "row_count": 12},
    "chinese": {"purpose": "核查低保申请人", "columns": {"联系电话": "hash", "姓名": "mask"}},
    "escapes": {"text": "tab\tnew\nline\r\"quote\" back\\slash \b\f \x00\x01\x1f \x7f"},
    "separators": {"text": "\u2028\u2029 é \ufeff"},
    "nesting": {"a": [1, [2, {"b": None, "c": True, "d": False}]], "": []},
    "key order": {"b": 1, "a": 2, "B": 3, "é": 4, "\ue000": 5, "aa": 6, "a\x00": 7},
    "astral keys": {"\U0001f600": 1, "\ue000": 2},
    "astral value": {"emoji": "\U0001f600 ok"},
    "safe ints": {"max": 2**53 - 1, "min": -(2**53 - 1), "zero": 0},
    "float": {"ratio": 0.5, "whole": 1.0, "big": 1e21},
}


@pytest.mark.parametrize("entry", list(CASES.values()), ids=list(CASES))
def test_canonical_bytes_equal_rfc8785(entry):
    assert canonical_bytes(entry) == rfc8785.dumps(entry)


@pytest.mark.parametrize("entry", [{"n": 2**53}, {"n": float("nan")}, {1: "int key"},
                                   {"s": {1, 2}}, {"lone": "\ud800"}],
                         ids=["beyond 2**53", "NaN", "int key", "set", "lone surrogate"])
def test_what_rfc8785_refuses_is_refused(entry):
    with pytest.raises(InvalidEvent):
        canonical_bytes(entry)


def test_extend_equals_append_and_the_reference_root():
    blobs = [f"entry {n}".encode() for n in range(77)]
    one_by_one, bulk = CompactRange(), CompactRange()
    for blob in blobs:
        one_by_one.append(leaf_hash(blob))
    bulk.extend(blobs[:30])
    bulk.extend(blobs[30:])
    assert bulk == one_by_one
    assert bulk.root() == root_hash([leaf_hash(b) for b in blobs])


def _signed(entries):
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    tree = CompactRange()
    tree.extend(canonical_bytes(e) for e in entries)
    return signer, signer.sign(Checkpoint(ORIGIN, tree.size, tree.root()).to_text())


def test_a_log_given_as_bytes_verifies_like_its_objects():
    entries = [{"type": "note", "n": n, "text": "诉求"} for n in range(10)]
    signer, note = _signed(entries)
    as_bytes = [canonical_bytes(e) for e in entries]
    assert verify_log(as_bytes, checkpoint=note, verifier=signer.verifier).size == 10
    mixed = as_bytes[:5] + entries[5:]
    assert verify_log(mixed, checkpoint=note, verifier=signer.verifier).size == 10
    as_bytes[3] = as_bytes[3].replace(b'"n":3', b'"n":4')
    with pytest.raises(LogInconsistent, match="root mismatch"):
        verify_log(as_bytes, checkpoint=note, verifier=signer.verifier)


def test_pick_verifier_finds_the_retired_key_that_signed():
    old = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    new = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    note = old.sign(Checkpoint(ORIGIN, 3, bytes(32)).to_text())
    found = pick_verifier(note, [new.verifier, old.verifier])
    assert found.key_id == old.key_id
    with pytest.raises(SignatureInvalid, match="signed by none of the keys"):
        pick_verifier(note, [new.verifier])


def test_a_verifier_from_raw_public_bytes_matches_the_signer():
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    raw = NoteVerifier.from_vkey(signer.verifier_key)._public_key.public_bytes_raw()
    assert NoteVerifier.from_public_bytes(ORIGIN, raw).verifier_key == signer.verifier_key


def test_a_bundle_keeps_its_retired_keys():
    entries = [{"type": "note", "n": n} for n in range(3)]
    signer, note = _signed(entries)
    retired = NoteSigner(ORIGIN, Ed25519PrivateKey.generate()).verifier_key
    bundle = EvidenceBundle.from_entries(origin=ORIGIN, vkey=signer.verifier_key,
                                         checkpoint=note, entries=list(enumerate(entries)),
                                         retired_vkeys=[retired])
    again = EvidenceBundle.from_bytes(bundle.to_bytes())
    assert again.retired_vkeys == [retired] and again.verify().size == 3
    header, rest = bundle.to_bytes().split(b"\n", 1)
    body = json.loads(header)
    del body["retired_vkeys"]
    plain = EvidenceBundle.from_bytes(json.dumps(body).encode() + b"\n" + rest)
    assert plain.retired_vkeys == [] and plain.verify().size == 3
