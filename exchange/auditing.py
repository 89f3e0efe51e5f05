"""Use cases of auditors: read entries with filters, the signed checkpoint, proofs, evidence."""

from __future__ import annotations

import base64
from typing import Any

from audit import NoteSigner

from .auth import Principal
from .errors import InvalidInput
from .services import Services

__all__ = ["entries", "checkpoint", "inclusion", "consistency", "verifier_key", "FILTERS"]

FILTERS = ("type", "since", "until", "department", "dataset_id", "actor")
MAX_PAGE = 1000


def _int(value: Any, name: str, *, default: int | None = None, low: int = 0) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number") from None
    if number < low:
        raise InvalidInput(f"{name} must be at least {low}")
    return number


def entries(svc: Services, who: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """A page of entries, filtered. Raises Forbidden, InvalidInput."""
    svc.require(who, "audit", "read")
    offset = _int(args.get("offset"), "offset", default=0)
    limit = min(_int(args.get("limit"), "limit", default=100, low=1), MAX_PAGE)
    filters = {k: args[k] for k in FILTERS if args.get(k)}
    with svc.reader.connect() as conn:
        log = svc.audit_log()
        rows = log.entries(conn, offset=offset, limit=limit, **filters)
        size = log.size(conn)
    return {"size": size, "offset": offset, "limit": limit,
            "entries": [{"index": i, "entry": e} for i, e in rows]}


def checkpoint(svc: Services, who: Principal) -> str:
    """The latest signed checkpoint (C2SP signed note)."""
    svc.require(who, "audit", "read")
    return svc.checkpoint()


def inclusion(svc: Services, who: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """Inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    svc.require(who, "audit", "read")
    index, size = _int(args.get("index"), "index"), _int(args.get("size"), "size", low=1)
    with svc.reader.connect() as conn:
        proof = svc.audit_log().inclusion_proof(conn, index, size)
    return {"index": index, "size": size, "hashes": [_b64(h) for h in proof]}


def consistency(svc: Services, who: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """Consistency proof between the trees of ``old`` and ``new`` entries."""
    svc.require(who, "audit", "read")
    old, new = _int(args.get("old"), "old", low=1), _int(args.get("new"), "new", low=1)
    with svc.reader.connect() as conn:
        proof = svc.audit_log().consistency_proof(conn, old, new)
    return {"old": old, "new": new, "hashes": [_b64(h) for h in proof]}


def verifier_key(svc: Services) -> dict[str, str]:
    """The C2SP verifier key of the checkpoint signer (public)."""
    active = svc.keys.active(svc.reader)
    signer = NoteSigner(svc.settings.log_origin, active.private_key)
    return {"origin": svc.settings.log_origin, "vkey": signer.verifier_key}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
