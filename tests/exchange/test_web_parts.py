"""The pages' small parts on their own: the message catalog is complete, the dashboard's
figures, the chart geometry, the redirect guard, the preview of a request."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import exchange.web
from exchange.auth import Principal
from exchange.errors import Forbidden
from exchange.usecases.masking_plan import planned_masking, preview
from exchange.usecases.oversight import day_bounds, decision_hours, requests_by_status
from exchange.web.base import safe_next
from exchange.web.charts import bar_chart, column_chart

WEB = Path(exchange.web.__file__).parent
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_every_message_has_a_chinese_translation():
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(WEB), method_map)}
    with (WEB / "translations/zh/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and m.string and not m.fuzzy}
    assert found and sorted(found - translated) == []


@pytest.mark.parametrize("target,expected", [
    ("/catalog?q=1", "/catalog?q=1"), (None, "/d"), ("", "/d"), ("https://evil.example/", "/d"),
    ("//evil.example/x", "/d"), ("/\\evil.example", "/d"), ("javascript:alert(1)", "/d"),
    ("catalog", "/d")])
def test_safe_next_keeps_redirects_on_this_site(target, expected):
    assert safe_next(target, "/d") == expected


def _e(kind: str, time: str, **kw) -> dict:
    return {"type": kind, "time": time, **kw}


LOG = [
    _e("request", "2026-11-01T01:00:00Z", request_id="r1", outcome="pending", provider="hotline"),
    _e("request", "2026-11-01T02:00:00Z", request_id="r2", outcome="pending", provider="hotline"),
    _e("request", "2026-11-01T03:00:00Z", request_id="r3", outcome="granted", provider="health"),
    _e("request", "2026-11-01T03:00:00Z", request_id="r4", outcome="refused", provider="police"),
    _e("approve", "2026-11-01T03:00:00Z", request_id="r3", outcome="granted", provider="health"),
    _e("approve", "2026-11-01T05:00:00Z", request_id="r1", outcome="granted", provider="hotline"),
    _e("deny", "2026-11-01T06:00:00Z", request_id="r2", outcome="denied", provider="hotline"),
    _e("exchange", "2026-11-01T15:59:59Z"), _e("exchange", "2026-11-01T16:00:00Z"),
    _e("exchange", "2026-10-01T00:00:00Z"),
]


def test_deliveries_per_day_in_china_standard_time():
    """The dashboard counts each day's deliveries in these bounds: 15:59:59 UTC is still the
    day, 16:00 UTC the next (midnight in Beijing)."""
    start, end = day_bounds(dt.date(2026, 11, 1))
    times = [dt.datetime.fromisoformat(e["time"]) for e in LOG if e["type"] == "exchange"]
    assert [start <= t < end for t in times] == [True, False, False]


def test_requests_by_status_follows_each_request_to_its_decision():
    assert requests_by_status(LOG) == {"pending": 0, "granted": 2, "denied": 1, "refused": 1,
                                       "withdrawn": 0, "appealed": 0}
    assert requests_by_status(LOG[:2])["pending"] == 2
    first = LOG[0]["request_id"]
    withdrawn = requests_by_status([*LOG[:2], {"type": "request_withdraw", "request_id": first}])
    assert (withdrawn["pending"], withdrawn["withdrawn"]) == (1, 1)
    # a decision on a request made before the window is not one of the window's requests
    assert requests_by_status(LOG[4:]) == {"pending": 0, "granted": 0, "denied": 0,
                                           "refused": 0, "withdrawn": 0, "appealed": 0}
    # an appeal, then the authority's decision: upheld keeps the refusal, returned reopens it
    appealed = [*LOG, {"type": "appeal", "request_id": "r2"},
                {"type": "appeal", "request_id": "r4"}]
    assert requests_by_status(appealed)["appealed"] == 2
    decided = [*appealed, {"type": "appeal_decision", "request_id": "r2", "outcome": "upheld"},
               {"type": "appeal_decision", "request_id": "r4", "outcome": "returned"}]
    counts = requests_by_status(decided)
    assert (counts["denied"], counts["refused"], counts["pending"], counts["appealed"]) == \
        (1, 0, 1, 0)


def test_median_time_to_decision_leaves_out_automatic_decisions():
    assert decision_hours(LOG) == {"hotline": 4.0}  # r1: 4 h, r2: 4 h; r3 was automatic


def test_bar_chart_scales_to_the_largest_value():
    chart = bar_chart([("a", 10, "10"), ("b", 5, "5"), ("c", 0, "0")], width=500,
                      label_width=100)
    widths = [b.width for b in chart.bars]
    assert widths[0] == 500 - 100 - 90 and widths[1] == widths[0] / 2 and widths[2] == 0
    assert chart.horizontal and chart.height >= 3 * 24


def test_column_chart_stands_on_the_axis():
    chart = column_chart([("d1", 0, "0"), ("d2", 4, "4")], height=220)
    assert all(abs(b.y + b.height - chart.axis_y) < 1e-9 for b in chart.bars)
    assert chart.bars[0].height == 0 and chart.bars[1].height > 0


def test_preview_is_for_the_providing_steward_only(app, datasets):
    svc = app.extensions["govex"]
    requester = Principal("police-requester", "", "police", "requester")
    from exchange.usecases import access
    made = access.create_request(svc, requester, dataset_id=datasets["hotline_tickets"]["id"],
                                 purpose="核查", columns=["来电人", "联系电话"])
    steward = Principal("hotline-steward", "", "hotline", "steward")
    shown = preview(svc, steward, made["id"], masking={"联系电话": "drop"}, rows=3)
    assert shown["masking"] == {"来电人": "mask", "联系电话": "drop"}
    assert shown["columns"] == ["来电人"] and len(shown["rows"]) == 3
    assert all(row[0].endswith("*") for row in shown["rows"])
    for outsider in (requester, Principal("civil-steward", "", "civil", "steward")):
        with pytest.raises(Forbidden):
            preview(svc, outsider, made["id"])


def test_planned_masking_never_keeps_personal_columns_at_l3_by_default(app, datasets):
    svc = app.extensions["govex"]
    who = Principal("civil-requester", "", "civil", "requester")
    plan = planned_masking(svc, who, datasets["hotline_tickets"]["id"])
    assert plan["联系电话"] == "mask" and plan["诉求内容"] == "scrub" and plan["受理时间"] == "keep"


@pytest.mark.parametrize("entity, operator, after", [
    ("CN_MOBILE", "mask", "138****5678"),
    ("PERSON", "mask", "张*"),          # a name is masked to its surname, not like a phone
    ("CN_RESIDENT_ID", "generalize", "1949"),
    ("LOCATION", "generalize", "成都市锦江区"),
    ("BIRTH_DATE", "generalize", "1985"),
])
def test_the_examples_on_the_pages_come_from_the_real_operators(entity, operator, after):
    from exchange.usecases.masking_plan import EXAMPLE_VALUES, example
    assert example(entity, operator) == (EXAMPLE_VALUES[entity], after)


@pytest.mark.parametrize("entity, operator", [("PERSON", "generalize"), (None, "mask"),
                                              ("CN_MOBILE", "drop"), ("CN_MOBILE", "teleport")])
def test_no_example_where_there_is_nothing_to_show(entity, operator):
    from exchange.usecases.masking_plan import example
    assert example(entity, operator) is None
