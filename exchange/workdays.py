"""Working days in Asia/Shanghai: the time limits of sharing (《政务数据共享条例》 and the
provincial measures before it count them in working days).

A day is a working day as the ``chinese-calendar`` package says (weekends and statutory
holidays off, adjusted working days (调休) on), unless an admin recorded it otherwise
(``exchange_calendar_days``: ``govex calendar set``). The package covers the years the State
Council has announced; for a later year (the next year's holidays are announced in November
or December) it knows nothing: there a day counts by its weekday alone, and a warning is
logged once per year so that an admin records the announced holidays.

A time limit of N working days runs from the day after the one a request arrives (Shanghai
time) and ends at the end of the Nth working day: a request made on Friday with 5 working days
is due at 23:59:59 on the next Friday, later if a holiday falls between.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .models import calendar_days

__all__ = ["TZ", "is_working_day", "due_after", "recorded_days", "set_day", "DEFAULT_REPLY_DAYS",
           "working_hours"]

log = logging.getLogger("govex")
TZ = ZoneInfo("Asia/Shanghai")
#: The provider's reply to a request of data already on the platform: 5 working days (Shanxi's
#: 《政务数据管理与应用办法》; the 2016 national measures allowed 10). A setting.
DEFAULT_REPLY_DAYS = 5
_warned: set[int] = set()


def is_working_day(day: dt.date, *, recorded: Mapping[dt.date, bool] | None = None) -> bool:
    """Whether ``day`` is a working day: as an admin recorded it, else as the statutory
    calendar says, else (a year it does not cover yet) Monday to Friday."""
    if recorded and day in recorded:
        return recorded[day]
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("the statutory holidays of %s are not known yet: counting Monday to "
                        "Friday as working days until an admin records them "
                        "(govex calendar set)", day.year)
        return day.weekday() < 5


def due_after(start: dt.datetime, working_days: int, *,
              recorded: Mapping[dt.date, bool] | None = None) -> dt.datetime:
    """The end of the ``working_days``-th working day after the day of ``start`` (Shanghai
    time), as an aware datetime in Shanghai time."""
    if working_days < 1:
        raise ValueError("a time limit is at least one working day")
    day = start.astimezone(TZ).date()
    counted = 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if is_working_day(day, recorded=recorded):
            counted += 1
    return dt.datetime.combine(day, dt.time(23, 59, 59), TZ)


def working_hours(start: dt.datetime, end: dt.datetime, *,
                  recorded: Mapping[dt.date, bool] | None = None) -> float:
    """Hours from ``start`` to ``end`` counted on working days only (Shanghai time): the
    clock of a time limit stops over weekends and holidays. A request made on Friday at
    17:00 and answered on Monday at 09:00 waited 16 working hours (7 on Friday, 9 on
    Monday)."""
    first, last = start.astimezone(TZ), end.astimezone(TZ)
    total, day = 0.0, first.date()
    while day <= last.date():
        if is_working_day(day, recorded=recorded):
            lo = max(first, dt.datetime.combine(day, dt.time(), TZ))
            hi = min(last, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), TZ))
            total += max(0.0, (hi - lo).total_seconds())
        day += dt.timedelta(days=1)
    return total / 3600


def recorded_days(conn: sa.Connection) -> dict[dt.date, bool]:
    """The days an admin recorded: date -> working (True) or a holiday (False)."""
    return {row.day: bool(row.working) for row in conn.execute(sa.select(calendar_days))}


def set_day(conn: sa.Connection, day: dt.date, *, working: bool, note: str | None, by: str,
            now: dt.datetime) -> None:
    """Record ``day`` as a working day or a holiday (replacing what was recorded)."""
    conn.execute(calendar_days.delete().where(calendar_days.c.day == day))
    conn.execute(calendar_days.insert().values(day=day, working=working,
                                               note=(note or "").strip() or None,
                                               added_by=by, added_at=now))
