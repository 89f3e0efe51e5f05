"""好差评, 校核纠错 and 考核 (issue 17): ratings of deliveries, objections answered by a due time
(or escalated), and the departments' figures computed from a known history — with an injected
clock."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from exchange import workdays
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases import access, delivery, feedback, metrics, publishing, worker

from .conftest import api_caller, new_instance

SH = workdays.TZ
STEWARD = Principal("civil-steward", "", "civil", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
OTHER = Principal("health-requester", "", "health", "requester")
HEALTH_STEWARD = Principal("health-steward", "", "health", "steward")
AUTHORITY = Principal("city-authority", "", "city-data", "authority")
AUDITOR = Principal("city-auditor", "", "audit", "auditor")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH).astimezone(dt.timezone.utc)


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, REQUESTER, OTHER,
                               HEALTH_STEWARD, AUTHORITY, AUDITOR)
    call = api_caller(config, tokens)
    made = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO("街道,服务次数\n春熙路,3\n东大街,5\n盐市口,7\n".encode()), "r.csv"),
        "metadata": json.dumps({"title": "服务台账", "sharing": "conditional", "level": "L2"})})
    assert made.status_code == 201, made.get_json()
    return svc, call, made.get_json()["id"]


def _granted_delivery(svc, dataset, when=at(2026, 11, 30, 10)):
    svc.clock = lambda: when
    made = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="核对",
                                 columns=["街道", "服务次数"])
    granted = access.approve(svc, STEWARD, made["id"])
    return delivery.deliver(svc, REQUESTER, granted["grant_id"], fmt="csv")


def test_a_delivery_is_rated_once_by_its_receiver_and_the_comment_is_scrubbed(city):
    svc, call, dataset = city
    done = _granted_delivery(svc, dataset)
    path = f"/exchanges/{done['id']}/feedback"
    for bad in (0, 6, "5", 4.5, None):
        answer = call(REQUESTER, "POST", path, json={"rating": bad})
        assert answer.status_code == 400, bad
    assert call(OTHER, "POST", path, json={"rating": 5}).status_code == 403
    assert call(STEWARD, "POST", path, json={"rating": 5}).status_code == 403
    rated = call(REQUESTER, "POST", path, json={
        "rating": 4, "comment": "数据及时，感谢王建国，电话13812345678"})
    assert rated.status_code == 201, rated.get_json()
    stored = rated.get_json()["comment"]
    assert "13812345678" not in stored and "王建国" not in stored and "数据及时" in stored
    again = call(REQUESTER, "POST", path, json={"rating": 1})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_rated"
    with svc.reader.connect() as conn:
        logged = [e for _, e in svc.log_reader.entries(conn, type="feedback", limit=9)]
    assert [(e["rating"], e["exchange_id"]) for e in logged] == [(4, done["id"])]
    assert "comment" not in logged[0]
    from exchange.usecases import process
    assert "exchange.rated" in [n["type"] for n in process.list_notifications(
        svc, STEWARD)["notifications"]]


def test_an_objection_names_columns_and_row_numbers_and_is_answered(city):
    svc, call, dataset = city
    done = _granted_delivery(svc, dataset)
    path = f"/exchanges/{done['id']}/objections"
    cases = [({"columns": ["姓名"], "rows": [1], "description": "x"}, "columns_unknown"),
             ({"columns": ["服务次数"], "rows": [0], "description": "x"}, "objection_rows_range"),
             ({"columns": ["服务次数"], "rows": [4], "description": "x"}, "objection_rows_range"),
             ({"columns": ["服务次数"], "rows": ["2"], "description": "x"}, "objection_rows"),
             ({"columns": ["服务次数"], "rows": [2], "description": " "},
              "description_required"),
             ({"columns": [], "rows": [2], "description": "x"}, "objection_columns")]
    for body, code in cases:
        answer = call(REQUESTER, "POST", path, json=body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert answer.get_json()["error"]["code"] == code, body
    assert call(OTHER, "POST", path, json=cases[1][0] | {"rows": [2]}).status_code == 403
    made = feedback.file_objection(svc, REQUESTER, done["id"], columns=["服务次数"],
                                   rows=[2, 2, 1],
                                   description="第2行次数应为6，经办人李秀英核实")
    assert made["rows"] == [1, 2] and made["status"] == "open"
    assert made["due_at"] == "2026-12-07T23:59:59+08:00"
    assert "李秀英" not in made["description"]
    with svc.reader.connect() as conn:
        entry = [e for _, e in svc.log_reader.entries(conn, type="objection", limit=9)][0]
    assert entry["rows"] == [1, 2] and entry["columns"] == ["服务次数"]
    assert "description" not in entry and "李秀英" not in json.dumps(entry, ensure_ascii=False)
    # the provider's steward sees it; another department's steward does not
    assert call(STEWARD, "GET", "/objections").get_json()["total"] == 1
    assert call(HEALTH_STEWARD, "GET", f"/objections/{made['id']}").status_code == 403
    answer = f"/objections/{made['id']}/answer"
    assert call(HEALTH_STEWARD, "POST", answer,
                json={"outcome": "explained", "explanation": "x"}).status_code == 403
    stale = call(STEWARD, "POST", answer, json={"outcome": "fixed", "version": 1})
    assert stale.get_json()["error"]["code"] == "objection_version"
    missing = call(STEWARD, "POST", answer, json={"outcome": "fixed", "version": 2})
    assert missing.status_code == 404  # no version 2 yet
    data = "街道,服务次数\n春熙路,3\n东大街,6\n盐市口,7\n".encode()
    publishing.add_version(svc, STEWARD, dataset, filename="r.csv", data=data)
    fixed = call(STEWARD, "POST", answer, json={"outcome": "fixed", "version": 2})
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["status"] == "fixed" and fixed.get_json()["fixed_version"] == 2
    twice = call(STEWARD, "POST", answer, json={"outcome": "explained", "explanation": "x"})
    assert twice.status_code == 409
    from exchange.usecases import process
    assert process.list_notifications(svc, REQUESTER)["notifications"][0]["type"] == \
        "objection.answered"
    # its timers no longer fire (nor the request's, decided at once)
    svc.clock = lambda: at(2026, 12, 9, 9)
    assert worker.run_once(svc) == {"timer.dropped": 4}


def test_an_unanswered_objection_is_escalated_to_the_authority(city):
    svc, call, dataset = city
    done = _granted_delivery(svc, dataset)
    feedback.file_objection(svc, REQUESTER, done["id"], columns=["街道"], rows=[3],
                            description="街道名称有误")
    svc.clock = lambda: at(2026, 12, 7, 9)  # the reminder (the request's: dropped, decided)
    assert worker.run_once(svc) == {"timer.done": 1, "timer.dropped": 1}
    svc.clock = lambda: at(2026, 12, 8, 0)
    assert worker.run_once(svc) == {"timer.done": 1, "timer.dropped": 1}
    with svc.reader.connect() as conn:
        escalated = [e for _, e in svc.log_reader.entries(conn, type="escalate", limit=9)]
    assert len(escalated) == 1 and escalated[0]["objection_id"]
    assert escalated[0]["authorities"] == ["city-data"]
    from exchange.usecases import process
    assert [n["type"] for n in process.list_notifications(svc, AUTHORITY)["notifications"]] \
        == ["objection.escalated"]
    listed = feedback.list_objections(svc, AUTHORITY)["objections"]
    assert listed[0]["escalated_at"] == "2026-12-08T00:00:00+08:00"
    assert listed[0]["overdue"] is True
    assert call(AUTHORITY, "GET", "/objections").get_json()["total"] == 1
    assert call(OTHER, "GET", "/objections").get_json()["total"] == 0


def test_a_receipt_stays_downloadable_after_the_grant_is_revoked(city):
    svc, call, dataset = city
    done = _granted_delivery(svc, dataset)
    access.revoke(svc, STEWARD, done["audit_entry"]["grant_id"], reason="用途已结束")
    receipt, _name = delivery.exchange_receipt(svc, REQUESTER, done["id"])
    assert receipt == done["receipt"]
    assert delivery.signed_manifest(svc, REQUESTER, done["id"])["sha256"] == done["sha256"]
    with pytest.raises(Exception) as refused:
        delivery.exchange_data(svc, REQUESTER, done["id"])
    assert getattr(refused.value, "code", None) in ("no_active_grant", "grant_inactive")
    with pytest.raises(Exception) as other:
        delivery.exchange_receipt(svc, OTHER, done["id"])
    assert getattr(other.value, "code", None) == "not_your_delivery"


def test_the_figures_are_computed_from_a_known_history(city):
    svc, call, dataset = city
    svc.clock = lambda: at(2026, 11, 27, 17)  # Friday 17:00
    a = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="甲", columns=["街道"])
    svc.clock = lambda: at(2026, 11, 30, 9)  # Monday 09:00: 7 + 9 working hours
    access.approve(svc, STEWARD, a["id"])
    svc.clock = lambda: at(2026, 11, 30, 10)  # still November
    b = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="乙", columns=["街道"])
    svc.clock = lambda: at(2026, 12, 1, 10)  # 24 working hours, on time
    access.deny(svc, STEWARD, b["id"], reason="不必要")
    svc.clock = lambda: at(2026, 12, 1, 10)
    c = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="丙", columns=["街道"])
    d = access.create_request(svc, REQUESTER, dataset_id=dataset, purpose="丁", columns=["街道"])
    access.withdraw(svc, REQUESTER, d["id"])
    svc.clock = lambda: at(2026, 12, 9, 10)  # due 12/08: late; 14+72+48+10 = 144 hours
    access.deny(svc, STEWARD, c["id"], reason="不必要")
    from exchange.usecases import process
    process.appeal(svc, REQUESTER, c["id"], reason="确需")
    done = _granted_delivery(svc, dataset, when=at(2026, 12, 9, 11))  # a fifth request
    feedback.rate(svc, REQUESTER, done["id"], rating=2)
    svc.clock = lambda: at(2026, 12, 10, 9)
    figures = metrics.department_metrics(svc, AUDITOR, start="2026-11-01", end="2026-12-31")
    rows = {(r["department"], r["period"]): r for r in figures["metrics"]}
    assert set(rows) == {("civil", "2026-11"), ("civil", "2026-12")}
    nov, dec = rows[("civil", "2026-11")], rows[("civil", "2026-12")]
    # November: A (16 working hours, granted) and B (24, refused), both on time
    assert (nov["requests_received"], nov["replied"], nov["replied_on_time"],
            nov["median_reply_hours"], nov["approval_rate"]) == (2, 2, 2, 20.0, 0.5)
    # December: C (144 hours, late, refused, appealed), D (withdrawn), E (granted at once)
    assert (dec["requests_received"], dec["replied"], dec["replied_on_time"]) == (3, 2, 1)
    assert dec["median_reply_hours"] == 72.0 and dec["approval_rate"] == 0.5
    assert (dec["appeals"], dec["appeals_returned"]) == (1, 0)
    assert (dec["ratings"], dec["rating_mean"], dec["rating_counts"]["2"]) == (1, 2.0, 1)
    assert dec["on_time_rate"] == 0.5 and nov["ratings"] == 0 and nov["rating_mean"] is None
    quarter = metrics.department_metrics(svc, AUDITOR, start="2026-10-01", end="2026-12-31",
                                         period="quarter")["metrics"]
    assert [(r["period"], r["requests_received"]) for r in quarter] == [("2026-Q4", 5)]
    # the CSV export holds the same figures
    table = list(csv.DictReader(io.StringIO(metrics.as_csv(figures["metrics"]).lstrip("\ufeff"))))
    assert [(r["period"], r["replied_on_time"], r["rating_2"]) for r in table] == \
        [("2026-11", "2", "0"), ("2026-12", "1", "1")]
    answer = call(AUTHORITY, "GET", "/metrics/departments?from=2026-11-01&to=2026-12-31"
                  "&format=csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert call(REQUESTER, "GET", "/metrics/departments").status_code == 403
    assert call(AUDITOR, "GET", "/metrics/departments?period=week").status_code == 400
    assert call(AUDITOR, "GET", "/metrics/departments?from=2026-13-01").status_code == 400


def test_working_hours_stop_over_weekends_and_holidays():
    assert workdays.working_hours(at(2026, 11, 27, 17), at(2026, 11, 30, 9)) == 16.0
    # 国庆: 9/30 10:00 to 10/8 10:00 is 14 + 10 working hours (10/1-10/7 off)
    assert workdays.working_hours(at(2026, 9, 30, 10), at(2026, 10, 8, 10)) == 24.0
    assert workdays.working_hours(at(2026, 12, 5, 10), at(2026, 12, 6, 10)) == 0.0
