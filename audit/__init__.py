"""The tamper-evident audit log: an RFC 6962 / RFC 9162 Merkle tree over RFC 8785 canonical
JSON entries, stored with SQLAlchemy Core, with C2SP checkpoints signed (Ed25519 signed notes),
inclusion and consistency proofs, and an offline verifier.

Usage::

    from datetime import datetime, timezone
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy import create_engine
    from audit import AuditLog, NoteSigner, NoteVerifier, metadata

    engine = create_engine("sqlite:///audit.db")
    metadata.create_all(engine)
    signer = NoteSigner("govex.local/audit", Ed25519PrivateKey.generate())
    log = AuditLog(origin="govex.local/audit", signer=signer)

    with engine.begin() as conn:                 # the caller owns the transaction
        log.append(conn, {"type": "publish", "time": "2026-11-28T03:40:00Z",
                          "actor": "li", "provider": "hotline", "dataset_id": "calls"})
    with engine.begin() as conn:                 # sign only what has committed
        note = log.checkpoint(conn, now=datetime.now(timezone.utc))
        bundle = log.evidence(conn)

    # an auditor, offline, with the verifier key they pinned:
    bundle.verify(verifier=NoteVerifier.from_vkey(signer.verifier_key))

Verification raises (``LogInconsistent``, ``SignatureInvalid``, ``ProofInvalid``); it never
returns False.
"""

from __future__ import annotations

from .checkpoint import Checkpoint, NoteSigner, NoteVerifier, open_checkpoint, pick_verifier
from .errors import (
    AuditError,
    EntryNotFound,
    InvalidEvent,
    InvalidFormat,
    InvalidRange,
    LogInconsistent,
    ProofInvalid,
    SignatureInvalid,
)
from .events import canonical_bytes, parse_bound
from .log import Appended, AuditLog, SignedCheckpoint, metadata
from .merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from .verify import EvidenceBundle, VerifiedLog, signer_first, verify_entry, verify_log

__all__ = [
    "AuditError",
    "LogInconsistent",
    "ProofInvalid",
    "SignatureInvalid",
    "EntryNotFound",
    "InvalidRange",
    "InvalidEvent",
    "InvalidFormat",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "inclusion_proof",
    "consistency_proof",
    "verify_inclusion",
    "verify_consistency",
    "CompactRange",
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "open_checkpoint",
    "pick_verifier",
    "canonical_bytes",
    "parse_bound",
    "AuditLog",
    "Appended",
    "SignedCheckpoint",
    "metadata",
    "verify_log",
    "verify_entry",
    "VerifiedLog",
    "EvidenceBundle",
    "signer_first",
]
