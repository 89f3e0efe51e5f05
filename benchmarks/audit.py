"""Audit log figures: durable appends per second (SQLite in WAL mode, ``synchronous=FULL``, one
transaction per append, the engine the exchange itself uses), proof sizes and latency, and the
time to verify 100k and 1M entries from scratch against the floor of SHA-256-ing the same bytes
once. Every timing is the median of several rounds (the machine is shared and noisy).

Usage (from the repository root; run as a module so this file does not shadow the ``audit``
package): python -m benchmarks.audit [--rounds 5] [--appends 500] [--sizes 100000,1000000]
[--postgresql]  (the appends also on a throwaway PostgreSQL cluster, fsync on)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import (
    AuditLog,
    Checkpoint,
    EvidenceBundle,
    NoteSigner,
    canonical_bytes,
    merkle,
    metadata,
    verify_log,
)
from exchange.db import make_engine

ORIGIN = "bench.govex/audit"


def _event(n: int) -> dict[str, Any]:
    """An exchange entry shaped like the ones deliveries write (about 600 bytes)."""
    return {"type": "exchange", "time": "2026-11-28T03:40:00Z", "actor": f"user{n % 50}",
            "actor_department": "civil", "provider": "hotline", "receiver": "civil",
            "dataset_id": f"ds_{n % 20:016x}", "dataset_version": 1 + n % 3,
            "request_id": f"rq_{n:016x}", "grant_id": f"gr_{n:016x}",
            "exchange_id": f"ex_{n:016x}", "purpose": "核查低保申请人近一年的诉求记录",
            "columns": {"工单编号": "keep", "来电人": "mask", "联系电话": "hash",
                        "诉求内容": "scrub"},
            "row_count": n % 5000, "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
            "outcome": "delivered"}


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def _rounds(rounds: int, work: Callable[[], Any]) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def _rate_line(label: str, count: int, times: list[float]) -> float:
    rates = sorted(count / t for t in times)
    median = _median(rates)
    print(f"  {label:<52} {median:>8,.0f}/s  (runs {rates[0]:,.0f}–{rates[-1]:,.0f}; "
          f"{1e6 / median:,.0f} µs each)")
    return median


# -- durable appends -----------------------------------------------------------------------


def _engine(path: Path, *, durable: bool = True) -> sa.Engine:
    engine = make_engine(f"sqlite:///{path}")
    if not durable:  # the same engine without the fsync: what the CPU alone costs
        sa.event.listen(engine, "connect",
                        lambda dbapi, _rec: dbapi.execute("PRAGMA synchronous=OFF"))
    metadata.create_all(engine)
    return engine


def appends(rounds: int, count: int, *, postgresql: bool = False) -> None:
    """Appends per second, one transaction each, as the exchange commits them."""
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    log = AuditLog(origin=ORIGIN, signer=signer)
    print(f"durable appends (SQLite WAL, synchronous=FULL, one transaction per append; "
          f"median of {rounds} rounds of {count})")
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(Path(tmp) / "durable.db")
        _durable(engine, log, rounds, count)
        _proof_latency(engine, log)
        engine.dispose()
        fast = _engine(Path(tmp) / "nosync.db", durable=False)
        with fast.begin() as conn:
            log.append(conn, _event(0))
        _rate_line("append, synchronous=OFF (CPU cost only)", count,
                   _rounds(rounds, lambda: _append_each(fast, log, count)))
        fast.dispose()
    if postgresql:
        from tests.conftest import create_database, throwaway_cluster

        print(f"durable appends (PostgreSQL {_pg_version()}, fsync on, Unix socket, one "
              f"transaction per append; median of {rounds} rounds of {count})")
        with throwaway_cluster(fsync=True) as admin:
            engine = make_engine(create_database(admin))
            metadata.create_all(engine)
            _durable(engine, log, rounds, count)
            _proof_latency(engine, log)
            engine.dispose()


def _pg_version() -> str:
    from tests.conftest import _postgres_bin

    found = subprocess.run([str(_postgres_bin() / "postgres"), "--version"],
                           capture_output=True, text=True, check=False).stdout.split()
    return found[2] if len(found) > 2 else "?"  # postgres (PostgreSQL) 15.18 (Debian …)


def _durable(engine: sa.Engine, log: AuditLog, rounds: int, count: int) -> None:
    with engine.begin() as conn:
        for n in range(2000):  # a log that is not empty
            log.append(conn, _event(n))
    sequence = iter(range(10**9))

    def one_each() -> None:
        for _ in range(count):
            with engine.begin() as conn:
                log.append(conn, _event(next(sequence)))

    def with_checkpoint() -> None:  # Services.record: append, then sign
        for _ in range(count // 2):
            with engine.begin() as conn:
                log.append(conn, _event(next(sequence)))
            with engine.begin() as conn:
                log.checkpoint(conn, now=datetime.now(timezone.utc))

    floor = sa.Table("bench_floor", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True),
                     sa.Column("v", sa.Text))
    floor.create(engine)

    def bare_commits() -> None:  # the disk's floor: one small row, one durable commit
        for _ in range(count):
            with engine.begin() as conn:
                conn.execute(floor.insert().values(v="x"))

    _rate_line("append, one durable transaction each", count, _rounds(rounds, one_each))
    _rate_line("append + signed checkpoint (Services.record)", count // 2,
               _rounds(rounds, with_checkpoint))
    _rate_line("bare durable commit (the fsync floor)", count, _rounds(rounds, bare_commits))


def _append_each(engine: sa.Engine, log: AuditLog, count: int) -> None:
    for n in range(count):
        with engine.begin() as conn:
            log.append(conn, _event(n))


def _proof_latency(engine: sa.Engine, log: AuditLog) -> None:
    with engine.connect() as conn:
        size = log.size(conn)
        step = max(1, size // 200)
        inclusion = _rounds(3, lambda: [log.inclusion_proof(conn, i, size)
                                        for i in range(0, size, step)])
        consistency = _rounds(3, lambda: [log.consistency_proof(conn, old, size)
                                          for old in range(1, size, step)])
    _rate_line(f"inclusion proof from the stored log (size {size:,})", len(range(0, size, step)),
               inclusion)
    _rate_line("consistency proof from the stored log", len(range(1, size, step)), consistency)


# -- proof sizes ---------------------------------------------------------------------------


def proof_sizes(sizes: list[int]) -> None:
    print("proof sizes (SHA-256 hashes of 32 bytes; worst case over 1,000 sampled indexes)")
    for size in sizes:
        sample = range(0, size, max(1, size // 1000))
        inclusion = max(len(merkle.inclusion_proof_ranges(i, size)) for i in sample)
        consistency = max(len(merkle.consistency_proof_ranges(old, size))
                          for old in sample if old)
        print(f"  size {size:>9,}: inclusion ≤ {inclusion} hashes ({inclusion * 32} bytes), "
              f"consistency ≤ {consistency} hashes ({consistency * 32} bytes)")
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    note = signer.sign(Checkpoint(ORIGIN, max(sizes), bytes(32)).to_text())
    print(f"  a signed checkpoint (C2SP note): {len(note.encode())} bytes")


# -- verification from scratch -------------------------------------------------------------


def verification(size: int, rounds: int) -> None:
    """Verify ``size`` entries from scratch; compare with SHA-256 over the same bytes once."""
    blobs = [canonical_bytes(_event(n)) for n in range(size)]
    total = sum(map(len, blobs))
    tree = merkle.CompactRange()
    tree.extend(blobs)
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    note = signer.sign(Checkpoint(ORIGIN, size, tree.root()).to_text())
    verifier = signer.verifier
    print(f"verification of {size:,} entries from scratch ({total / 1e6:,.0f} MB of canonical "
          f"JSON; median of {rounds} rounds)")
    sha256 = hashlib.sha256
    floor = _median(_rounds(rounds, lambda: [sha256(b).digest() for b in blobs]))
    stream = b"".join(blobs)
    one_pass = _median(_rounds(rounds, lambda: sha256(stream).digest()))
    stream = b""  # free the joined copy before the verify rounds
    verify = _median(_rounds(rounds, lambda: verify_log(blobs, checkpoint=note,
                                                        verifier=verifier)))
    print(f"  floor: SHA-256 of each entry once        {floor:8.3f} s")
    print(f"  floor: SHA-256 of all bytes as one stream {one_pass:8.3f} s")
    print(f"  verify_log (entries as logged bytes)     {verify:8.3f} s  "
          f"= {verify / floor:.2f}× the per-entry floor, {verify / one_pass:.1f}× the stream")
    _verify_bundle(blobs, note, signer, rounds, floor)
    if size <= 100_000:
        _verify_parsed(blobs, note, signer, rounds, floor)


def _verify_bundle(blobs: list[bytes], note: str, signer: NoteSigner, rounds: int,
                   floor: float) -> None:
    """What ``govex audit verify --export FILE`` does: parse the bundle (format 2, JSON
    Lines, one entry per line exactly as logged) and verify it."""
    data = EvidenceBundle(origin=ORIGIN, vkey=signer.verifier_key, checkpoint=note,
                          logged=blobs).to_bytes()
    from_file = _median(_rounds(rounds, lambda: EvidenceBundle.from_bytes(data).verify(
        verifier=signer.verifier)))
    print(f"  evidence bundle file: parse {len(data) / 1e6:,.0f} MB + verify "
          f"{from_file:8.3f} s  = {from_file / floor:.2f}× the per-entry floor")


def _verify_parsed(blobs: list[bytes], note: str, signer: NoteSigner, rounds: int,
                   floor: float) -> None:
    """Entries as parsed JSON objects, canonicalized again (RFC 8785): format-1 bundles."""
    entries = [json.loads(b) for b in blobs]
    verify = _median(_rounds(rounds, lambda: verify_log(entries, checkpoint=note,
                                                        verifier=signer.verifier)))
    print(f"  verify_log (parsed entries, re-canonicalized) {verify:6.3f} s  "
          f"= {verify / floor:.1f}× the per-entry floor")
    body = {"format": "govex-evidence/1", "origin": ORIGIN, "vkey": signer.verifier_key,
            "checkpoint": note, "entries": [{"index": i, "entry": e}
                                            for i, e in enumerate(entries)]}
    text = json.dumps(body, ensure_ascii=False, indent=1)
    from_file = _median(_rounds(rounds, lambda: EvidenceBundle.from_bytes(text).verify(
        verifier=signer.verifier)))
    print(f"  format-1 bundle (entries as objects): parse {len(text) / 1e6:,.0f} MB + verify "
          f"{from_file:6.3f} s  = {from_file / floor:.1f}× the per-entry floor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--postgresql", action="store_true",
                        help="also on a throwaway PostgreSQL cluster (fsync on)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    appends(args.rounds, args.appends, postgresql=args.postgresql)
    proof_sizes(sizes)
    for size in sizes:
        verification(size, args.rounds if size <= 100_000 else max(3, args.rounds // 2))


if __name__ == "__main__":
    main()
