"""Audit log figures on a SQLite file: appends per second (batched and one transaction each),
proof latency at the end of the log, and offline verification speed.

Usage (from the repository root; run as a module so this file does not shadow the
``audit`` package): python -m benchmarks.audit [entries]   (default 20000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine

from audit import AuditLog, NoteSigner, metadata

ORIGIN = "bench.govex/audit"


def _event(n: int) -> dict[str, object]:
    return {"type": "exchange", "time": "2026-11-28T03:40:00Z", "actor": f"user{n % 50}",
            "actor_department": "civil", "provider": "hotline", "receiver": "civil",
            "dataset_id": f"ds-{n % 20}", "row_count": n, "columns": {"phone": "mask"}}


def _timed(label: str, count: int, seconds: float) -> None:
    print(f"{label:<44} {count / seconds:>10,.0f}/s  ({seconds * 1e6 / count:,.0f} µs each)")


def main(entries: int) -> None:
    """Print the figures for a log of ``entries`` entries."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        metadata.create_all(engine)
        log = AuditLog(origin=ORIGIN, signer=NoteSigner(ORIGIN, Ed25519PrivateKey.generate()))
        start = time.perf_counter()
        with engine.begin() as conn:
            for n in range(entries):
                log.append(conn, _event(n))
        _timed(f"append, {entries:,} in one transaction", entries, time.perf_counter() - start)
        single = min(500, entries)
        start = time.perf_counter()
        for n in range(single):
            with engine.begin() as conn:
                log.append(conn, _event(n))
        _timed("append, one transaction each", single, time.perf_counter() - start)
        _proofs(engine, log)
        _verify(engine, log)


def _proofs(engine: object, log: AuditLog) -> None:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        size = log.size(conn)
        start = time.perf_counter()
        for index in range(0, size, max(1, size // 200)):
            log.inclusion_proof(conn, index, size)
        _timed(f"inclusion proof at size {size:,}", 200, time.perf_counter() - start)
        start = time.perf_counter()
        for old in range(1, size, max(1, size // 200)):
            log.consistency_proof(conn, old, size)
        _timed("consistency proof", 200, time.perf_counter() - start)


def _verify(engine: object, log: AuditLog) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        log.checkpoint(conn, now=datetime.now(timezone.utc))
        bundle = log.evidence(conn)
    start = time.perf_counter()
    bundle.verify()
    _timed("offline verification (entries)", len(bundle.entries), time.perf_counter() - start)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
