"""Auditor pages: the log with filters, one entry with its inclusion proof, the signed
checkpoint with the result of verifying the whole log, a saved checkpoint checked against
today's log, and the evidence bundle."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale, gettext

from policies import rfc3339

from ..errors import InvalidInput, NotFound
from ..usecases import audit_export, auditing
from .base import FormError, event_labels, form_fields, principal, services
from .i18n import TIMEZONE

__all__ = ["bp"]

bp = Blueprint("auditor", __name__, url_prefix="/audit")

PAGE = 50
_TEXT_FILTERS = ("type", "department", "dataset_id", "actor")


@bp.before_request
def _auditors_only() -> None:
    services().require(principal(), "audit", "read")


@bp.get("/log")
def log():
    svc = services()
    chosen = _chosen()
    offset = max(0, _int(request.args.get("offset"), 0))
    page = auditing.entries(svc, principal(), _query(chosen, offset=offset, limit=PAGE))
    return render_template("web/audit_log.html", page=page, chosen=chosen, offset=offset,
                           size=PAGE, event_types=auditing.EVENT_TYPES,
                           query={k: v for k, v in chosen.items() if v},
                           max_matches=auditing.MAX_MATCHES, export_max=auditing.EXPORT_MAX)


@bp.get("/log.<any(csv, xlsx):fmt>")
def export(fmt: str):
    """The entries the log page's filters select, newest first as the page shows them (or
    ``order=asc``: in log order), as a CSV for Excel or an XLSX."""
    chosen = _chosen()
    query = _query(chosen, newest_first=request.args.get("order") != "asc")
    made = audit_export.export(services(), principal(), query, fmt=fmt,
                               events=event_labels(), headers=_export_headers(),
                               english=str(get_locale()) != "zh")
    return Response(made.blocks, content_type=made.media_type, headers=made.headers())


def _chosen() -> dict[str, str]:
    """The log page's filters as typed (each at most 100 characters)."""
    return {k: request.args.get(k, "").strip()[:100] for k in _TEXT_FILTERS + ("from", "to")}


def _query(chosen: dict[str, str], *, offset: int = 0, limit: int = 1,
           newest_first: bool = True) -> auditing.EntryQuery:
    return auditing.EntryQuery(
        offset=offset, limit=limit, newest_first=newest_first,
        **{k: chosen[k] or None for k in _TEXT_FILTERS},
        **_time_range(chosen["from"], chosen["to"]))


def _export_headers() -> list[str]:
    """The columns of :data:`audit_export.HEADERS` in the page's language."""
    return [gettext("Index"), gettext("Time (China Standard Time, UTC+8)"), gettext("Event"),
            gettext("User"), gettext("User's department"), gettext("Provider"),
            gettext("Receiver"), gettext("Dataset"), gettext("Outcome"), gettext("Rows"),
            gettext("SHA-256"), gettext("Entry as logged (RFC 8785 JSON)")]


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
            bounds[name] = rfc3339(moment)
    return bounds


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a date such as 2026-11-28") from None


@bp.get("/log/<int:index>")
def entry(index: int):
    svc, who = services(), principal()
    found = auditing.entries(svc, who, auditing.EntryQuery(offset=index, limit=1))["entries"]
    if not found or found[0]["index"] != index:
        raise NotFound(f"no audit entry {index}")
    record = found[0]["entry"]
    return render_template("web/audit_entry.html", index=index, entry=record,
                           included=auditing.check_inclusion(svc, who, index, record))


@bp.get("/checkpoint")
def checkpoint():
    svc = services()
    bundle = auditing.evidence_bundle(svc, principal())
    size = auditing.entries(svc, principal(), auditing.EntryQuery(limit=1))["size"]
    return render_template("web/audit_checkpoint.html", bundle=bundle,
                           check=auditing.verify_bundle(bundle, log_size=size),
                           origin=bundle.origin)


@bp.get("/checkpoint.txt")
def checkpoint_file():
    """The current signed checkpoint as a file to keep, named by its size and day."""
    svc = services()
    note = auditing.checkpoint(svc, principal())
    size = note.split("\n", 2)[1]
    stamp = svc.clock().strftime("%Y%m%d")
    return Response(note, mimetype="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="govex-checkpoint-{size}-{stamp}.txt"',
        "Cache-Control": "no-store"})


@bp.route("/checkpoint/check", methods=["GET", "POST"])
@form_fields("checkpoint")
def check_checkpoint():
    """Check a checkpoint saved earlier against today's log (on the server; nothing kept)."""
    result, errors = None, []
    if request.method == "POST":
        upload = request.files.get("checkpoint")
        if upload is None or not upload.filename:
            errors = [FormError("checkpoint", gettext("Choose the checkpoint file you saved."))]
        else:
            note = upload.stream.read(auditing.MAX_CHECKPOINT_BYTES + 1)
            result = auditing.check_saved_checkpoint(services(), principal(), note)
    page = render_template("web/audit_checkpoint_check.html", result=result, errors=errors)
    return page, (422 if errors else 200)


@bp.get("/evidence.jsonl")
def evidence():
    bundle = auditing.evidence_bundle(services(), principal())
    stamp = services().clock().strftime("%Y%m%dT%H%M%SZ")
    return Response(bundle.to_bytes(), mimetype="application/jsonl", headers={
        "Content-Disposition": f'attachment; filename="govex-evidence-{stamp}.jsonl"',
        "Cache-Control": "no-store"})
