"""Offline verification of a stored log, and the tampering it must catch: an edited, deleted
or swapped entry, truncation, rollback to an older checkpoint, and a forked history."""

from __future__ import annotations

import base64
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


def test_an_evidence_bundle_round_trips_and_verifies(engine: Engine, log: AuditLog,
                                                     seven: str) -> None:
    bundle = EvidenceBundle.from_json(_bundle(engine, log).to_json())
    assert json.loads(bundle.to_json())["format"] == "govex-evidence/1"
    pinned = NoteVerifier.from_vkey(log.signer.verifier_key)
    result = bundle.verify(verifier=pinned, old_checkpoint=seven)
    assert (result.size, result.uncovered) == (7, 0)
    assert bundle.verify().size == 7  # with the bundle's own key


def test_entries_appended_after_the_checkpoint_are_counted_not_verified(
        engine: Engine, log: AuditLog, seven: str) -> None:
    bundle = _bundle(engine, log)
    later = {"index": 7, "entry": {"type": "init", "time": "2026-11-28T05:00:00Z"}}
    grown = EvidenceBundle(origin=bundle.origin, vkey=bundle.vkey,
                           checkpoint=bundle.checkpoint, entries=[*bundle.entries, later])
    assert grown.verify().uncovered == 1


def _drop(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return entries[:3] + entries[4:]


def _reorder(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return entries[:2] + [entries[3], entries[2]] + entries[4:]


def _rewrite(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    changed = {**entries[1], "entry": {**entries[1]["entry"], "actor": "someone else"}}
    return [entries[0], changed, *entries[2:]]


@pytest.mark.parametrize(("tamper", "message"), [
    (_drop, "entry 3 is missing \\(the next entry is 4\\): entries were deleted"),
    (_reorder, "entries were reordered: position 2 holds entry 3"),
    (lambda entries: entries + entries[-1:], "entry 6 appears again at position 7: .*duplicated"),
    (_rewrite, "root mismatch"),
    (lambda entries: entries[:5], "5 entries but the checkpoint covers 7: .*truncation"),
], ids=["dropped", "reordered", "duplicated", "rewritten", "truncated"])
def test_a_tampered_bundle_is_refused(engine: Engine, log: AuditLog, seven: str,
                                      tamper: Callable[[list[dict[str, Any]]], Any],
                                      message: str) -> None:
    bundle = _bundle(engine, log)
    bad = EvidenceBundle(origin=bundle.origin, vkey=bundle.vkey, checkpoint=bundle.checkpoint,
                         entries=tamper(bundle.entries))
    with pytest.raises(LogInconsistent, match=message):
        bad.verify(verifier=log.signer.verifier)


def test_a_bundle_signed_by_a_forger_fails_with_the_pinned_key(engine: Engine, log: AuditLog,
                                                               seven: str) -> None:
    forger = AuditLog(origin=log.origin, signer=NoteSigner(log.origin,
                                                           Ed25519PrivateKey.generate()))
    with engine.begin() as conn:
        conn.execute(delete(entries_table).where(entries_table.c.idx == 6))
    bundle = _bundle(engine, log)
    forged_note = forger.signer.sign(f"{log.origin}\n6\n"
                                     f"{_root_b64([e['entry'] for e in bundle.entries])}\n")
    forged = EvidenceBundle(origin=log.origin, vkey=forger.signer.verifier_key,
                            checkpoint=forged_note, entries=bundle.entries)
    assert forged.verify().size == 6  # self-consistent: only a pinned key exposes it
    with pytest.raises(SignatureInvalid, match="no signature by"):
        forged.verify(verifier=NoteVerifier.from_vkey(log.signer.verifier_key))


def _root_b64(entries: list[dict[str, Any]]) -> str:
    return base64.b64encode(root_hash([leaf_hash(rfc8785.dumps(e)) for e in entries])).decode()


def test_a_bundle_for_another_origin_is_refused(engine: Engine, log: AuditLog,
                                                seven: str) -> None:
    bundle = _bundle(engine, log)
    renamed = EvidenceBundle(origin="other.log", vkey=bundle.vkey,
                             checkpoint=bundle.checkpoint, entries=bundle.entries)
    with pytest.raises(SignatureInvalid, match="not 'other.log'"):
        renamed.verify()


@pytest.mark.parametrize(("text", "pattern"), [
    ("not json", "not JSON"),
    ("[]", "format"),
    ('{"format": "govex-evidence/2"}', "format"),
    ('{"format": "govex-evidence/1", "origin": "o", "vkey": "k"}', "origin, vkey"),
    ('{"format": "govex-evidence/1", "origin": "o", "vkey": "k", "checkpoint": "c",'
     ' "entries": [{"index": "0", "entry": {}}]}', "integer index"),
    ('{"format": "govex-evidence/1", "origin": "o", "vkey": "k", "checkpoint": "c",'
     ' "entries": [{"index": 0, "entry": []}]}', "object entry"),
    ('{"format": "govex-evidence/1", "origin": "o", "vkey": "k", "checkpoint": "c",'
     ' "entries": [5]}', "evidence entry"),
], ids=["not json", "array", "other format", "no entries", "string index", "array entry",
        "bare number"])
def test_malformed_bundles_are_refused(text: str, pattern: str) -> None:
    with pytest.raises(InvalidFormat, match=pattern):
        EvidenceBundle.from_json(text)


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
