"""Oversight for auditors: the risks the audit log shows, and the dashboard's figures.

Four kinds of flag, each a pure function over entry dicts (``(index, entry)`` pairs as
:meth:`audit.AuditLog.entries` gives them, or request rows shaped like request entries):

* **off-hours deliveries** — ``exchange`` entries outside working hours
  (:func:`off_hours_deliveries`);
* **repeated downloads** — one receiving department delivered the same dataset
  :data:`REPEAT_AT_LEAST` times or more within :data:`REPEAT_WITHIN` (:func:`repeated_downloads`);
* **refusal spikes** — a department's refusals on a day reach :data:`SPIKE_AT_LEAST` and
  :data:`SPIKE_FACTOR` times the median of its previous :data:`SPIKE_BASELINE_DAYS` days
  (:func:`refusal_spikes`);
* **overdue requests** — requests still pending after the day they were due
  (:func:`overdue_requests`; requests made before due times were kept: after
  :data:`OVERDUE_WORKING_DAYS` working days).

:func:`flags` gathers them for the dashboard and :func:`figures` computes its charts. Both read
a bounded window (the last :data:`WINDOW_DAYS` days, through the log's indexed ``type`` and
``time`` columns), never the whole log: the log grows by thousands of entries a second under
interface sharing. Every day, hour and week is China Standard Time (UTC+8).

Working time is :func:`is_working_day` (the statutory calendar of :mod:`exchange.workdays`:
holidays off, adjusted working weekends on) between :data:`WORK_STARTS` and
:data:`WORK_ENDS`, 08:30 to 18:00.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from audit.log import entries_table
from policies import requests_table

from .. import workdays
from ..auth import Principal
from ..services import Services
from .access import REQUEST_STATUSES

__all__ = ["CST", "WINDOW_DAYS", "WORK_STARTS", "WORK_ENDS", "REPEAT_AT_LEAST", "REPEAT_WITHIN",
           "SPIKE_AT_LEAST", "SPIKE_FACTOR", "SPIKE_BASELINE_DAYS", "OVERDUE_WORKING_DAYS",
           "REFUSAL_TYPES", "MAX_ITEMS", "is_working_day", "in_working_hours", "off_hours_spans",
           "working_days_after", "overdue_cutoff", "day_bounds", "OffHours", "Repeat", "Spike",
           "Overdue", "Flags", "Figures", "off_hours_deliveries", "repeated_downloads",
           "refusal_counts", "refusal_spikes", "overdue_requests", "requests_by_status",
           "decision_hours", "flags", "figures"]

CST = dt.timezone(dt.timedelta(hours=8), "CST")
#: The dashboard looks at the last two weeks, today included.
WINDOW_DAYS = 14
#: Working hours (CST) on a working day: from WORK_STARTS (inclusive) to WORK_ENDS (exclusive).
WORK_STARTS = dt.time(8, 30)
WORK_ENDS = dt.time(18, 0)
#: Deliveries of one dataset to one department: this many within this span are flagged.
REPEAT_AT_LEAST = 3
REPEAT_WITHIN = dt.timedelta(hours=24)
#: A department's refusals on a day are a spike from this many and this many times the median
#: of its previous days.
SPIKE_AT_LEAST = 5
SPIKE_FACTOR = 3
SPIKE_BASELINE_DAYS = 7
#: A request still pending after this many working days (the day it was made not counted).
OVERDUE_WORKING_DAYS = 5
#: The entries that record access refused by the exchange: a permission refused, a sign-in
#: refused, a request refused by rule (``request`` with outcome ``refused``). A steward's
#: ``deny`` is a decision, not a refusal of access; throttling and locking follow refusals
#: already counted.
REFUSAL_TYPES = ("authz_denied", "sign_in_failed", "request")
#: At most this many items of each flag are listed (the count is of all of them).
MAX_ITEMS = 50
#: At most this many entries are read for one question (memory stays bounded).
MAX_READ = 20_000

Item = tuple[int, Mapping[str, Any]]


# -- the calendar ---------------------------------------------------------------------------

def is_working_day(day: dt.date) -> bool:
    """A working day of the statutory calendar (:func:`exchange.workdays.is_working_day`)."""
    return workdays.is_working_day(day)


def in_working_hours(moment: dt.datetime) -> bool:
    """Whether ``moment`` (aware) falls on a working day between WORK_STARTS and WORK_ENDS,
    China Standard Time."""
    local = moment.astimezone(CST)
    return is_working_day(local.date()) and WORK_STARTS <= local.time() < WORK_ENDS


def _at(day: dt.date, time: dt.time = dt.time()) -> dt.datetime:
    return dt.datetime.combine(day, time, CST)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day (CST) as ``[start, end)`` in UTC, as the log's ``since``/``until`` take it."""
    return (_at(day).astimezone(dt.timezone.utc),
            _at(day + dt.timedelta(days=1)).astimezone(dt.timezone.utc))


def off_hours_spans(first: dt.date, last: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The times outside working hours from ``first`` to ``last`` (CST dates, inclusive) as
    ``[start, end)`` spans, adjacent ones joined (Friday evening to Monday morning is one)."""
    spans: list[tuple[dt.datetime, dt.datetime]] = []

    def add(start: dt.datetime, end: dt.datetime) -> None:
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))

    day = first
    while day <= last:
        following = _at(day + dt.timedelta(days=1))
        if is_working_day(day):
            add(_at(day), _at(day, WORK_STARTS))
            add(_at(day, WORK_ENDS), following)
        else:
            add(_at(day), following)
        day += dt.timedelta(days=1)
    return spans


def working_days_after(start: dt.date, end: dt.date) -> int:
    """The working days after ``start`` up to and including ``end`` (0 if end ≤ start)."""
    count, day = 0, start + dt.timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count


def overdue_cutoff(today: dt.date, *, limit: int = OVERDUE_WORKING_DAYS) -> dt.datetime:
    """The moment before which a request made is overdue ``today``: requests made on a day
    with more than ``limit`` working days after it up to today."""
    day, seen = today, 0
    while seen <= limit:
        seen += is_working_day(day)
        day -= dt.timedelta(days=1)
    return _at(day + dt.timedelta(days=1))


# -- the flags, as pure functions --------------------------------------------------------------

def _time(entry: Mapping[str, Any]) -> dt.datetime:
    value = entry["time"]
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclasses.dataclass(frozen=True)
class OffHours:
    """A delivery outside working hours: its entry and what it delivered to whom."""

    index: int
    time: dt.datetime
    receiver: str | None
    provider: str | None
    dataset_id: str | None
    actor: str | None


def off_hours_deliveries(items: Iterable[Item]) -> list[OffHours]:
    """The ``exchange`` entries outside working hours, newest first."""
    found = [OffHours(index, _time(e), e.get("receiver"), e.get("provider"), e.get("dataset_id"),
                      e.get("actor"))
             for index, e in items
             if e.get("type") == "exchange" and not in_working_hours(_time(e))]
    return sorted(found, key=lambda o: o.index, reverse=True)


@dataclasses.dataclass(frozen=True)
class Repeat:
    """Deliveries of one dataset to one department, ``count`` of them within REPEAT_WITHIN
    (the busiest such stretch): the first and last of it, their entries and who took them."""

    receiver: str
    dataset_id: str
    count: int
    first: dt.datetime
    last: dt.datetime
    indexes: tuple[int, ...]
    actors: tuple[str, ...]
    grants: tuple[str, ...]


def repeated_downloads(items: Iterable[Item], *, at_least: int = REPEAT_AT_LEAST,
                       within: dt.timedelta = REPEAT_WITHIN) -> list[Repeat]:
    """Each receiving department and dataset delivered ``at_least`` times within ``within``
    (the first and the last delivery at most ``within`` apart), busiest first. A department
    is counted as one receiver whoever of it downloaded, under whichever grant."""
    groups: dict[tuple[str, str], list[tuple[dt.datetime, int, Mapping[str, Any]]]] = (
        defaultdict(list))
    for index, e in items:
        if e.get("type") == "exchange" and e.get("receiver") and e.get("dataset_id"):
            groups[(str(e["receiver"]), str(e["dataset_id"]))].append((_time(e), index, e))
    found: list[Repeat] = []
    for (receiver, dataset_id), runs in groups.items():
        runs.sort(key=lambda r: (r[0], r[1]))
        best: tuple[int, int] = (0, 0)  # the longest stretch [start, end)
        start = 0
        for end in range(len(runs)):
            while runs[end][0] - runs[start][0] > within:
                start += 1
            if end + 1 - start > best[1] - best[0]:
                best = (start, end + 1)
        stretch = runs[best[0]:best[1]]
        if len(stretch) >= at_least:
            found.append(Repeat(
                receiver, dataset_id, len(stretch), stretch[0][0], stretch[-1][0],
                tuple(i for _, i, _ in stretch),
                tuple(dict.fromkeys(str(e.get("actor")) for *_, e in stretch if e.get("actor"))),
                tuple(dict.fromkeys(str(e["grant_id"]) for *_, e in stretch
                                    if e.get("grant_id")))))
    return sorted(found, key=lambda r: (-r.count, r.last))


def is_refusal(entry: Mapping[str, Any]) -> bool:
    """Whether the entry records access refused (see :data:`REFUSAL_TYPES`)."""
    kind = entry.get("type")
    if kind == "request":
        return entry.get("outcome") == "refused"
    return kind in REFUSAL_TYPES


RefusalKey = tuple[dt.date, str | None, str]  # day (CST), department (None: unknown), type


def refusal_counts(items: Iterable[Item]) -> Counter[RefusalKey]:
    """Refusals per day (CST), acting department and entry type."""
    return Counter((_time(e).astimezone(CST).date(), e.get("actor_department"), str(e["type"]))
                   for _, e in items if is_refusal(e))


@dataclasses.dataclass(frozen=True)
class Spike:
    """A department's refusals on a day, far above its usual: ``count`` against the median
    of the previous days (``usual``), and the count of each entry type."""

    day: dt.date
    department: str | None
    count: int
    usual: float
    by_type: tuple[tuple[str, int], ...]


def refusal_spikes(counts: Mapping[RefusalKey, int], days: Sequence[dt.date], *,
                   at_least: int = SPIKE_AT_LEAST, factor: float = SPIKE_FACTOR,
                   baseline: int = SPIKE_BASELINE_DAYS) -> list[Spike]:
    """The days of ``days`` on which a department's refusals reach ``at_least`` and
    ``factor`` times the median of its ``baseline`` previous days (days with none count as
    0; ``counts`` should cover them). Newest first."""
    per_day: Counter[tuple[dt.date, str | None]] = Counter()
    types: dict[tuple[dt.date, str | None], Counter[str]] = defaultdict(Counter)
    for (day, dept, kind), n in counts.items():
        per_day[(day, dept)] += n
        types[(day, dept)][kind] += n
    departments = {dept for _, dept in per_day}
    found: list[Spike] = []
    for day in days:
        for dept in departments:
            n = per_day[(day, dept)]
            if n < at_least:
                continue
            before = [per_day[(day - dt.timedelta(days=k), dept)] for k in range(1, baseline + 1)]
            usual = statistics.median(before) if before else 0
            if n >= factor * usual:
                found.append(Spike(day, dept, n, usual, tuple(sorted(types[(day, dept)].items()))))
    return sorted(found, key=lambda s: (s.day, s.count), reverse=True)


@dataclasses.dataclass(frozen=True)
class Overdue:
    """A request pending for ``waiting`` working days; ``index`` of its log entry if found."""

    request_id: str
    time: dt.datetime
    dataset_id: str
    provider: str
    receiver: str
    actor: str
    waiting: int
    index: int | None = None


def overdue_requests(pending: Iterable[Mapping[str, Any]], *, today: dt.date,
                     limit: int = OVERDUE_WORKING_DAYS) -> list[Overdue]:
    """The pending requests (dicts shaped like request entries: ``request_id``, ``time``,
    ``dataset_id``, ``provider``, ``receiver``, ``actor``, ``due_at``) whose due day is past
    ``today`` (CST) — or, made before due times were kept (no ``due_at``), with more than
    ``limit`` working days after the day they were made; the longest waiting first."""
    found = []
    for r in pending:
        if r.get("outcome", "pending") != "pending":
            continue
        waiting = working_days_after(_time(r).astimezone(CST).date(), today)
        due = r.get("due_at")
        if (waiting > limit if due is None else
                _aware(due).astimezone(CST).date() < today):
            found.append(Overdue(str(r["request_id"]), _time(r), str(r["dataset_id"]),
                                 str(r["provider"]), str(r["receiver"]), str(r["actor"]),
                                 waiting, r.get("index")))
    return sorted(found, key=lambda o: o.time)


# -- the figures, as pure functions ----------------------------------------------------------

def _final_status(entries: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    status: dict[str, str] = {}
    appealed: dict[str, str] = {}  # the status an appealed request had
    for e in entries:
        rid = e.get("request_id")
        if not rid:
            continue
        if e.get("type") == "request":
            status[rid] = e.get("outcome", "pending")
        elif rid not in status:
            continue  # decided now, asked before the entries start
        elif e.get("type") == "approve" and e.get("outcome") == "granted":
            status[rid] = "granted"
        elif e.get("type") == "deny":
            status[rid] = "denied"
        elif e.get("type") == "request_withdraw":
            status[rid] = "withdrawn"
        elif e.get("type") == "appeal":
            appealed[rid] = status[rid]
            status[rid] = "appealed"
        elif e.get("type") == "appeal_decision":
            status[rid] = "pending" if e.get("outcome") == "returned" else appealed.get(
                rid, "denied")
    return status


def requests_by_status(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of the requests made in ``entries`` (log order) are pending, granted, denied
    (by a steward), refused (by rule) or withdrawn (by the requesting department)."""
    counts = Counter(_final_status(entries).values())
    return {s: counts.get(s, 0) for s in REQUEST_STATUSES}


def decision_hours(entries: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Median hours from request to a steward's decision, per providing department (requests
    decided by rule at once are left out)."""
    asked: dict[str, dt.datetime] = {}
    waits: dict[str, list[float]] = {}
    for e in entries:
        rid = e.get("request_id")
        if e.get("type") == "request" and e.get("outcome") == "pending":
            asked[str(rid)] = _time(e)
        elif rid in asked and (e.get("type") == "deny" or (
                e.get("type") == "approve" and e.get("outcome") == "granted")):
            hours = (_time(e) - asked.pop(str(rid))).total_seconds() / 3600
            waits.setdefault(e.get("provider", "?"), []).append(hours)
    return {dept: statistics.median(v) for dept, v in sorted(waits.items())}


# -- gathering from the log ----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Flags:
    """What :func:`flags` found: each kind's items (at most MAX_ITEMS) and how many in all."""

    first: dt.date
    today: dt.date
    off_hours: list[OffHours]
    off_hours_total: int
    repeats: list[Repeat]
    spikes: list[Spike]
    overdue: list[Overdue]
    overdue_total: int


@dataclasses.dataclass(frozen=True)
class Figures:
    """The dashboard's charts over the window: deliveries per day (oldest first), the requests
    made in it by status, and the median hours to a steward's decision per department."""

    first: dt.date
    today: dt.date
    per_day: list[tuple[dt.date, int]]
    by_status: dict[str, int]
    hours: dict[str, float]


def _window(svc: Services, days: int = WINDOW_DAYS) -> tuple[dt.date, dt.date]:
    today = svc.clock().astimezone(CST).date()
    return today - dt.timedelta(days=days - 1), today


def _read(conn: sa.Connection, *where: Any, limit: int = MAX_READ,
          newest_first: bool = False) -> list[tuple[int, dict[str, Any]]]:
    """Entries matching ``where`` (clauses on the indexed columns), in log order."""
    c = entries_table.c
    order = c.idx.desc() if newest_first else c.idx
    rows = conn.execute(sa.select(c.idx, c.entry).where(*where).order_by(order).limit(limit))
    return [(int(i), json.loads(text)) for i, text in rows]


def _count(conn: sa.Connection, *where: Any) -> int:
    """How many entries match ``where``."""
    query = sa.select(sa.func.count()).select_from(entries_table).where(*where)
    return int(conn.execute(query).scalar() or 0)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def _naive(moment: dt.datetime) -> dt.datetime:
    """As the log's ``time`` column holds it: naive UTC."""
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _between(start: dt.datetime, end: dt.datetime | None = None) -> list[Any]:
    c = entries_table.c
    return [c.time >= _naive(start)] + ([c.time < _naive(end)] if end else [])


def flags(svc: Services, who: Principal) -> Flags:
    """The four kinds of flag over the last WINDOW_DAYS days (refusal spikes compare with the
    SPIKE_BASELINE_DAYS before). Overdue requests are read from the requests table, whose
    status is indexed: a request pending for longer than the window would be missing from
    the window's entries, and it is the most overdue of all. Raises Forbidden."""
    svc.require(who, "audit", "read")
    first, today = _window(svc)
    with svc.reader.connect() as conn:
        off_hours, off_total = _off_hours(conn, first, today)
        repeats = _repeats(conn, first)
        spikes = _spikes(conn, first, today)
        overdue, overdue_total = _overdue(conn, today)
        overdue = [dataclasses.replace(o, index=_request_entry(conn, o)) for o in overdue]
    return Flags(first=first, today=today, off_hours=off_hours, off_hours_total=off_total,
                 repeats=repeats, spikes=spikes, overdue=overdue, overdue_total=overdue_total)


def _off_hours(conn: sa.Connection, first: dt.date,
               today: dt.date) -> tuple[list[OffHours], int]:
    """Exchange entries in the spans outside working hours: counted, and the newest read."""
    c = entries_table.c
    total, items = 0, []
    for start, end in reversed(off_hours_spans(first, today)):
        where = [c.type == "exchange", *_between(start, end)]
        total += _count(conn, *where)
        if len(items) < MAX_ITEMS:
            items += _read(conn, *where, limit=MAX_ITEMS - len(items), newest_first=True)
    return off_hours_deliveries(items), total


def _repeats(conn: sa.Connection, first: dt.date) -> list[Repeat]:
    """Receivers and datasets delivered often enough in the window (counted by the database),
    then the deliveries of each of them, for the 24-hour rule."""
    c = entries_table.c
    window = [c.type == "exchange", *_between(_at(first))]
    pairs = conn.execute(
        sa.select(c.receiver, c.dataset_id).where(*window)
        .group_by(c.receiver, c.dataset_id)
        .having(sa.func.count() >= REPEAT_AT_LEAST)
        .order_by(sa.func.count().desc()).limit(MAX_ITEMS)).all()
    found: list[Repeat] = []
    for receiver, dataset_id in pairs:
        items = _read(conn, *window, c.receiver == receiver, c.dataset_id == dataset_id,
                      limit=MAX_READ // max(len(pairs), 1), newest_first=True)
        found += repeated_downloads(items)
    return sorted(found, key=lambda r: -r.count)


def _spikes(conn: sa.Connection, first: dt.date, today: dt.date) -> list[Spike]:
    """Refusals per day and department, counted by the database for each day of the window
    and the baseline before it; refused requests (few) read and counted here."""
    c = entries_table.c
    start = first - dt.timedelta(days=SPIKE_BASELINE_DAYS)
    counts: Counter[RefusalKey] = Counter()
    kinds = [k for k in REFUSAL_TYPES if k != "request"]
    day = start
    while day <= today:
        since, until = day_bounds(day)
        rows = conn.execute(
            sa.select(c.actor_department, c.type, sa.func.count())
            .where(c.type.in_(kinds), *_between(since, until))
            .group_by(c.actor_department, c.type))
        for dept, kind, n in rows:
            counts[(day, dept, kind)] += int(n)
        day += dt.timedelta(days=1)
    counts += refusal_counts(_read(conn, c.type == "request", *_between(_at(start))))
    days = [first + dt.timedelta(days=i) for i in range((today - first).days + 1)]
    return refusal_spikes(counts, days)


def _overdue(conn: sa.Connection, today: dt.date) -> tuple[list[Overdue], int]:
    """Pending requests made before the cutoff: counted, and the longest waiting read (only
    what the audit log also holds of them; never the purpose)."""
    r = requests_table.c
    start_of_today = _at(today).astimezone(dt.timezone.utc)
    where = [r.status == "pending", sa.or_(
        r.due_at < start_of_today,
        sa.and_(r.due_at.is_(None), r.created_at < overdue_cutoff(today)))]
    total = int(conn.execute(sa.select(sa.func.count()).select_from(requests_table)
                             .where(*where)).scalar() or 0)
    rows = conn.execute(sa.select(r.id, r.created_at, r.dataset_id, r.provider, r.receiver,
                                  r.requester, r.due_at).where(*where).order_by(r.created_at)
                        .limit(MAX_ITEMS))
    pending = [{"request_id": row.id, "time": row.created_at, "dataset_id": row.dataset_id,
                "provider": row.provider, "receiver": row.receiver, "actor": row.requester,
                "due_at": row.due_at} for row in rows]
    return overdue_requests(pending, today=today), total


def _request_entry(conn: sa.Connection, request: Overdue) -> int | None:
    """The index of the request's entry in the log (stamped within a minute of the row)."""
    c = entries_table.c
    near = dt.timedelta(minutes=1)
    for index, e in _read(conn, c.type == "request", c.dataset_id == request.dataset_id,
                          c.actor == request.actor,
                          *_between(request.time - near, request.time + near), limit=100):
        if e.get("request_id") == request.request_id:
            return index
    return None


def figures(svc: Services, who: Principal) -> Figures:
    """Deliveries on each day of the window (counted by the database), and the requests made
    in the window by status and time to decision. Raises Forbidden."""
    svc.require(who, "audit", "read")
    first, today = _window(svc)
    c = entries_table.c
    days = [first + dt.timedelta(days=i) for i in range(WINDOW_DAYS)]
    with svc.reader.connect() as conn:
        per_day = []
        for day in days:
            where = [c.type == "exchange", *_between(*day_bounds(day))]
            per_day.append((day, _count(conn, *where)))
        decided = _read(conn, c.type.in_(("request", "approve", "deny")),
                        *_between(_at(first)))
    entries = [e for _, e in decided]
    return Figures(first=first, today=today, per_day=per_day,
                   by_status=requests_by_status(entries), hours=decision_hours(entries))
