"""Auditor pages: the log with filters, one entry with its inclusion proof, the signed
checkpoint with the result of verifying the whole log, and the evidence bundle."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from typing import Any

from flask import Blueprint, Response, render_template, request

from audit import (
    AuditError,
    Checkpoint,
    EvidenceBundle,
    NoteVerifier,
    canonical_bytes,
    leaf_hash,
    open_checkpoint,
    signer_first,
    verify_inclusion,
)

from .. import auditing
from ..auth import Principal
from ..errors import InvalidInput, NotFound
from ..services import Services
from .base import bp as parent
from .base import principal, services
from .i18n import TIMEZONE

__all__ = ["bp", "evidence_bundle", "verify_bundle", "EVENT_TYPES", "LogCheck"]

bp = Blueprint("auditor", __name__, url_prefix="/audit")
parent.register_blueprint(bp)

PAGE = 50
EVENT_TYPES = ("publish", "request", "approve", "deny", "revoke", "exchange", "authz_denied",
               "authz_throttled", "sign_in_failed", "sign_in_locked", "user_add", "user_change",
               "key_rotate", "init")
_TEXT_FILTERS = ("type", "department", "dataset_id", "actor")


@bp.before_request
def _auditors_only() -> None:
    services().require(principal(), "audit", "read")


@bp.get("/log")
def log():
    svc = services()
    chosen = {k: request.args.get(k, "").strip()[:100] for k in _TEXT_FILTERS + ("from", "to")}
    offset = max(0, _int(request.args.get("offset"), 0))
    args = {k: chosen[k] for k in _TEXT_FILTERS} | _time_range(chosen["from"], chosen["to"])
    page = auditing.entries(svc, principal(), args | {"offset": offset, "limit": PAGE})
    return render_template("web/audit_log.html", page=page, chosen=chosen, offset=offset,
                           size=PAGE, event_types=EVENT_TYPES,
                           query={k: v for k, v in chosen.items() if v})


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


def _time_range(start: str, end: str) -> dict[str, str]:
    """Dates picked in China Standard Time as the log's UTC bounds; ``end`` is inclusive."""
    zone = dt.timezone(dt.timedelta(hours=8), TIMEZONE)
    bounds: dict[str, str] = {}
    for name, text, extra in (("since", start, 0), ("until", end, 1)):
        if text:
            day = _date(text, "from" if name == "since" else "to") + dt.timedelta(days=extra)
            moment = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.timezone.utc)
            bounds[name] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return bounds


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a date such as 2026-11-28") from None


@bp.get("/log/<int:index>")
def entry(index: int):
    svc, who = services(), principal()
    found = auditing.entries(svc, who, {"offset": index, "limit": 1})["entries"]
    if not found or found[0]["index"] != index:
        raise NotFound(f"no audit entry {index}")
    record = found[0]["entry"]
    return render_template("web/audit_entry.html", index=index, entry=record,
                           included=_inclusion(svc, who, index, record))


def _inclusion(svc: Services, who: Principal, index: int, record: dict) -> dict[str, Any]:
    """Check the entry against the current signed checkpoint with an inclusion proof."""
    key = auditing.verifier_key(svc)
    signed = open_checkpoint(auditing.checkpoint(svc, who), NoteVerifier.from_vkey(key["vkey"]))
    proof = auditing.inclusion(svc, who, {"index": index, "size": signed.size})
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    try:
        verify_inclusion(index=index, size=signed.size, leaf_hash=leaf_hash(canonical_bytes(
            record)), proof=hashes, root=signed.root_hash)
    except AuditError as exc:
        return {"ok": False, "size": signed.size, "problem": str(exc), "hashes": len(hashes)}
    return {"ok": True, "size": signed.size, "problem": None, "hashes": len(hashes)}


@dataclasses.dataclass(frozen=True)
class LogCheck:
    """The outcome of verifying the whole log: ``problem`` is None when it verified."""

    size: int
    root_hex: str
    uncovered: int
    problem: str | None


@bp.get("/checkpoint")
def checkpoint():
    svc = services()
    bundle = evidence_bundle(svc, principal())
    size = auditing.entries(svc, principal(), {"limit": 1})["size"]
    return render_template("web/audit_checkpoint.html", bundle=bundle,
                           check=verify_bundle(bundle, log_size=size), origin=bundle.origin)


@bp.get("/evidence.jsonl")
def evidence():
    bundle = evidence_bundle(services(), principal())
    stamp = services().clock().strftime("%Y%m%dT%H%M%SZ")
    return Response(bundle.to_bytes(), mimetype="application/jsonl", headers={
        "Content-Disposition": f'attachment; filename="govex-evidence-{stamp}.jsonl"',
        "Cache-Control": "no-store"})


def evidence_bundle(svc: Services, who: Principal) -> EvidenceBundle:
    """The signed checkpoint, the verifier key and exactly the entries it covers (entries
    appended meanwhile belong to the next checkpoint). Raises Forbidden."""
    note = auditing.checkpoint(svc, who)
    key = auditing.verifier_key(svc)
    size = Checkpoint.unverified(note).size
    entries: list[dict[str, Any]] = []
    while len(entries) < size:
        limit = min(auditing.MAX_PAGE, size - len(entries))
        page = auditing.entries(svc, who, {"offset": len(entries), "limit": limit,
                                           "form": "logged"})
        entries += page["entries"]
        if len(page["entries"]) < limit:
            break
    # a rotation may fall between the two reads: the key that signed comes first
    vkey, *retired = signer_first(note, [key["vkey"], *(k["vkey"] for k in key["keys"])])
    return EvidenceBundle.from_entries(origin=key["origin"], vkey=vkey, checkpoint=note,
                                       entries=entries, retired_vkeys=retired)


def verify_bundle(bundle: EvidenceBundle, *, log_size: int | None = None) -> LogCheck:
    """Recompute the tree from every entry and check it against the signed checkpoint;
    ``uncovered`` counts the entries of a log of ``log_size`` the checkpoint does not cover
    yet."""
    uncovered = max(0, (log_size or 0) - len(bundle))
    try:
        done = bundle.verify(verifier=NoteVerifier.from_vkey(bundle.vkey))
    except AuditError as exc:
        return LogCheck(size=len(bundle), root_hex="", uncovered=uncovered, problem=str(exc))
    return LogCheck(size=done.size, root_hex=done.root_hash.hex(), uncovered=uncovered,
                    problem=None)
