"""Offline verification of a stored log, and the tampering it must catch: an edited, deleted
or swapped entry, truncation, rollback to an older checkpoint, and a forked history."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, create_engine, delete, select, update

from audit import (
    AuditLog,
    Checkpoint,
    EvidenceBundle,
    NoteSigner,
    NoteVerifier,
    leaf_hash,
    metadata,
    verify_log,
)
from audit.errors import InvalidFormat, LogInconsistent, SignatureInvalid
from audit.log import entries_table
from audit.merkle import root_hash

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)
MakeEvent = Callable[..., dict[str, Any]]


def _append(engine: Engine, log: AuditLog, events: list[dict[str, Any]]) -> str:
    """Append ``events`` in one transaction, then sign; returns the signed checkpoint."""
    with engine.begin() as conn:
        for event in events:
            log.append(conn, event)
    with engine.begin() as conn:
        return log.checkpoint(conn, now=NOW)


def _stored(engine: Engine, log: AuditLog) -> list[dict[str, Any]]:
    """Every stored entry, as an auditor would download them."""
    with engine.connect() as conn:
        return [entry for _, entry in log.entries(conn, limit=10_000)]


@pytest.fixture
def seven(engine: Engine, log: AuditLog, make_event: MakeEvent) -> str:
    """A log of seven entries; returns the checkpoint of the first five (kept by an auditor)."""
    five = _append(engine, log, [make_event(i) for i in range(5)])
    _append(engine, log, [make_event(i) for i in range(5, 7)])
    return five


def test_an_intact_log_verifies(engine: Engine, log: AuditLog, seven: str,
                                make_event: MakeEvent) -> None:
    with engine.connect() as conn:
        checkpoint = log.latest_checkpoint(conn)
    assert checkpoint is not None
    result = verify_log(_stored(engine, log), checkpoint=checkpoint, verifier=log.signer.verifier,
                        old_checkpoint=seven)
    assert result.size == 7 and result.root_hash == root_hash(_leaf_hashes(make_event, 7))


def _leaf_hashes(make_event: MakeEvent, n: int) -> list[bytes]:
    return [leaf_hash(rfc8785.dumps(make_event(i))) for i in range(n)]


def _edit(conn: Connection) -> None:
    entry = json.loads(conn.execute(select(entries_table.c.entry)
                                    .where(entries_table.c.idx == 3)).scalar())
    entry["row_count"] = 1
    conn.execute(update(entries_table).where(entries_table.c.idx == 3)
                 .values(entry=json.dumps(entry)))


def _delete(conn: Connection) -> None:
    conn.execute(delete(entries_table).where(entries_table.c.idx == 3))


def _swap(conn: Connection) -> None:
    texts = dict(conn.execute(select(entries_table.c.idx, entries_table.c.entry)
                              .where(entries_table.c.idx.in_([2, 3]))).all())
    for a, b in ((2, 3), (3, 2)):
        conn.execute(update(entries_table).where(entries_table.c.idx == a)
                     .values(entry=texts[b]))


def _truncate(conn: Connection) -> None:
    conn.execute(delete(entries_table).where(entries_table.c.idx >= 5))


TAMPERING = [
    ("edit an entry", _edit, "root mismatch: an entry was altered, removed or reordered"),
    ("delete an entry", _delete, "the log has 6 entries but the checkpoint covers 7: entries "
                                 "were deleted \\(truncation\\)"),
    ("swap two entries", _swap, "root mismatch"),
    ("truncate", _truncate, "the log has 5 entries but the checkpoint covers 7: .*truncation"),
]


@pytest.mark.parametrize(("tamper", "message"), [t[1:] for t in TAMPERING],
                         ids=[t[0] for t in TAMPERING])
def test_tampering_with_stored_entries_is_caught(engine: Engine, log: AuditLog, seven: str,
                                                 tamper: Callable[[Connection], None],
                                                 message: str) -> None:
    with engine.begin() as conn:
        tamper(conn)
        checkpoint = log.latest_checkpoint(conn)
    assert checkpoint is not None
    with pytest.raises(LogInconsistent, match=message):
        verify_log(_stored(engine, log), checkpoint=checkpoint, verifier=log.signer.verifier)


def test_rollback_to_an_older_checkpoint_is_caught(engine: Engine, log: AuditLog, seven: str,
                                                   ) -> None:
    with engine.connect() as conn:
        kept = log.latest_checkpoint(conn)  # the auditor saw seven entries
    older_entries = _stored(engine, log)[:5]  # the operator restores the five-entry backup
    with pytest.raises(LogInconsistent, match="rollback: the checkpoint covers 5 entries but "
                                              "an earlier checkpoint already covered 7"):
        verify_log(older_entries, checkpoint=seven, verifier=log.signer.verifier,
                   old_checkpoint=kept)


def test_a_forked_history_is_caught(engine: Engine, log: AuditLog, seven: str,
                                    make_event: MakeEvent, tmp_path: Path) -> None:
    fork = create_engine(f"sqlite:///{tmp_path}/fork.db")
    metadata.create_all(fork)
    events = [make_event(i) for i in range(9)]
    events[2] = make_event(2, purpose="rewritten after the fact")
    forged = _append(fork, log, events)  # same key: an insider re-signs a rewritten log
    fork_entries = _stored(fork, log)
    verify_log(fork_entries, checkpoint=forged, verifier=log.signer.verifier)  # alone, it passes
    with pytest.raises(LogInconsistent, match="history rewritten: the first 5 entries"):
        verify_log(fork_entries, checkpoint=forged, verifier=log.signer.verifier,
                   old_checkpoint=seven)
    fork.dispose()


def test_entries_beyond_the_checkpoint_are_reported(engine: Engine, log: AuditLog, seven: str,
                                                    make_event: MakeEvent) -> None:
    with pytest.raises(LogInconsistent, match="7 entries but the checkpoint covers only 5"):
        verify_log(_stored(engine, log), checkpoint=seven, verifier=log.signer.verifier)


def test_a_checkpoint_from_another_key_is_refused(engine: Engine, log: AuditLog,
                                                  seven: str) -> None:
    stranger = NoteVerifier(log.origin, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(SignatureInvalid, match="no signature by"):
        verify_log(_stored(engine, log)[:5], checkpoint=seven, verifier=stranger)


def test_an_old_checkpoint_of_another_log_is_refused(engine: Engine, log: AuditLog,
                                                     seven: str) -> None:
    old = log.signer.sign(Checkpoint("other.log", 1, root_hash([])).to_text())
    with engine.connect() as conn:
        checkpoint = log.latest_checkpoint(conn)
    assert checkpoint is not None
    with pytest.raises(SignatureInvalid, match="for the log 'other.log'"):
        verify_log(_stored(engine, log), checkpoint=checkpoint, verifier=log.signer.verifier,
                   old_checkpoint=old)


def test_the_servers_consistency_proof_is_checked_too(engine: Engine, log: AuditLog,
                                                      seven: str) -> None:
    with engine.connect() as conn:
        proof, checkpoint = log.consistency_proof(conn, 5, 7), log.latest_checkpoint(conn)
    assert checkpoint is not None
    args = {"checkpoint": checkpoint, "verifier": log.signer.verifier, "old_checkpoint": seven}
    verify_log(_stored(engine, log), old_consistency_proof=proof, **args)
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:]] + proof[1:]
    with pytest.raises(LogInconsistent, match="consistency proof from 5 to 7"):
        verify_log(_stored(engine, log), old_consistency_proof=flipped, **args)


# -- evidence bundles ---------------------------------------------------------------------


def _bundle(engine: Engine, log: AuditLog) -> EvidenceBundle:
    with engine.connect() as conn:
        return log.evidence(conn)


def _with(bundle: EvidenceBundle, logged: list[bytes], **changes: Any) -> EvidenceBundle:
    return dataclasses.replace(bundle, logged=logged, **changes)


def test_an_evidence_bundle_round_trips_and_verifies(engine: Engine, log: AuditLog,
                                                     seven: str) -> None:
    data = _bundle(engine, log).to_bytes()
    header, *lines = data.decode().split("\n")
    assert json.loads(header)["format"] == "govex-evidence/2" and json.loads(header)[
        "entries"] == 7
    with engine.connect() as conn:  # one line per entry: the exact text the log hashed
        assert lines == [t for _, t in log.entries(conn, logged=True)] + [""]
    bundle = EvidenceBundle.from_bytes(data)
    pinned = NoteVerifier.from_vkey(log.signer.verifier_key)
    assert bundle.verify(verifier=pinned, old_checkpoint=seven).size == 7
    assert bundle.verify().size == 7  # with the bundle's own key
    assert bundle.events() == [json.loads(line) for line in lines[:-1]]


def test_a_format_1_bundle_of_json_objects_still_verifies(engine: Engine, log: AuditLog,
                                                          seven: str) -> None:
    bundle = _bundle(engine, log)
    body = {"format": "govex-evidence/1", "origin": bundle.origin, "vkey": bundle.vkey,
            "checkpoint": bundle.checkpoint,
            "entries": [{"index": i, "entry": e} for i, e in enumerate(bundle.events())]}
    old = EvidenceBundle.from_bytes(json.dumps(body, ensure_ascii=False, indent=1))
    assert old.verify(verifier=log.signer.verifier, old_checkpoint=seven).size == 7
    assert old.logged == bundle.logged
    body["entries"][3]["entry"]["actor"] = "someone else"
    with pytest.raises(LogInconsistent, match="root mismatch"):
        EvidenceBundle.from_bytes(json.dumps(body)).verify(verifier=log.signer.verifier)


def _drop(logged: list[bytes]) -> list[bytes]:
    return logged[:3] + logged[4:]


def _reorder(logged: list[bytes]) -> list[bytes]:
    return logged[:2] + [logged[3], logged[2]] + logged[4:]


def _rewrite(logged: list[bytes]) -> list[bytes]:
    event = json.loads(logged[1]) | {"actor": "someone else"}
    return [logged[0], rfc8785.dumps(event), *logged[2:]]  # canonical, but edited


def _reencode(logged: list[bytes]) -> list[bytes]:
    """The same event in other bytes (key order): not what the log hashed."""
    event = json.loads(logged[2])
    return [*logged[:2], json.dumps(dict(reversed(event.items()))).encode(), *logged[3:]]


@pytest.mark.parametrize(("tamper", "message"), [
    (_drop, "6 entries but the checkpoint covers 7: .*deleted \\(truncation\\)"),
    (_reorder, "root mismatch: an entry was altered, removed or reordered"),
    (lambda logged: logged + logged[-1:], "8 entries but the checkpoint covers only 7: "
                                          "entries were added without a signature"),
    (_rewrite, "root mismatch"),
    (_reencode, "root mismatch"),
    (lambda logged: logged[:5], "5 entries but the checkpoint covers 7: .*truncation"),
], ids=["dropped", "reordered", "duplicated", "rewritten", "re-encoded", "truncated"])
def test_a_tampered_bundle_is_refused(engine: Engine, log: AuditLog, seven: str,
                                      tamper: Callable[[list[bytes]], list[bytes]],
                                      message: str) -> None:
    bundle = _bundle(engine, log)
    bad = EvidenceBundle.from_bytes(_with(bundle, tamper(bundle.logged)).to_bytes())
    with pytest.raises(LogInconsistent, match=message):
        bad.verify(verifier=log.signer.verifier)


def _renumber(data: bytes, count: int) -> bytes:
    header, rest = data.split(b"\n", 1)
    return json.dumps(json.loads(header) | {"entries": count}).encode() + b"\n" + rest


@pytest.mark.parametrize(("damage", "pattern"), [
    (lambda data: data[:-1], "last line is cut short"),
    (lambda data: data[: data.rindex(b"\n", 0, -1) + 1], "holds 6 entries but its header "
                                                         "counts 7"),
    (lambda data: _renumber(data, 8), "holds 7 entries but its header counts 8"),
    (lambda data: _renumber(data, -1), "no entry count"),
], ids=["cut mid-line", "last line lost", "count edited", "negative count"])
def test_a_damaged_bundle_file_is_refused_before_verifying(engine: Engine, log: AuditLog,
                                                            seven: str, damage: Any,
                                                            pattern: str) -> None:
    with pytest.raises(InvalidFormat, match=pattern):
        EvidenceBundle.from_bytes(damage(_bundle(engine, log).to_bytes()))


def test_a_bundle_saved_with_crlf_line_ends_still_verifies(engine: Engine, log: AuditLog,
                                                          seven: str) -> None:
    bundle = _bundle(engine, log)
    windows = EvidenceBundle.from_bytes(bundle.to_bytes().replace(b"\n", b"\r\n"))
    assert windows.logged == bundle.logged and windows.verify(verifier=log.signer.verifier)


def test_a_bundle_signed_by_a_forger_fails_with_the_pinned_key(engine: Engine, log: AuditLog,
                                                               seven: str) -> None:
    forger = AuditLog(origin=log.origin, signer=NoteSigner(log.origin,
                                                           Ed25519PrivateKey.generate()))
    with engine.begin() as conn:
        conn.execute(delete(entries_table).where(entries_table.c.idx == 6))
    bundle = _bundle(engine, log)
    forged_note = forger.signer.sign(f"{log.origin}\n6\n"
                                     f"{_root_b64(bundle.events())}\n")
    forged = _with(bundle, bundle.logged, vkey=forger.signer.verifier_key,
                   checkpoint=forged_note)
    assert forged.verify().size == 6  # self-consistent: only a pinned key exposes it
    with pytest.raises(SignatureInvalid, match="no signature by"):
        forged.verify(verifier=NoteVerifier.from_vkey(log.signer.verifier_key))


def _root_b64(entries: list[dict[str, Any]]) -> str:
    return base64.b64encode(root_hash([leaf_hash(rfc8785.dumps(e)) for e in entries])).decode()


def test_a_bundle_for_another_origin_is_refused(engine: Engine, log: AuditLog,
                                                seven: str) -> None:
    bundle = _bundle(engine, log)
    with pytest.raises(SignatureInvalid, match="not 'other.log'"):
        _with(bundle, bundle.logged, origin="other.log").verify()


_V1 = '{"format": "govex-evidence/1", "origin": "o", "vkey": "k", "checkpoint": "c", '


@pytest.mark.parametrize(("text", "pattern"), [
    ("not json", "neither JSON Lines nor JSON"),
    ("[]", "format"),
    ('{"format": "govex-evidence/3"}', "format"),
    ('{"format": "govex-evidence/2", "origin": "o", "vkey": "k", "entries": 0}\n',
     "origin, vkey, checkpoint"),
    (_V1 + '"entries": [{"index": 0, "logged": {"type": "init"}}]}', "logged text"),
    (_V1 + '"entries": [{"index": 0, "logged": "{}", "entry": {}}]}', "either the logged"),
    ('{"format": "govex-evidence/1", "origin": "o", "vkey": "k"}', "origin, vkey"),
    (_V1 + '"entries": [{"index": "0", "entry": {}}]}', "integer index"),
    (_V1 + '"entries": [{"index": 0, "entry": []}]}', "object entry"),
    (_V1 + '"entries": [5]}', "evidence entry"),
], ids=["not json", "array", "other format", "no checkpoint", "logged object",
        "logged and entry", "no entries", "string index", "array entry", "bare number"])
def test_malformed_bundles_are_refused(text: str, pattern: str) -> None:
    with pytest.raises(InvalidFormat, match=pattern):
        EvidenceBundle.from_bytes(text)


@pytest.mark.parametrize(("entries", "message"), [
    ([{"index": 0, "entry": {"n": 0}}, {"index": 2, "entry": {"n": 2}}],
     "entry 1 is missing \\(the next entry is 2\\): entries were deleted"),
    ([{"index": 1, "entry": {}}, {"index": 0, "entry": {}}],
     "entries were reordered: position 0 holds entry 1"),
    ([{"index": 0, "entry": {}}, {"index": 0, "entry": {}}],
     "entry 0 appears again at position 1: .*duplicated"),
    ([{"index": 0, "entry": {"x": float("nan")}}], "entry 0 has no canonical form"),
], ids=["missing", "reordered", "duplicated", "not canonical"])
def test_entries_paged_out_of_order_are_refused(entries: list[dict[str, Any]],
                                                message: str) -> None:
    with pytest.raises(LogInconsistent, match=message):
        EvidenceBundle.from_entries(origin="o", vkey="k", checkpoint="c", entries=entries)


@pytest.mark.parametrize("logged", [b"[1, 2]", b"not json", b'"a string"'])
def test_a_logged_text_that_is_not_an_object_cannot_be_read_as_an_event(logged: bytes) -> None:
    bundle = EvidenceBundle(origin="o", vkey="k", checkpoint="c", logged=[logged])
    with pytest.raises(InvalidFormat, match="entry 0 as logged is not a JSON object"):
        bundle.events()


@pytest.mark.parametrize("logged", [[b'{"a":1}\n{"b":2}'], ['{"a":1}']], ids=["newline", "str"])
def test_an_entry_is_one_line_of_bytes(logged: list[Any]) -> None:
    with pytest.raises(InvalidFormat, match="without a newline"):
        EvidenceBundle(origin="o", vkey="k", checkpoint="c", logged=logged)


def test_an_old_checkpoint_signed_before_a_key_rotation(engine: Engine, log: AuditLog,
                                                        seven: str) -> None:
    rotated = AuditLog(origin=log.origin,
                       signer=NoteSigner(log.origin, Ed25519PrivateKey.generate()))
    with engine.begin() as conn:
        checkpoint = rotated.checkpoint(conn, now=NOW)
    entries = _stored(engine, log)
    with pytest.raises(SignatureInvalid, match="no signature by"):
        verify_log(entries, checkpoint=checkpoint, verifier=rotated.signer.verifier,
                   old_checkpoint=seven)
    result = verify_log(entries, checkpoint=checkpoint, verifier=rotated.signer.verifier,
                        old_checkpoint=seven, old_verifier=log.signer.verifier)
    assert result.size == 7


# -- which published key signed a checkpoint (an export across a key rotation) ---------------

def _note_by(signer: NoteSigner) -> str:
    from audit.merkle import EMPTY_ROOT
    return signer.sign(Checkpoint("example.org/log", 0, EMPTY_ROOT).to_text())


@pytest.mark.parametrize(("signed_by", "published", "expected"), [
    ("old", ["new", "old"], "old"),     # the checkpoint predates the rotation
    ("new", ["new", "old"], "new"),
    ("forger", ["new", "old"], "new"),  # nobody published signed it: the first, to fail later
    ("old", ["garbage", "old"], "old"),
])
def test_signer_first_puts_the_published_key_that_signed_first(signed_by, published,
                                                               expected):
    from audit.verify import signer_first
    signers = {name: NoteSigner("example.org/log", Ed25519PrivateKey.generate())
               for name in ("new", "old", "forger")}
    vkeys = [signers[n].verifier_key if n in signers else "not a vkey" for n in published]
    ordered = signer_first(_note_by(signers[signed_by]), vkeys + vkeys)  # duplicates too
    assert ordered[0] == signers[expected].verifier_key
    assert sorted(ordered) == sorted(vkeys)  # each published key once, none lost
