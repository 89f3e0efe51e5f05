"""Use cases of the receiving department's voice: rating a delivery (好差评) and reporting
errors in delivered data (校核纠错), which the provider must answer by a due time — fixed in a
new version of the dataset, or explained — or see it escalated like an overdue request.

What a department writes (a comment, a description of the error, an answer) may name people:
it is scrubbed of personal data (Presidio, as purposes are for the log) before it is stored,
and only ids, columns and row numbers reach the audit log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from catalog import repository
from masking import loggable_text
from policies import AlreadyDecided, workflow

from .. import departments, events, notices, workdays
from ..auth import Principal
from ..errors import Forbidden, InvalidInput, NotFound
from ..models import exchanges, feedback, objections
from ..paging import PageRequest, page_of
from ..services import Services

__all__ = ["rate", "rating_of", "file_objection", "answer_objection", "get_objection",
           "list_objections", "MAX_TEXT", "MAX_ROWS", "OBJECTION_STATES"]

MAX_TEXT = 2000
MAX_ROWS = 1000  # row numbers one objection may name
OBJECTION_STATES = ("open", "fixed", "explained")
ANSWERS = ("fixed", "explained")


def _delivery(conn: sa.Connection, exchange_id: str) -> Any:
    row = conn.execute(sa.select(exchanges).where(exchanges.c.id == exchange_id)).first()
    if row is None:
        raise NotFound(f"no exchange {exchange_id}", code="exchange_not_found")
    return row


def _received(svc: Services, who: Principal, exchange_id: str, act: tuple[str, str]) -> Any:
    """The delivery, if ``who`` may ``act`` on it as its receiving department (its grant may
    have ended since: a delivery stays the receiver's to rate or object to)."""
    svc.require(who, *act)
    with svc.reader.connect() as conn:
        row = _delivery(conn, exchange_id)
    if row.receiver != who.department:
        raise Forbidden("this delivery is another department's", code="not_your_delivery")
    return row


def _text(value: Any, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"the {field} must be text", code="text_not_text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"give the {field}", code=f"{field}_required", field=field)
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{field} is longer than {MAX_TEXT}", code="text_too_long",
                           field=field, max=MAX_TEXT)
    return value


def _scrub(svc: Services, text: str) -> str:
    return loggable_text(text, analyzer=svc.analyzer()) if text else ""


def rate(svc: Services, who: Principal, exchange_id: str, *, rating: Any,
         comment: Any = None) -> dict[str, Any]:
    """The receiving department rates a delivery 1 to 5, with an optional comment (scrubbed
    before it is stored). One rating per delivery. Raises Forbidden, NotFound, InvalidInput,
    Conflict (rated already)."""
    row = _received(svc, who, exchange_id, ("exchange", "rate"))
    if type(rating) is not int or not 1 <= rating <= 5:
        raise InvalidInput("rating must be a whole number from 1 to 5", code="rating_range",
                           field="rating")
    scrubbed = _scrub(svc, _text(comment, "comment", required=False)) or None
    now = svc.clock()
    with svc.recording() as rec:
        if rec.conn.execute(sa.select(feedback.c.exchange_id).where(
                feedback.c.exchange_id == exchange_id)).first() is not None:
            raise AlreadyDecided("this delivery was rated already", code="already_rated")
        rec.conn.execute(feedback.insert().values(
            exchange_id=exchange_id, provider=row.provider, receiver=row.receiver,
            dataset_id=row.dataset_id, rating=rating, comment=scrubbed, rated_by=who.username,
            created_at=now))
        rec.append(events.Feedback(
            actor=who.username, actor_department=who.department, provider=row.provider,
            receiver=row.receiver, dataset_id=row.dataset_id, exchange_id=exchange_id,
            rating=rating))
    return {"exchange_id": exchange_id, "rating": rating, "comment": scrubbed,
            "rated_by": who.username, "created_at": _shanghai(now)}


def rating_of(svc: Services, who: Principal, exchange_id: str) -> dict[str, Any] | None:
    """The receiving department's rating of a delivery, if it rated it. Raises NotFound,
    Forbidden."""
    _received(svc, who, exchange_id, ("grant", "list"))
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(feedback).where(
            feedback.c.exchange_id == exchange_id)).first()
    if row is None:
        return None
    return {"exchange_id": exchange_id, "rating": row.rating, "comment": row.comment,
            "rated_by": row.rated_by, "created_at": _shanghai(_aware(row.created_at))}


def file_objection(svc: Services, who: Principal, exchange_id: str, *, columns: Any,
                   rows: Any, description: Any) -> dict[str, Any]:
    """The receiving department reports errors in a delivery: the ``columns`` and the
    delivered file's ``rows`` (row numbers from 1) they are in, and what is wrong (scrubbed
    before it is stored). The provider must answer within its reply time limit (working
    days). Raises Forbidden, NotFound, InvalidInput."""
    row = _received(svc, who, exchange_id, ("objection", "file"))
    text = _text(description, "description", required=True)
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, row.grant_id)
    chosen = _columns(columns, grant.columns)
    numbers = _rows(rows, row.row_count)
    scrubbed = _scrub(svc, text)
    now = svc.clock()
    with svc.recording() as rec:
        due = workdays.due_after(now, svc.settings.reply_working_days,
                                 recorded=workdays.recorded_days(rec.conn))
        due = due.astimezone(dt.timezone.utc)
        ident = "obj_" + secrets.token_hex(8)
        rec.conn.execute(objections.insert().values(
            id=ident, exchange_id=exchange_id, grant_id=row.grant_id,
            dataset_id=row.dataset_id, dataset_version=row.dataset_version,
            provider=row.provider, receiver=row.receiver, columns=chosen, rows=numbers,
            description=scrubbed, filed_by=who.username, created_at=now, due_at=due,
            status="open"))
        made = _objection(rec.conn, ident)
        notices.schedule_deadline(rec.conn, _Waiting(made), now=now, kind="objection")
        rec.append(events.Objection(
            actor=who.username, actor_department=who.department, provider=row.provider,
            receiver=row.receiver, dataset_id=row.dataset_id,
            dataset_version=row.dataset_version, exchange_id=exchange_id, objection_id=ident,
            columns=chosen, rows=numbers, due_at=due.isoformat()))
    return _view(made, now=now)


class _Waiting:
    """An objection as :func:`notices.schedule_deadline` reads it."""

    def __init__(self, view: Mapping[str, Any]) -> None:
        self.id, self.status, self.due_at = view["id"], view["status"], view["due_at"]


def _columns(columns: Any, granted: list[str]) -> list[str]:
    if not isinstance(columns, list) or not columns or not all(
            isinstance(c, str) for c in columns):
        raise InvalidInput("name the columns the errors are in", code="objection_columns",
                           field="columns")
    unknown = [c for c in columns if c not in granted]
    if unknown:
        raise InvalidInput(f"the delivery has no column {unknown}", code="columns_unknown",
                           field="columns", columns="、".join(unknown))
    return list(dict.fromkeys(columns))


def _rows(rows: Any, count: int) -> list[int]:
    if not isinstance(rows, list) or not rows or len(rows) > MAX_ROWS or not all(
            type(r) is int for r in rows):
        raise InvalidInput(f"name the rows as row numbers (at most {MAX_ROWS})",
                           code="objection_rows", field="rows", max=MAX_ROWS)
    outside = [r for r in rows if not 1 <= r <= count]
    if outside:
        raise InvalidInput(f"the delivery has rows 1 to {count}", code="objection_rows_range",
                           field="rows", count=count)
    return sorted(set(rows))


def answer_objection(svc: Services, who: Principal, objection_id: str, *, outcome: Any,
                     explanation: Any = None, version: Any = None) -> dict[str, Any]:
    """A steward of the provider answers an open objection: ``fixed`` (in ``version``, a
    version of the dataset newer than the one delivered) or ``explained`` (with an
    ``explanation``, scrubbed). Raises Forbidden, NotFound, InvalidInput, AlreadyDecided."""
    with svc.reader.connect() as conn:
        current = _objection(conn, objection_id)
    svc.require(who, "objection", "answer", dom=current["provider"], target=objection_id)
    if outcome not in ANSWERS:
        raise InvalidInput("outcome must be fixed or explained", code="objection_outcome",
                           field="outcome")
    text = _text(explanation, "explanation", required=outcome == "explained")
    fixed = None
    if outcome == "fixed":
        if type(version) is not int or version <= current["dataset_version"]:
            raise InvalidInput("name the new version that fixes the errors",
                               code="objection_version", field="version",
                               delivered=current["dataset_version"])
        with svc.reader.connect() as conn:
            repository.get_version(conn, current["dataset_id"], version)  # NotFound if none
        fixed = version
    scrubbed = _scrub(svc, text) or None
    now = svc.clock()
    with svc.recording() as rec:
        done = rec.conn.execute(objections.update().where(
            objections.c.id == objection_id, objections.c.status == "open").values(
            status=outcome, answer=scrubbed, answered_by=who.username, answered_at=now,
            fixed_version=fixed))
        if done.rowcount != 1:
            raise AlreadyDecided("the objection was answered already",
                                 code="objection_answered")
        rec.append(events.ObjectionAnswer(
            actor=who.username, actor_department=who.department, provider=current["provider"],
            receiver=current["receiver"], dataset_id=current["dataset_id"],
            objection_id=objection_id, outcome=outcome, fixed_version=fixed))
        made = _objection(rec.conn, objection_id)
    return _view(made, now=now)


def get_objection(svc: Services, who: Principal, objection_id: str) -> dict[str, Any]:
    """One objection, to its two departments and the data authorities overseeing either.
    Raises NotFound, Forbidden."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        made = _objection(conn, objection_id)
        if not _sees(conn, who, made):
            raise Forbidden("this objection is other departments'", code="not_your_objection")
    return _view(made, now=svc.clock())


def _sees(conn: sa.Connection, who: Principal, made: Mapping[str, Any]) -> bool:
    if who.role == "authority":
        return bool({made["provider"], made["receiver"]} & set(
            departments.overseen(conn, who.department)))
    side = "receiver" if who.role == "requester" else "provider"
    return who.role in ("requester", "steward") and made[side] == who.department


def list_objections(svc: Services, who: Principal, *, status: str | None = None,
                    page: PageRequest = PageRequest()) -> dict[str, Any]:
    """A page of objections, newest first: those a requester's department filed, those
    about a steward's datasets, those involving the departments an authority oversees."""
    svc.require(who, "catalog", "read")
    if status is not None and status not in OBJECTION_STATES:
        raise InvalidInput(f"status must be one of {', '.join(OBJECTION_STATES)}",
                           code="status_unknown", field="status")
    table = objections
    with svc.reader.connect() as conn:
        if who.role == "authority":
            codes = departments.overseen(conn, who.department)
            where = [sa.or_(table.c.provider.in_(codes), table.c.receiver.in_(codes))]
        elif who.role in ("requester", "steward"):
            side = table.c.receiver if who.role == "requester" else table.c.provider
            where = [side == who.department]
        else:
            raise Forbidden("objections are their departments' and the authority's",
                            code="forbidden")
        if status:
            where.append(table.c.status == status)
        query = sa.select(table.c.id, table.c.created_at).where(*where)
        if page.after is not None:
            moment, last = page.after
            query = query.where(sa.or_(table.c.created_at < moment, sa.and_(
                table.c.created_at == moment, table.c.id > last)))
        found = conn.execute(query.order_by(table.c.created_at.desc(), table.c.id)
                             .limit(page.size + 1)).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(table)
                             .where(*where)).scalar_one()
        shown, token = page_of(found, page, key=lambda r: (_aware(r.created_at), r.id))
        views = [_view(_objection(conn, r.id), now=svc.clock()) for r in shown]
    return {"objections": views, "next_page_token": token, "total": int(total)}


def _objection(conn: sa.Connection, objection_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(objections).where(objections.c.id == objection_id)).first()
    if row is None:
        raise NotFound(f"no objection {objection_id}", code="objection_not_found")
    data = dict(row._mapping)
    for key in ("created_at", "due_at", "escalated_at", "answered_at"):
        data[key] = _aware(data[key])
    return data


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def _shanghai(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(workdays.TZ).isoformat()


def _view(made: Mapping[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    view = dict(made)
    for key in ("created_at", "due_at", "escalated_at", "answered_at"):
        view[key] = _shanghai(made[key])
    view["overdue"] = made["status"] == "open" and now > made["due_at"]
    return view
