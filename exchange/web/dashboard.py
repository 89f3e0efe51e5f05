"""The dashboard: the risks the audit log flags (off-hours deliveries, repeated downloads,
refusal spikes, overdue requests), then deliveries per day, requests by status and median time
to decision per department — all over the last two weeks (see
:mod:`exchange.usecases.oversight`), so it shows what an auditor may see. Every flag, bar and
figure links to its entry or to the audit log filtered to the entries it counts."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _

from ..usecases import oversight
from ..usecases.oversight import decision_hours, requests_by_status
from .base import department_label, principal, services
from .charts import bar_chart, column_chart
from .i18n import number

__all__ = ["bp", "log_url", "requests_by_status", "decision_hours", "STATUS_TYPES"]

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: The entry type that records each status of a request (what its bar links to).
STATUS_TYPES = {"pending": "request", "granted": "approve", "denied": "deny",
                "refused": "request", "withdrawn": "request_withdraw", "appealed": "appeal"}


@bp.before_request
def _auditors_only() -> None:
    services().require(principal(), "audit", "read")


def log_url(*, type: str | None = None, department: str | None = None,
            dataset_id: str | None = None, actor: str | None = None,
            start: dt.date | None = None, end: dt.date | None = None) -> str:
    """The auditor's log page with these filters (dates in China Standard Time, inclusive)."""
    args = {"type": type, "department": department, "dataset_id": dataset_id, "actor": actor,
            "from": start.isoformat() if start else None, "to": end.isoformat() if end else None}
    return url_for("web.auditor.log", **{k: v for k, v in args.items() if v})


def cst_date(moment: dt.datetime) -> dt.date:
    """The day of ``moment`` in China Standard Time."""
    return moment.astimezone(oversight.CST).date()


@bp.get("")
def index():
    svc, who = services(), principal()
    found = oversight.flags(svc, who)
    fig = oversight.figures(svc, who)
    window = {"start": fig.first, "end": fig.today}
    day_links = [log_url(type="exchange", start=d, end=d) for d, _n in fig.per_day]
    status_links = [log_url(type=STATUS_TYPES[s], **window) for s in fig.by_status]
    hour_links = [log_url(department=d, **window) for d in fig.hours]
    return render_template(
        "web/dashboard.html", flags=found, fig=fig, log_url=log_url, cst_date=cst_date,
        status_types=STATUS_TYPES, window=window, repeat_at_least=oversight.REPEAT_AT_LEAST,
        spike_at_least=oversight.SPIKE_AT_LEAST, spike_factor=oversight.SPIKE_FACTOR,
        overdue_days=oversight.OVERDUE_WORKING_DAYS,
        work_starts=oversight.WORK_STARTS.strftime("%H:%M"),
        work_ends=oversight.WORK_ENDS.strftime("%H:%M"),
        per_day=column_chart([(d.strftime("%m-%d"), n, number(n)) for d, n in fig.per_day],
                             links=day_links),
        by_status=bar_chart([(_status_label(s), n, number(n)) for s, n in fig.by_status.items()],
                            links=status_links),
        hours=bar_chart([(department_label(dept), h, _duration(h))
                         for dept, h in fig.hours.items()], label_width=260, links=hour_links),
        status_label=_status_label)


def _duration(hours: float) -> str:
    return format_timedelta(dt.timedelta(hours=hours), granularity="minute", threshold=1.5)


def _status_label(status: str) -> str:
    return {"pending": _("Pending"), "granted": _("Granted"), "denied": _("Denied"),
            "refused": _("Refused"), "withdrawn": _("Withdrawn"),
            "appealed": _("Appealed")}.get(status, status)
