"""Fixtures of the audit tests: a signer, a stored log (SQLite, or PostgreSQL with --database
postgresql), sample events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine

from audit import AuditLog, NoteSigner, metadata

ORIGIN = "govex.test/audit"


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def engine(tmp_path: Path, database_url) -> Iterator[Engine]:
    # as the exchange makes its engines: a failed statement's values stay out of its message
    engine = create_engine(database_url(tmp_path), hide_parameters=True)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def log(signer: NoteSigner) -> AuditLog:
    return AuditLog(origin=ORIGIN, signer=signer)


@pytest.fixture
def make_event() -> Callable[..., dict[str, object]]:
    """``make_event(n, **extra)``: a plausible exchange event, the ``n``-th of a day."""
    return _event


def _event(n: int, **extra: object) -> dict[str, object]:
    departments = ("hotline", "civil", "police")
    return {"type": ("publish", "request", "approve", "exchange")[n % 4],
            "time": f"2026-11-28T{n // 60:02d}:{n % 60:02d}:00Z",
            "actor": f"user{n % 3}", "actor_department": departments[n % 3],
            "provider": departments[n % 3], "receiver": departments[(n + 1) % 3],
            "dataset_id": f"ds-{n % 5}", "dataset_version": 1, "row_count": n * 10,
            "columns": {"name": "mask", "phone": "hash"}, **extra}
