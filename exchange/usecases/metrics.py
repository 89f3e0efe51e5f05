"""How each department serves (考核): per providing department and period, from the records
of requests, appeals, ratings and objections.

* ``requests_received``: requests made to it in the period (by their time of asking);
* ``replied`` and ``replied_on_time``: of those with a time limit, how many a steward decided,
  and how many by the due time; ``median_reply_hours``: the median time to that decision in
  working hours (the clock stops on weekends and holidays: :func:`exchange.workdays.working_hours`);
* ``approval_rate``: granted / (granted + refused by a steward);
* ``escalated``: requests still pending at their due time; ``appeals`` against its refusals
  and how many the data authority ``returned``;
* ``ratings``, ``rating_mean`` and ``rating_counts`` (1..5) of its deliveries (好差评);
* ``objections`` about its data, ``objections_answered`` and ``objections_on_time`` (校核纠错).

An authority sees the departments it oversees; an auditor every department.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from policies import appeals_table, requests_table, workflow

from .. import departments, workdays
from ..auth import Principal
from ..errors import InvalidInput
from ..models import feedback, objections
from ..services import Services

__all__ = ["department_metrics", "as_csv", "PERIODS", "FIELDS"]

PERIODS = ("month", "quarter", "year")
FIELDS = ("department", "period", "requests_received", "replied", "replied_on_time",
          "on_time_rate", "median_reply_hours", "approval_rate", "escalated", "appeals",
          "appeals_returned", "ratings", "rating_mean", "rating_1", "rating_2", "rating_3",
          "rating_4", "rating_5", "objections", "objections_answered", "objections_on_time")
MAX_DAYS = 3 * 366  # the longest range one answer covers


def _day(text: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise InvalidInput(f"{field} must be a day, YYYY-MM-DD", code="day_invalid",
                           field=field) from None


def _period(moment: dt.datetime, period: str) -> str:
    local = moment.astimezone(workdays.TZ)
    if period == "year":
        return f"{local.year}"
    if period == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year}-{local.month:02d}"


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def department_metrics(svc: Services, who: Principal, *, start: Any = None, end: Any = None,
                       period: Any = "month") -> dict[str, Any]:
    """The figures per department and period between the days ``start`` and ``end``
    (Shanghai; default: the last 12 months up to today): ``{"from", "to", "period",
    "metrics": [...]}``, rows for departments with anything to count, by department then
    period. Raises Forbidden, InvalidInput."""
    svc.require(who, "metrics", "read")
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}",
                           code="period_unknown", field="period")
    today = svc.clock().astimezone(workdays.TZ).date()
    last = _day(end, "to") if end else today
    first = _day(start, "from") if start else (last.replace(day=1) - dt.timedelta(days=335)
                                               ).replace(day=1)
    if first > last or (last - first).days > MAX_DAYS:
        raise InvalidInput(f"from must be before to, at most {MAX_DAYS} days apart",
                           code="range_invalid", field="from", max=MAX_DAYS)
    lo = dt.datetime.combine(first, dt.time(), workdays.TZ).astimezone(dt.timezone.utc)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(),
                             workdays.TZ).astimezone(dt.timezone.utc)
    with svc.reader.connect() as conn:
        scope = (set(departments.overseen(conn, who.department)) if who.role == "authority"
                 else None)
        recorded = workdays.recorded_days(conn)
        rows = _figures(conn, lo, hi, period, scope, recorded)
    return {"from": first.isoformat(), "to": last.isoformat(), "period": period,
            "metrics": rows}


def _in(column: Any, scope: set[str] | None) -> list[Any]:
    return [] if scope is None else [column.in_(sorted(scope))]


def _figures(conn: sa.Connection, lo: dt.datetime, hi: dt.datetime, period: str,
             scope: set[str] | None, recorded: dict[dt.date, bool]) -> list[dict[str, Any]]:
    acc: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {
        "requests_received": 0, "replied": 0, "replied_on_time": 0, "hours": [],
        "granted": 0, "denied": 0, "escalated": 0, "appeals": 0, "appeals_returned": 0,
        "stars": [0] * 5, "objections": 0, "objections_answered": 0,
        "objections_on_time": 0})
    r = requests_table
    for row in conn.execute(sa.select(r).where(r.c.created_at >= lo, r.c.created_at < hi,
                                               *_in(r.c.provider, scope))):
        made, decided, due = (_aware(row.created_at), _aware(row.decided_at),
                              _aware(row.due_at))
        cell = acc[(row.provider, _period(made, period))]
        cell["requests_received"] += 1
        if row.escalated_at is not None:
            cell["escalated"] += 1
        steward = row.decided_by not in (None, workflow.AUTO_APPROVER)
        if due is None or decided is None or not steward:
            continue
        if row.status not in ("granted", "denied", "appealed"):
            continue  # withdrawn by the requester, refused by rule
        cell["replied"] += 1
        cell["replied_on_time"] += decided <= due
        cell["hours"].append(workdays.working_hours(made, decided, recorded=recorded))
        cell["granted" if row.status == "granted" else "denied"] += 1
    a = appeals_table
    for row in conn.execute(sa.select(a, r.c.provider).join(r, r.c.id == a.c.request_id)
                            .where(a.c.created_at >= lo, a.c.created_at < hi,
                                   *_in(r.c.provider, scope))):
        cell = acc[(row.provider, _period(_aware(row.created_at), period))]
        cell["appeals"] += 1
        cell["appeals_returned"] += row.outcome == "returned"
    f = feedback
    for row in conn.execute(sa.select(f).where(f.c.created_at >= lo, f.c.created_at < hi,
                                               *_in(f.c.provider, scope))):
        acc[(row.provider, _period(_aware(row.created_at), period))]["stars"][
            row.rating - 1] += 1
    o = objections
    for row in conn.execute(sa.select(o).where(o.c.created_at >= lo, o.c.created_at < hi,
                                               *_in(o.c.provider, scope))):
        cell = acc[(row.provider, _period(_aware(row.created_at), period))]
        cell["objections"] += 1
        if row.answered_at is not None:
            cell["objections_answered"] += 1
            cell["objections_on_time"] += _aware(row.answered_at) <= _aware(row.due_at)
    return [_row(dept, when, cell) for (dept, when), cell in sorted(acc.items())]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(dept: str, when: str, cell: dict[str, Any]) -> dict[str, Any]:
    stars = cell["stars"]
    count = sum(stars)
    mean = sum((i + 1) * n for i, n in enumerate(stars)) / count if count else None
    hours = cell["hours"]
    return {"department": dept, "period": when,
            "requests_received": cell["requests_received"], "replied": cell["replied"],
            "replied_on_time": cell["replied_on_time"],
            "on_time_rate": _ratio(cell["replied_on_time"], cell["replied"]),
            "median_reply_hours": round(statistics.median(hours), 2) if hours else None,
            "approval_rate": _ratio(cell["granted"], cell["granted"] + cell["denied"]),
            "escalated": cell["escalated"], "appeals": cell["appeals"],
            "appeals_returned": cell["appeals_returned"], "ratings": count,
            "rating_mean": round(mean, 2) if mean is not None else None,
            "rating_counts": {str(i + 1): n for i, n in enumerate(stars)},
            "objections": cell["objections"],
            "objections_answered": cell["objections_answered"],
            "objections_on_time": cell["objections_on_time"]}


def as_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The figures as CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese), one
    line per department and period, in :data:`FIELDS` order."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in rows:
        flat = dict(row) | {f"rating_{k}": v for k, v in row["rating_counts"].items()}
        writer.writerow(["" if flat.get(name) is None else flat[name] for name in FIELDS])
    return out.getvalue()
