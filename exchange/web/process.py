"""Pages of the sharing process: a request's own page (its timeline, like 办件进度: due time,
decision, decider and reason, appeals; withdraw and appeal for the requesting department, the
appeal's decision for the data authority) and each user's notices.

Every user who may see a request reaches it at ``/requests/<id>`` (the links in notices,
e-mail and webhooks point there); who may see which is the use case's decision."""

from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..paging import PageRequest
from ..usecases import access, feedback, metrics, process
from .base import (
    DatasetTitles,
    FormError,
    attempt,
    department_label,
    form_fields,
    principal,
    safe_next,
    services,
)
from .charts import bar_chart
from .i18n import number

__all__ = ["bp", "unread_notices"]

bp = Blueprint("process", __name__)
MAX_TEXT = 2000


@bp.context_processor
def _names() -> dict:
    return {"objection_state": lambda s: {"open": _("Waiting for an answer"),
                                          "fixed": _("Fixed"),
                                          "explained": _("Explained")}.get(s, s),
            "period_name": lambda p: {"month": _("month"), "quarter": _("quarter"),
                                      "year": _("year")}.get(p, p)}


def unread_notices() -> int:
    """The signed-in user's unread notices (the count in the header), once per page."""
    if "unread_notices" not in g:
        g.unread_notices = process.unread(services(), principal())
    return g.unread_notices


@bp.get("/requests/<request_id>")
def request_page(request_id: str):
    return _page(request_id)


def _page(request_id: str, *, errors: list[FormError] | None = None, form: str | None = None,
          typed: str = ""):
    svc, who = services(), principal()
    shown = access.get_request(svc, who, request_id)
    page = render_template("web/request.html", req=shown, titles=DatasetTitles(),
                           step_names=_step_names(),
                           errors=errors or [], form=form, typed=typed, max_text=MAX_TEXT,
                           mine=who.department == shown["receiver"],
                           steward=who.role == "steward", authority=who.role == "authority")
    return page, (422 if errors else 200)


def _step_names() -> dict[str, str]:
    """Each step of a request's timeline in the page's language."""
    return {"asked": _("Asked"), "approved": _("Approved (first steward)"),
            "granted": _("Granted"), "denied": _("Refused by the steward"),
            "refused": _("Refused by rule"), "withdrawn": _("Withdrawn"),
            "revoked": _("Grant revoked"), "escalated": _("Escalated to the data authority"),
            "appealed": _("Appealed"), "appeal_upheld": _("Appeal decided: refusal upheld"),
            "appeal_returned": _("Appeal decided: returned to the provider")}


@bp.post("/requests/<request_id>/withdraw")
@form_fields("reason")
def withdraw(request_id: str):
    svc, who = services(), principal()
    reason = request.form.get("reason", "")
    _done, errors = attempt(lambda: access.withdraw(svc, who, request_id, reason=reason))
    if errors:
        return _page(request_id, errors=errors, form="withdraw", typed=reason)
    flash(_("Request %(id)s was withdrawn.", id=request_id))
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@bp.post("/requests/<request_id>/appeal")
@form_fields("reason")
def appeal(request_id: str):
    svc, who = services(), principal()
    reason = request.form.get("reason", "")
    _done, errors = attempt(lambda: process.appeal(svc, who, request_id, reason=reason))
    if errors:
        return _page(request_id, errors=errors, form="appeal", typed=reason)
    flash(_("Your appeal was sent to the data authority."))
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@bp.post("/requests/<request_id>/appeal/decision")
@form_fields("outcome", "instruction")
def decide_appeal(request_id: str):
    svc, who = services(), principal()
    instruction = request.form.get("instruction", "")
    _done, errors = attempt(lambda: process.decide_appeal(
        svc, who, request_id, outcome=request.form.get("outcome", ""),
        instruction=instruction or None))
    if errors:
        return _page(request_id, errors=errors, form="decide", typed=instruction)
    flash(_("The appeal was decided."))
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@bp.get("/notices")
def notices():
    svc, who = services(), principal()
    unread_only = request.args.get("show") == "unread"
    listed = process.list_notifications(svc, who, unread_only=unread_only,
                                        page=PageRequest.from_args(request.args))
    return render_template("web/notices.html", listed=listed, titles=DatasetTitles(),
                           unread_only=unread_only)


@bp.post("/notices/read")
@form_fields("id", "go")
def read_notices():
    svc, who = services(), principal()
    one = request.form.get("id")
    ids = [int(one)] if one and one.isdigit() else None
    process.read_notifications(svc, who, ids=ids)
    back = url_for(".notices")
    if ids and request.form.get("go"):  # the notice's page, if it is one of this site's
        return redirect(safe_next(request.form["go"], back), code=303)
    return redirect(back, code=303)


@bp.get("/objections")
def objections():
    svc, who = services(), principal()
    state = request.args.get("state") or None
    if state not in (None, *feedback.OBJECTION_STATES):
        state = None
    listed = feedback.list_objections(svc, who, status=state,
                                      page=PageRequest.from_args(request.args))
    return render_template("web/objections.html", listed=listed, state=state,
                           titles=DatasetTitles())


@bp.get("/objections/<objection_id>")
def objection(objection_id: str):
    return _objection_page(objection_id)


def _objection_page(objection_id: str, *, errors: list[FormError] | None = None,
                    typed: dict | None = None):
    svc, who = services(), principal()
    shown = feedback.get_objection(svc, who, objection_id)
    page = render_template("web/objection.html", obj=shown, titles=DatasetTitles(),
                           errors=errors or [], typed=typed or {}, max_text=MAX_TEXT,
                           answers=who.role == "steward" and shown["provider"] ==
                           who.department)
    return page, (422 if errors else 200)


@bp.post("/objections/<objection_id>/answer")
@form_fields("outcome", "version", "explanation")
def answer_objection(objection_id: str):
    svc, who = services(), principal()
    typed = {k: request.form.get(k, "") for k in ("outcome", "version", "explanation")}
    version = int(typed["version"]) if typed["version"].strip().isdigit() else None
    _done, errors = attempt(lambda: feedback.answer_objection(
        svc, who, objection_id, outcome=typed["outcome"] or None,
        explanation=typed["explanation"], version=version))
    if errors:
        return _objection_page(objection_id, errors=errors, typed=typed)
    flash(_("Your answer was sent to the reporting department."))
    return redirect(url_for(".objection", objection_id=objection_id), code=303)


@bp.get("/metrics")
def service_metrics():
    svc, who = services(), principal()
    args = request.args
    found, errors = attempt(lambda: metrics.department_metrics(
        svc, who, start=args.get("from") or None, end=args.get("to") or None,
        period=args.get("period") or "month"))
    if errors:
        found = metrics.department_metrics(svc, who)
    return render_template("web/metrics.html", found=found, errors=errors,
                           charts=_metric_charts(found["metrics"])), (422 if errors else 200)


@bp.get("/metrics.csv")
def metrics_csv():
    svc, who = services(), principal()
    args = request.args
    found = metrics.department_metrics(svc, who, start=args.get("from") or None,
                                       end=args.get("to") or None,
                                       period=args.get("period") or "month")
    name = f"govex-metrics-{found['from']}-{found['to']}.csv"
    return Response(metrics.as_csv(found["metrics"]), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _metric_charts(rows: list[dict]) -> dict:
    """Per department over the whole range: replies on time (%) and mean rating."""
    totals: dict[str, dict] = {}
    for row in rows:
        t = totals.setdefault(row["department"], {"replied": 0, "on_time": 0, "stars": 0,
                                                  "ratings": 0})
        t["replied"] += row["replied"]
        t["on_time"] += row["replied_on_time"]
        t["ratings"] += row["ratings"]
        t["stars"] += sum(int(k) * n for k, n in row["rating_counts"].items())
    on_time = [(department_label(d), 100 * t["on_time"] / t["replied"],
                f"{number(round(100 * t['on_time'] / t['replied']))}%")
               for d, t in sorted(totals.items()) if t["replied"]]
    rated = [(department_label(d), t["stars"] / t["ratings"],
              number(round(t["stars"] / t["ratings"], 1)))
             for d, t in sorted(totals.items()) if t["ratings"]]
    return {"on_time": bar_chart(on_time) if on_time else None,
            "rating": bar_chart(rated) if rated else None}
