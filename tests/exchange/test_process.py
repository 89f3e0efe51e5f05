"""The sharing process (issue 17): reminders and escalation at working-day due times, appeals
decided by the data authority, the in-app inbox — with an injected clock, no waiting, and the
worker run by hand."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from exchange import workdays
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.models import outbox
from exchange.usecases import access, process, worker

from .conftest import api_caller, new_instance

SH = workdays.TZ
STEWARD = Principal("civil-steward", "", "civil", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
OTHER = Principal("health-requester", "", "health", "requester")
AUTHORITY = Principal("city-authority", "", "city-data", "authority")
DISTRICT_AUTHORITY = Principal("jj-authority", "", "jj-data", "authority")


def at(*args: int) -> dt.datetime:
    """A Shanghai wall-clock time, in UTC (as the exchange's clock gives it)."""
    return dt.datetime(*args, tzinfo=SH).astimezone(dt.timezone.utc)


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(
        load_settings(config, environ={}), STEWARD, REQUESTER, OTHER, AUTHORITY,
        DISTRICT_AUTHORITY, places={"jj-data": ("district", "510104")})
    call = api_caller(config, tokens)
    made = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO("街道,服务次数\n春熙路,3\n".encode()), "r.csv"),
        "metadata": json.dumps({"title": "服务台账", "sharing": "conditional", "level": "L2"})})
    assert made.status_code == 201, made.get_json()
    return svc, call, made.get_json()["id"]


def _ask(svc, dataset, when):
    svc.clock = lambda: when
    return access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="核对",
                                 columns=["街道"])


def _inbox(svc, who):
    return process.list_notifications(svc, who)


def _types(svc, who):
    return [n["type"] for n in _inbox(svc, who)["notifications"]]


def _work(svc, when):
    svc.clock = lambda: when
    return worker.run_once(svc)


def _entries(svc, kind):
    with svc.reader.connect() as conn:
        return [e for _, e in svc.log_reader.entries(conn, type=kind, limit=100)]


def test_a_new_request_tells_the_provider_and_a_decision_tells_the_requester(city):
    svc, _call, dataset = city
    made = _ask(svc, dataset, at(2026, 9, 29, 10))
    assert _types(svc, STEWARD) == ["request.created"]
    assert _inbox(svc, STEWARD)["unread"] == 1
    assert _types(svc, REQUESTER) == [] and _types(svc, OTHER) == []
    note = _inbox(svc, STEWARD)["notifications"][0]
    assert note["subject_id"] == made["id"] and note["data"]["due_at"]
    assert "核对" not in json.dumps(note, ensure_ascii=False)  # no purpose in a notice
    access.deny(svc, STEWARD, made["id"], reason="不属于履职范围")
    assert _types(svc, REQUESTER) == ["request.denied"]
    assert "不属于履职范围" not in json.dumps(_inbox(svc, REQUESTER), ensure_ascii=False)


def test_the_provider_is_reminded_on_the_due_day_and_the_authority_gets_it_overdue(city):
    svc, _call, dataset = city
    made = _ask(svc, dataset, at(2026, 9, 29, 10))  # due 10/12 23:59:59, over 国庆
    assert made["due_at"] == "2026-10-12T23:59:59+08:00"
    assert sum(_work(svc, at(2026, 10, 12, 8, 59)).values()) == 0  # nothing due yet
    assert _work(svc, at(2026, 10, 12, 9, 0)) == {"timer.done": 1}
    assert _types(svc, STEWARD)[0] == "request.due_soon"
    assert sum(_work(svc, at(2026, 10, 12, 23, 59, 59)).values()) == 0
    assert _work(svc, at(2026, 10, 13, 0, 0, 0)) == {"timer.done": 1}
    escalated = _entries(svc, "escalate")
    assert len(escalated) == 1
    assert escalated[0]["request_id"] == made["id"]
    # the authority of the provider's level (the city's), not the district's
    assert escalated[0]["authorities"] == ["city-data"]
    assert escalated[0]["actor"] == "system:worker"
    assert _types(svc, AUTHORITY) == ["request.escalated"]
    assert _types(svc, DISTRICT_AUTHORITY) == []
    assert "request.escalated" in _types(svc, REQUESTER)
    svc.clock = lambda: at(2026, 10, 13, 9)
    view = access.get_request(svc, AUTHORITY, made["id"])
    assert view["overdue"] is True and view["escalated_at"]
    assert [e["type"] for e in view["events"]][-1] == "escalated"
    # run again, later: nothing more leaves
    assert sum(_work(svc, at(2026, 10, 20, 9)).values()) == 0
    assert len(_entries(svc, "escalate")) == 1


def test_a_request_decided_in_time_is_neither_reminded_nor_escalated(city):
    svc, _call, dataset = city
    made = _ask(svc, dataset, at(2026, 9, 29, 10))
    access.approve(svc, STEWARD, made["id"])
    assert _work(svc, at(2026, 10, 14, 9)) == {"timer.dropped": 2}
    assert _entries(svc, "escalate") == []
    assert "request.due_soon" not in _types(svc, STEWARD)
    assert _types(svc, REQUESTER) == ["request.approved"]


def test_a_withdrawn_request_is_told_to_the_provider_and_not_escalated(city):
    svc, _call, dataset = city
    made = _ask(svc, dataset, at(2026, 11, 27, 10))
    access.withdraw(svc, REQUESTER, made["id"])
    assert _types(svc, STEWARD) == ["request.withdrawn", "request.created"]
    assert _work(svc, at(2026, 12, 10, 9)) == {"timer.dropped": 2}


def test_a_refusal_is_appealed_and_the_authority_returns_it_with_a_new_due_time(city):
    svc, call, dataset = city
    made = _ask(svc, dataset, at(2026, 11, 27, 10))
    svc.clock = lambda: at(2026, 11, 30, 10)
    access.deny(svc, STEWARD, made["id"], reason="数据敏感")
    pending_first = process.appeal
    with pytest.raises(Exception) as other:
        pending_first(svc, OTHER, made["id"], reason="需要")
    assert getattr(other.value, "code", None) == "not_your_request"
    appealed = process.appeal(svc, REQUESTER, made["id"], reason="低保复核确需街道数据")
    assert appealed["status"] == "appealed"
    assert appealed["appeal"]["due_at"] == "2026-12-14T23:59:59+08:00"  # 10 working days
    with pytest.raises(Exception) as twice:
        process.appeal(svc, REQUESTER, made["id"], reason="再次")
    assert getattr(twice.value, "code", None) == "already_appealed"
    entry = _entries(svc, "appeal")[0]
    assert entry["authorities"] == ["city-data"] and entry["appeal_id"] == appealed["appeal"]["id"]
    assert "request.appealed" in _types(svc, AUTHORITY)
    assert "request.appealed" in _types(svc, STEWARD)
    # the district's authority does not oversee the city's bureau
    with pytest.raises(Exception) as outside:
        process.decide_appeal(svc, DISTRICT_AUTHORITY, made["id"], outcome="returned",
                              instruction="请重新研究")
    assert getattr(outside.value, "code", None) == "not_overseen"
    with pytest.raises(Exception) as bare:
        process.decide_appeal(svc, AUTHORITY, made["id"], outcome="returned")
    assert getattr(bare.value, "code", None) == "instruction_required"
    svc.clock = lambda: at(2026, 12, 2, 15)
    decided = process.decide_appeal(svc, AUTHORITY, made["id"], outcome="returned",
                                    instruction="按最小必要原则提供街道列")
    assert decided["status"] == "pending" and decided["due_at"] == "2026-12-09T23:59:59+08:00"
    assert decided["appeal"]["outcome"] == "returned"
    assert _types(svc, STEWARD)[0] == "request.appeal_decided"
    assert _types(svc, REQUESTER)[0] == "request.appeal_decided"
    logged = _entries(svc, "appeal_decision")[0]
    assert logged["outcome"] == "returned" and "instruction" not in logged
    # the steward sees the instruction on the request, and decides again
    seen = call(STEWARD, "GET", f"/requests/{made['id']}").get_json()
    assert seen["appeals"][0]["instruction"] == "按最小必要原则提供街道列"
    assert [e["type"] for e in seen["events"]][-2:] == ["appealed", "appeal_returned"]
    access.approve(svc, STEWARD, made["id"])
    # the new due time's timers, not the old ones
    assert _work(svc, at(2026, 12, 20, 9)).get("timer.done", 0) == 0


def test_the_authority_upholds_a_refusal(city):
    svc, call, dataset = city
    made = _ask(svc, dataset, at(2026, 11, 27, 10))
    access.deny(svc, STEWARD, made["id"], reason="数据敏感")
    answer = call(REQUESTER, "POST", f"/requests/{made['id']}/appeal", json={"reason": "确需"})
    assert answer.status_code == 201, answer.get_json()
    nope = call(AUTHORITY, "POST", f"/requests/{made['id']}/appeal/decision",
                json={"outcome": "maybe"})
    assert nope.status_code == 422
    assert nope.get_json()["error"]["code"] == "appeal_outcome_unknown"
    kept = call(AUTHORITY, "POST", f"/requests/{made['id']}/appeal/decision",
                json={"outcome": "upheld"})
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["status"] == "denied"
    again = call(AUTHORITY, "POST", f"/requests/{made['id']}/appeal/decision",
                 json={"outcome": "upheld"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "no_open_appeal"
    steward = call(STEWARD, "POST", f"/requests/{made['id']}/appeal", json={"reason": "x"})
    assert steward.status_code == 403


@pytest.mark.parametrize(("status", "code"), [("pending", "not_appealable"),
                                              ("granted", "not_appealable")])
def test_only_a_refusal_is_appealed(city, status, code):
    svc, call, dataset = city
    made = _ask(svc, dataset, at(2026, 11, 27, 10))
    if status == "granted":
        access.approve(svc, STEWARD, made["id"])
    answer = call(REQUESTER, "POST", f"/requests/{made['id']}/appeal", json={"reason": "需要"})
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == code


def test_notices_are_read_one_or_all_and_only_by_their_addressees(city):
    svc, call, dataset = city
    for _ in range(3):
        _ask(svc, dataset, at(2026, 11, 27, 10))
    listed = call(STEWARD, "GET", "/notifications?page_size=2").get_json()
    assert listed["unread"] == 3 and len(listed["notifications"]) == 2
    rest = call(STEWARD, "GET", f"/notifications?page_token={listed['next_page_token']}")
    assert len(rest.get_json()["notifications"]) == 1
    first = listed["notifications"][0]["id"]
    # another department's user cannot mark the steward's notice read
    assert call(OTHER, "POST", "/notifications/read", json={"ids": [first]}).get_json() == \
        {"marked": 0, "unread": 0}
    marked = call(STEWARD, "POST", "/notifications/read", json={"ids": [first]}).get_json()
    assert marked == {"marked": 1, "unread": 2}
    unread = call(STEWARD, "GET", "/notifications?unread=true").get_json()
    assert first not in [n["id"] for n in unread["notifications"]]
    assert call(STEWARD, "POST", "/notifications/read", json={}).get_json() == \
        {"marked": 2, "unread": 0}
    bad = call(STEWARD, "POST", "/notifications/read", json={"ids": ["1"]})
    assert bad.status_code == 400
    assert call(STEWARD, "GET", "/notifications?unread=maybe").status_code == 400


def test_timers_are_written_with_the_request_and_only_then(city):
    svc, _call, dataset = city
    _ask(svc, dataset, at(2026, 11, 27, 10))
    with svc.reader.connect() as conn:
        timers = conn.execute(sa.select(outbox.c.target, outbox.c.due_at).where(
            outbox.c.kind == "timer").order_by(outbox.c.due_at)).all()
    assert [t for t, _ in timers] == ["request.remind", "request.escalate"]
    due = [workdays_due.replace(tzinfo=dt.timezone.utc) if workdays_due.tzinfo is None
           else workdays_due for _, workdays_due in timers]
    assert due[0] == at(2026, 12, 4, 9)
    assert due[1] == at(2026, 12, 5, 0, 0, 0)
