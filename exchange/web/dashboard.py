"""The dashboard: deliveries per day, requests by status, median time to decision per
department — computed from the audit log, so it shows what an auditor may see."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, render_template
from flask_babel import format_timedelta
from flask_babel import gettext as _

from ..usecases import access, auditing
from .base import department_label, principal, services
from .charts import bar_chart, column_chart
from .i18n import number

__all__ = ["bp", "deliveries_per_day", "requests_by_status", "decision_hours"]

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

DAYS = 14
CST = dt.timezone(dt.timedelta(hours=8))


@bp.before_request
def _auditors_only() -> None:
    services().require(principal(), "audit", "read")


@bp.get("")
def index():
    svc = services()
    entries = auditing.evidence_bundle(svc, principal()).events()
    today = svc.clock().astimezone(CST).date()
    per_day = deliveries_per_day(entries, today=today)
    by_status = requests_by_status(entries)
    hours = decision_hours(entries)
    return render_template(
        "web/dashboard.html",
        per_day=column_chart([(d.strftime("%m-%d"), n, number(n)) for d, n in per_day]),
        by_status=bar_chart([(_status_label(s), n, number(n)) for s, n in by_status.items()]),
        hours=bar_chart([(department_label(dept), h, _duration(h)) for dept, h in hours.items()],
                        label_width=260),
        per_day_rows=per_day, status_rows=by_status, hour_rows=hours)


def _duration(hours: float) -> str:
    return format_timedelta(dt.timedelta(hours=hours), granularity="minute", threshold=1.5)


def _status_label(status: str) -> str:
    return {"pending": _("Pending"), "granted": _("Granted"), "denied": _("Denied"),
            "refused": _("Refused")}.get(status, status)


def _time(entry: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))


def deliveries_per_day(entries: Iterable[dict[str, Any]], *, today: dt.date,
                       days: int = DAYS) -> list[tuple[dt.date, int]]:
    """Deliveries on each of the last ``days`` days (China Standard Time), oldest first."""
    counts = Counter(_time(e).astimezone(CST).date() for e in entries
                     if e.get("type") == "exchange")
    first = today - dt.timedelta(days=days - 1)
    return [(first + dt.timedelta(days=i), counts[first + dt.timedelta(days=i)])
            for i in range(days)]


def _final_status(entries: Iterable[dict[str, Any]]) -> dict[str, str]:
    status: dict[str, str] = {}
    for e in entries:
        rid = e.get("request_id")
        if not rid:
            continue
        if e.get("type") == "request":
            status[rid] = e.get("outcome", "pending")
        elif e.get("type") == "approve" and e.get("outcome") == "granted":
            status[rid] = "granted"
        elif e.get("type") == "deny":
            status[rid] = "denied"
    return status


def requests_by_status(entries: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many requests are pending, granted, denied (by a steward) or refused (by rule)."""
    counts = Counter(_final_status(entries).values())
    return {s: counts.get(s, 0) for s in access.REQUEST_STATUSES}


def decision_hours(entries: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Median hours from request to a steward's decision, per providing department (requests
    decided by rule at once are left out)."""
    asked: dict[str, dt.datetime] = {}
    waits: dict[str, list[float]] = {}
    for e in entries:
        rid = e.get("request_id")
        if e.get("type") == "request" and e.get("outcome") == "pending":
            asked[rid] = _time(e)
        elif rid in asked and (e.get("type") == "deny" or (
                e.get("type") == "approve" and e.get("outcome") == "granted")):
            hours = (_time(e) - asked.pop(rid)).total_seconds() / 3600
            waits.setdefault(e.get("provider", "?"), []).append(hours)
    return {dept: statistics.median(v) for dept, v in sorted(waits.items())}
