"""The auditors' flags: each rule on its own with tables of cases (negatives too), then the
dashboard of a small instance of its own, in which the situations are recorded at chosen
times, showing the flags with working links and charts whose bars open the filtered log."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from types import SimpleNamespace

import pytest

from exchange import events
from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases import access, oversight
from exchange.usecases.oversight import (
    day_bounds,
    in_working_hours,
    off_hours_deliveries,
    off_hours_spans,
    overdue_cutoff,
    overdue_requests,
    refusal_counts,
    refusal_spikes,
    repeated_downloads,
    working_days_after,
)
from exchange.usecases.publishing import publish

from .conftest import new_instance
from .test_web import Browser, text

CST = dt.timezone(dt.timedelta(hours=8))


def cst(text: str) -> dt.datetime:
    """A China Standard Time moment, e.g. "2026-11-20 17:59"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def delivery(at: str, *, receiver: str = "tax", dataset_id: str = "d1", actor: str = "li",
             grant_id: str = "g1") -> dict:
    return {"type": "exchange", "time": utc(cst(at)), "receiver": receiver, "provider": "civil",
            "dataset_id": dataset_id, "actor": actor, "grant_id": grant_id}


# -- working hours -------------------------------------------------------------------------

@pytest.mark.parametrize("at, working", [
    ("2026-11-20 17:59", True),    # Friday, a minute before the end
    ("2026-11-20 18:00", False),   # the end itself is after hours
    ("2026-11-20 18:01", False),
    ("2026-11-20 08:30", True),    # the start is within
    ("2026-11-20 08:29", False),
    ("2026-11-21 10:00", False),   # Saturday
    ("2026-11-22 10:00", False),   # Sunday
    ("2026-11-23 12:00", True),    # Monday
    ("2026-11-19 03:00", False),   # night
])
def test_working_hours_in_china_standard_time(at, working):
    assert in_working_hours(cst(at)) is working


def test_working_hours_are_read_in_china_standard_time_not_utc():
    # 01:00 UTC is 09:00 in Beijing: working; 11:00 UTC is 19:00: not
    assert in_working_hours(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc))
    assert not in_working_hours(dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.timezone.utc))


def test_off_hours_deliveries_list_only_those_outside_working_hours():
    log = [(1, delivery("2026-11-20 17:59")), (2, delivery("2026-11-20 18:01")),
           (3, delivery("2026-11-21 10:00")),
           (4, {**delivery("2026-11-21 11:00"), "type": "publish"})]  # not a delivery
    found = off_hours_deliveries(log)
    assert [o.index for o in found] == [3, 2]  # newest first
    assert (found[1].receiver, found[1].dataset_id, found[1].actor) == ("tax", "d1", "li")
    assert found[1].time == cst("2026-11-20 18:01")


def test_the_off_hours_spans_cover_exactly_the_times_outside_working_hours():
    spans = off_hours_spans(dt.date(2026, 11, 20), dt.date(2026, 11, 23))  # Friday to Monday
    assert spans == [(cst("2026-11-20 00:00"), cst("2026-11-20 08:30")),
                     (cst("2026-11-20 18:00"), cst("2026-11-23 08:30")),  # one weekend span
                     (cst("2026-11-23 18:00"), cst("2026-11-24 00:00"))]
    moment = cst("2026-11-20 00:00")
    while moment < cst("2026-11-24 00:00"):  # every quarter hour agrees with the rule
        inside = any(start <= moment < end for start, end in spans)
        assert inside is not in_working_hours(moment), moment
        moment += dt.timedelta(minutes=15)


def test_a_day_in_china_standard_time_starts_at_16_utc():
    start, end = day_bounds(dt.date(2026, 11, 1))
    assert (utc(start), utc(end)) == ("2026-10-31T16:00:00Z", "2026-11-01T16:00:00Z")


# -- repeated downloads ----------------------------------------------------------------------

@pytest.mark.parametrize("times, expected", [
    (["2026-11-19 09:00", "2026-11-19 10:00"], None),                        # 2: not repeated
    (["2026-11-19 09:00", "2026-11-19 10:00", "2026-11-19 11:00"], 3),      # 3 are
    (["2026-11-18 09:00", "2026-11-19 08:59", "2026-11-19 09:00"], 3),      # exactly 24 h
    (["2026-11-18 09:00", "2026-11-19 09:00", "2026-11-19 09:01"], None),   # outside 24 h
    (["2026-11-10 09:00", "2026-11-12 09:00", "2026-11-14 09:00",
      "2026-11-16 09:00"], None),                                             # spread out
    (["2026-11-10 09:00", "2026-11-19 09:00", "2026-11-19 12:00",
      "2026-11-19 15:00", "2026-11-19 18:00"], 4),                            # the busiest day
])
def test_repeated_downloads_within_24_hours(times, expected):
    log = [(i, delivery(t, actor=f"user{i % 2}", grant_id=f"g{i % 2}"))
           for i, t in enumerate(times)]
    found = repeated_downloads(log)
    assert [r.count for r in found] == ([expected] if expected else [])
    if expected:
        r = found[0]
        assert (r.receiver, r.dataset_id) == ("tax", "d1")
        assert r.last - r.first <= dt.timedelta(hours=24) and len(r.indexes) == expected
        assert set(r.actors) <= {"user0", "user1"} and set(r.grants) <= {"g0", "g1"}


def test_repeated_downloads_count_each_department_and_dataset_apart():
    at = ["2026-11-19 09:00", "2026-11-19 10:00", "2026-11-19 11:00"]
    log = [(0, delivery(at[0])), (1, delivery(at[1], dataset_id="d2")),
           (2, delivery(at[2], receiver="police")), (3, delivery(at[2], actor="wang"))]
    assert repeated_downloads(log) == []  # d1 to tax twice only
    log.append((4, delivery("2026-11-19 12:00", actor="zhao", grant_id="g9")))
    [found] = repeated_downloads(log)  # whoever of the department, whichever grant
    assert found.indexes == (0, 3, 4) and found.actors == ("li", "wang", "zhao")


# -- refusal spikes ------------------------------------------------------------------------

DAY = dt.date(2026, 11, 19)


def _counts(per_day: dict[int, int], dept: str | None = "tax",
            kind: str = "authz_denied") -> Counter:
    """Counts ``{days before DAY: n}``."""
    return Counter({(DAY - dt.timedelta(days=k), dept, kind): n for k, n in per_day.items()})


@pytest.mark.parametrize("per_day, spike", [
    ({0: 2}, False),                                           # a quiet day
    ({0: 4}, False),                                           # below the floor of 5
    ({0: 5}, True),                                            # 5 after nothing
    ({0: 6, 1: 3, 2: 3, 3: 3, 4: 3, 5: 2, 6: 2, 7: 2}, False),  # usual 3: 6 < 9
    ({0: 9, 1: 3, 2: 3, 3: 3, 4: 3, 5: 2, 6: 2, 7: 2}, True),   # 9 ≥ 3 × 3
    ({0: 9, 8: 100}, True),                                    # 8 days before: not compared
    ({0: 12, 1: 30, 2: 30, 3: 30, 4: 30}, False),              # usual 30 (4 of 7 days)
])
def test_refusal_spikes_against_the_median_of_the_week_before(per_day, spike):
    found = refusal_spikes(_counts(per_day), [DAY])
    assert bool(found) is spike
    if spike:
        assert (found[0].day, found[0].department, found[0].count) == (DAY, "tax", per_day[0])


def test_refusal_spikes_are_per_department_and_sum_the_kinds_of_refusal():
    counts = (_counts({0: 3}) + _counts({0: 3}, kind="sign_in_failed")
              + _counts({0: 4}, dept="police") + _counts({0: 7}, dept=None))
    found = {s.department: s for s in refusal_spikes(counts, [DAY])}
    assert set(found) == {"tax", None}  # police: 4, below the floor
    assert found["tax"].count == 6
    assert found["tax"].by_type == (("authz_denied", 3), ("sign_in_failed", 3))


def test_refusal_counts_take_refusals_only():
    def e(kind, **kw):
        return {"type": kind, "time": utc(cst("2026-11-19 23:30")), "actor_department": "tax",
                **kw}
    log = list(enumerate([e("authz_denied"), e("sign_in_failed"), e("request", outcome="refused"),
                          e("request", outcome="pending"), e("deny"), e("exchange"),
                          e("sign_in_failed", actor_department=None)]))
    assert refusal_counts(log) == Counter({(DAY, "tax", "authz_denied"): 1,
                                           (DAY, "tax", "sign_in_failed"): 1,
                                           (DAY, "tax", "request"): 1,
                                           (DAY, None, "sign_in_failed"): 1})


# -- overdue requests ----------------------------------------------------------------------

@pytest.mark.parametrize("start, end, days", [
    ("2026-11-16", "2026-11-16", 0),   # the day of the request is not counted
    ("2026-11-16", "2026-11-20", 4),   # Monday to Friday
    ("2026-11-16", "2026-11-23", 5),   # the weekend is not counted
    ("2026-11-20", "2026-11-23", 1),   # Friday to Monday
    ("2026-11-21", "2026-11-22", 0),   # Saturday to Sunday
    ("2026-11-20", "2026-11-16", 0),
])
def test_working_days_count_monday_to_friday(start, end, days):
    assert working_days_after(dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == days


@pytest.mark.parametrize("made, today, overdue", [
    ("2026-11-16 09:00", "2026-11-23", False),  # Monday, 5 working days on: the last day
    ("2026-11-16 09:00", "2026-11-24", True),   # the 6th working day: overdue
    ("2026-11-16 23:59", "2026-11-24", True),
    ("2026-11-14 10:00", "2026-11-20", False),  # Saturday: Mon–Fri is 5
    ("2026-11-14 10:00", "2026-11-23", True),
    ("2026-11-20 17:00", "2026-11-26", False),  # Friday: Mon–Thu is 4
])
def test_overdue_after_five_working_days(made, today, overdue):
    pending = [{"request_id": "r1", "time": cst(made), "dataset_id": "d1", "provider": "civil",
                "receiver": "tax", "actor": "li", "outcome": "pending"}]
    day = dt.date.fromisoformat(today)
    found = overdue_requests(pending, today=day)
    assert bool(found) is overdue
    # the database's cutoff agrees with the rule
    assert (cst(made) < overdue_cutoff(day)) is overdue
    if overdue:
        assert found[0].request_id == "r1" and found[0].waiting > 5


def test_a_decided_request_is_never_overdue():
    decided = [{"request_id": "r1", "time": cst("2026-10-01 09:00"), "dataset_id": "d1",
                "provider": "civil", "receiver": "tax", "actor": "li", "outcome": "granted"}]
    assert overdue_requests(decided, today=dt.date(2026, 11, 20)) == []


# -- the dashboard of an instance of its own -------------------------------------------------

AUDITOR = Principal("auditor", "", "audit", "auditor")
STEWARD = Principal("civil-steward", "", "civil", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
NOW = cst("2026-11-20 10:00")  # a Friday


def _deliver(svc, at: str, index_of: dict, name: str, **kw) -> None:
    svc.clock = lambda: cst(at).astimezone(dt.timezone.utc)
    fields = {"actor": TAX.username, "actor_department": "tax", "provider": "civil",
              "receiver": "tax", "dataset_id": "ds-1", "dataset_version": 1,
              "request_id": "r-1", "grant_id": "g-1", "exchange_id": name, "purpose": "核查",
              "columns": {"金额": "keep"}, "row_count": 2, "sha256": "0" * 64} | kw
    index_of[name] = svc.record(events.Exchange(**fields))


@pytest.fixture(scope="module")
def instance(tmp_path_factory, settings_for) -> SimpleNamespace:
    settings = load_settings(settings_for(tmp_path_factory.mktemp("oversight-home")), environ={})
    svc, _ = new_instance(settings, AUDITOR, STEWARD, TAX)
    at = {}
    svc.clock = lambda: cst("2026-11-09 09:00").astimezone(dt.timezone.utc)
    dataset = publish(svc, STEWARD, filename="名单.csv", data="机构,金额\n甲,1\n乙,2\n".encode(),
                      metadata={"title": "名单", "sharing": "conditional", "level": "L2",
                                "confirm_personal_data": True})["id"]
    for name, made in (("old", "2026-11-10 09:00"), ("recent", "2026-11-16 09:00")):
        svc.clock = lambda made=made: cst(made).astimezone(dt.timezone.utc)
        at[name] = access.create_request(svc, TAX, dataset_id=dataset, purpose="核查",
                                         columns=["金额"])["id"]
    _deliver(svc, "2026-11-18 10:00", at, "day")
    _deliver(svc, "2026-11-18 22:00", at, "night")
    for hour in (9, 10, 11):
        _deliver(svc, f"2026-11-19 {hour:02d}:00", at, f"again-{hour}", dataset_id="ds-2")
    svc.clock = lambda: cst("2026-11-19 15:00").astimezone(dt.timezone.utc)
    for _ in range(6):
        svc.record(events.AuthzDenied(actor=TAX.username, actor_department="tax",
                                      object="grant", target=None, action="read",
                                      provider="civil"))
    svc.clock = lambda: NOW.astimezone(dt.timezone.utc)
    app = create_app(services=svc)
    app.config["TESTING"] = True
    return SimpleNamespace(svc=svc, app=app, at=at, dataset=dataset)


@pytest.fixture(scope="module")
def page(instance) -> SimpleNamespace:
    b = Browser(instance.app.test_client())
    assert b.sign_in(AUDITOR.username, "pw-" * 5).status_code == 303
    r = b.get("/dashboard")
    assert r.status_code == 200
    return SimpleNamespace(browser=b, html=text(r))


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:re.compile("<h[23]").search(html, start).start()]


def test_the_flags_the_use_case_finds(instance):
    found = oversight.flags(instance.svc, AUDITOR)
    assert (found.first, found.today) == (dt.date(2026, 11, 7), dt.date(2026, 11, 20))
    assert [o.index for o in found.off_hours] == [instance.at["night"]]
    assert found.off_hours_total == 1
    [repeat] = found.repeats
    assert (repeat.receiver, repeat.dataset_id, repeat.count) == ("tax", "ds-2", 3)
    assert [(s.day, s.department, s.count) for s in found.spikes] == [
        (dt.date(2026, 11, 19), "tax", 6)]
    assert [o.request_id for o in found.overdue] == [instance.at["old"]]
    assert found.overdue_total == 1 and found.overdue[0].index is not None


def test_flags_are_for_auditors_only(instance):
    from exchange.errors import Forbidden
    with pytest.raises(Forbidden):
        oversight.flags(instance.svc, TAX)


def test_the_page_lists_each_flag_with_links_that_work(instance, page):
    html, b = page.html, page.browser
    night = _section(html, "flag-off-hours")
    assert f'href="/audit/log/{instance.at["night"]}"' in night
    assert f'href="/audit/log/{instance.at["day"]}"' not in night
    entry = text(b.get(f'/audit/log/{instance.at["night"]}'))
    assert "ds-1" in entry and "tax-requester" in entry

    repeats = _section(html, "flag-repeats")
    link = re.search(r'href="(/audit/log\?type=exchange[^"]*dataset_id=ds-2[^"]*)"', repeats)
    listed = text(b.get(link.group(1).replace("&amp;", "&")))
    assert "3 entries match" in listed

    spikes = _section(html, "flag-spikes")
    assert "2026-11-19" in spikes and ">6<" in spikes
    link = re.search(r'href="(/audit/log\?type=authz_denied[^"]*)"', spikes).group(1)
    assert "from=2026-11-19" in link and "to=2026-11-19" in link
    assert "6 entries match" in text(b.get(link.replace("&amp;", "&")))

    overdue = _section(html, "flag-overdue")
    index = re.search(r'href="/audit/log/(\d+)"', overdue).group(1)
    assert instance.at["old"] in text(b.get(f"/audit/log/{index}"))
    assert overdue.count("<tr>") == 2  # the header and the old request; the recent one waits


def test_a_chart_bar_opens_the_filtered_log(page):
    html, b = page.html, page.browser
    chart = html[html.index('id="chart-deliveries-title"'):]
    chart = chart[:chart.index("</svg>")]
    link = re.search(r'<a href="([^"]*from=2026-11-18[^"]*)" class="chart-link" '
                     r'aria-label="([^"]+)"', chart)
    day = "/audit/log?type=exchange&amp;from=2026-11-18&amp;to=2026-11-18"
    assert link and link.group(1) == day
    assert link.group(2).startswith("11-18: 2")  # named by its day and value
    assert "2 entries match" in text(b.get(link.group(1).replace("&amp;", "&")))
    status = html[html.index('id="chart-status-title"'):]
    assert '/audit/log?type=request&amp;from=2026-11-07&amp;to=2026-11-20' in status


def test_the_page_in_chinese(instance, page):
    b = Browser(instance.app.test_client(), lang="zh-CN")
    assert b.sign_in(AUDITOR.username, "pw-" * 5).status_code == 303
    html = text(b.get("/dashboard"))
    for words in ("非工作时间交付", "重复下载", "拒绝激增", "逾期未处理"):
        assert words in html
