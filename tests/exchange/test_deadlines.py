"""Working-day deadlines (issue 17, first part): a request's due time skips weekends and
statutory holidays, counts adjusted working days (调休), and falls back on weekdays with a
warning for a year the calendar does not know; its timeline; withdrawal."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest

from exchange import workdays
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases import access
from exchange.usecases.admin import set_calendar_day

from .conftest import api_caller, new_instance

SH = workdays.TZ
STEWARD = Principal("civil-steward", "", "civil", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
OTHER = Principal("health-requester", "", "health", "requester")


@pytest.mark.parametrize(("start", "days", "due"), [
    (dt.datetime(2026, 11, 27, 10, tzinfo=SH), 5, dt.date(2026, 12, 4)),    # over a weekend
    (dt.datetime(2026, 11, 27, 17, tzinfo=dt.timezone.utc), 5, dt.date(2026, 12, 4)),  # Sat 1:00
    (dt.datetime(2026, 11, 27, 15, tzinfo=dt.timezone.utc), 5, dt.date(2026, 12, 4)),  # Fri 23:00
    (dt.datetime(2026, 9, 29, 10, tzinfo=SH), 5, dt.date(2026, 10, 12)),   # 国庆, Sat 10/10 works
    (dt.datetime(2026, 9, 30, 10, tzinfo=SH), 1, dt.date(2026, 10, 8)),    # the holiday skipped
    (dt.datetime(2026, 2, 13, 10, tzinfo=SH), 1, dt.date(2026, 2, 14)),    # an adjusted Saturday
    (dt.datetime(2026, 12, 7, 10, tzinfo=SH), 10, dt.date(2026, 12, 21)),
])
def test_a_time_limit_counts_working_days_in_shanghai(start, days, due):
    got = workdays.due_after(start, days)
    assert got == dt.datetime.combine(due, dt.time(23, 59, 59), SH)
    assert got.isoformat().endswith("+08:00")


def test_a_year_the_calendar_does_not_know_counts_weekdays_and_says_so(caplog):
    start = dt.datetime(2026, 12, 30, 10, tzinfo=SH)
    workdays._warned.discard(2027)
    with caplog.at_level(logging.WARNING, logger="govex"):
        assert workdays.due_after(start, 5).date() == dt.date(2027, 1, 6)  # 1/1 counted
    assert "2027 are not known yet" in caplog.text
    recorded = {dt.date(2027, 1, 1): False}  # an admin records 元旦
    assert workdays.due_after(start, 5, recorded=recorded).date() == dt.date(2027, 1, 7)
    assert workdays.due_after(start, 1, recorded={dt.date(2026, 12, 31): False}).date() == \
        dt.date(2027, 1, 1)


def _register() -> bytes:
    return "街道,服务次数\n春熙路,3\n东大街,5\n".encode()


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, REQUESTER, OTHER)
    call = api_caller(config, tokens)
    made = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(_register()), "r.csv"),
        "metadata": json.dumps({"title": "服务台账", "sharing": "conditional", "level": "L2"})})
    assert made.status_code == 201, made.get_json()
    return svc, call, made.get_json()["id"]


def test_a_request_is_due_in_working_days_and_a_recorded_holiday_moves_it(city):
    svc, _call, dataset = city
    svc.clock = lambda: dt.datetime(2026, 9, 29, 2, tzinfo=dt.timezone.utc)  # Tue 10:00 in 成都
    made = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="核对",
                                 columns=["街道"])
    assert made["due_at"] == "2026-10-12T23:59:59+08:00" and made["overdue"] is False
    set_calendar_day(svc, dt.date(2026, 10, 12), working=False)  # say, a local holiday
    later = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="再核对",
                                  columns=["街道"])
    assert later["due_at"] == "2026-10-13T23:59:59+08:00"
    svc.clock = lambda: dt.datetime(2026, 10, 14, 2, tzinfo=dt.timezone.utc)
    shown = access.get_request(svc, STEWARD, made["id"])
    assert shown["overdue"] is True and shown["due_at"] == made["due_at"]
    listed = access.list_requests(svc, STEWARD, status="pending")["requests"]
    assert all(r["overdue"] for r in listed)


def test_the_timeline_and_withdrawal_through_the_api(city):
    _svc, call, dataset = city
    asked = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "核对", "columns": ["街道"]}).get_json()
    shown = call(REQUESTER, "GET", f"/requests/{asked['id']}").get_json()
    assert [e["type"] for e in shown["events"]] == ["asked"]
    assert shown["due_at"].endswith("+08:00")
    assert call(OTHER, "GET", f"/requests/{asked['id']}").status_code == 403
    assert call(STEWARD, "GET", f"/requests/{asked['id']}").status_code == 200
    assert call(STEWARD, "POST", f"/requests/{asked['id']}/withdraw",
                json={}).status_code == 403  # only the requesting department
    done = call(REQUESTER, "POST", f"/requests/{asked['id']}/withdraw",
                json={"reason": "已通过其他渠道获得"})
    assert done.status_code == 200 and done.get_json()["status"] == "withdrawn"
    again = call(REQUESTER, "POST", f"/requests/{asked['id']}/withdraw", json={})
    assert again.status_code == 409
    late = call(STEWARD, "POST", f"/requests/{asked['id']}/approve", json={})
    assert late.status_code == 409  # no approval of a withdrawn request
    timeline = call(REQUESTER, "GET", f"/requests/{asked['id']}").get_json()["events"]
    assert [(e["type"], e["actor"]) for e in timeline] == [
        ("asked", "tax-requester"), ("withdrawn", "tax-requester")]
    granted = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "核对", "columns": ["街道"]}).get_json()
    grant = call(STEWARD, "POST", f"/requests/{granted['id']}/approve",
                 json={}).get_json()["grant_id"]
    call(STEWARD, "POST", f"/grants/{grant}/revoke", json={"reason": "结束"})
    timeline = call(REQUESTER, "GET", f"/requests/{granted['id']}").get_json()["events"]
    assert [e["type"] for e in timeline] == ["asked", "granted", "revoked"]
    assert timeline[1]["detail"] == {"grant_id": grant}
    assert timeline[2]["detail"] == {"reason": "结束"}
    assert "withdrawn" in call(REQUESTER, "GET", "/requests?status=withdrawn").get_json()[
        "requests"][0]["status"]
