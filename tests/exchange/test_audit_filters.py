"""The auditor's log filtered by names and parts of names (departments, users, datasets), on
the API and the page, and the filtered view exported as CSV (Excel) and XLSX."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import urlencode

import openpyxl
import pytest

from exchange.usecases import auditing

from .test_web import Browser, text

STEWARDS = {"civil-steward", "health-steward", "hotline-steward", "jinjiang-steward",
            "market-steward", "police-steward"}
MUNICIPAL = {"audit", "civil", "data", "health", "market", "police"}  # 市… in their Chinese names


@pytest.fixture
def browse(app, users):
    """``browse(username, lang)``: a browser signed in through the sign-in form."""
    def open_as(username: str, lang: str = "en") -> Browser:
        b = Browser(app.test_client(), lang)
        assert b.sign_in(username, users[username]["password"]).status_code == 303
        return b
    return open_as


@pytest.fixture(scope="module")
def auto_granted(app, users, datasets) -> None:
    """An entry whose actor is no user: the exchange granting unconditional data itself."""
    c = app.test_client()
    r = c.post("/api/v1/requests", headers={
        "Authorization": f"Bearer {users['health-requester']['token']}"}, json={
        "dataset_id": datasets["market_entities"]["id"], "purpose": "核查",
        "columns": ["企业名称"]})
    assert r.status_code == 201 and r.get_json()["status"] == "granted"


def _all(auditor) -> list[tuple[int, dict]]:
    """Every entry, read without filters."""
    found, offset = [], 0
    while True:
        page = auditor.get(f"/api/v1/audit/entries?limit=1000&offset={offset}").get_json()
        found += [(e["index"], e["entry"]) for e in page["entries"]]
        if len(page["entries"]) < 1000:
            return found
        offset += 1000


def _holds(entry: dict, name: str, values: set[str]) -> bool:
    if name == "department":
        return bool(values & {entry.get("provider"), entry.get("receiver"),
                              entry.get("actor_department")})
    return entry.get(name) in values


# (filter, text, what it stands for (None: every dataset), exact)
CIVIL_AFFAIRS = {"civil", "jinjiang-civil", "wuhou-civil"}
CASES = [
    ("department", "civil", {"civil"}, True),
    ("department", "市民政局", {"civil"}, False),
    ("department", "民政", CIVIL_AFFAIRS, False),  # the districts' bureaus too
    ("department", "Civil", CIVIL_AFFAIRS, False),
    ("department", "civil affairs BUREAU", CIVIL_AFFAIRS, False),
    ("department", "市", MUNICIPAL, False),
    ("department", "12345", {"hotline"}, False),
    ("department", "xyz", set(), False),
    ("department", "%", set(), False),  # a LIKE wildcard is a character like any other
    ("department", "_", set(), False),
    ("actor", "civil-steward", {"civil-steward"}, True),
    ("actor", "civil", {f"{d}-{r}" for d in CIVIL_AFFAIRS for r in ("requester", "steward")},
     False),
    ("actor", "system", {"system:auto"}, False),
    ("actor", "system:auto", {"system:auto"}, True),
    ("actor", "AUTO", {"system:auto"}, False),
    ("actor", "admin", {"admin"}, True),
    ("actor", "Civil-Steward", {f"{d}-steward" for d in CIVIL_AFFAIRS}, False),  # parts ignore case
    ("actor", "nobody", set(), False),
    ("dataset_id", "<residents>", {"<residents>"}, True),
    ("dataset_id", "市场主体", {"<market_entities>"}, False),
    ("dataset_id", "ds_", None, False),
    ("dataset_id", "no such title", set(), False),
]


def _resolve(datasets, value):
    return re.sub(r"<(\w+)>", lambda m: datasets[m.group(1)]["id"], value)


@pytest.mark.parametrize(("name", "typed", "expected", "exact"), CASES,
                         ids=[f"{n}={t}" for n, t, _, _ in CASES])
def test_a_filter_finds_codes_names_and_parts_of_names(as_role, datasets, auto_granted, name,
                                                       typed, expected, exact):
    auditor = as_role("audit-auditor")
    typed = _resolve(datasets, typed)
    page = auditor.get("/api/v1/audit/entries?" + urlencode(
        {name: typed, "limit": 1000})).get_json()
    matched = page["matched"][name]
    if expected is None:  # every dataset: the demo's, and any other test published
        expected = set(matched["values"])
        assert {d["id"] for d in datasets.values()} <= expected
    else:
        expected = {_resolve(datasets, v) for v in expected}
    assert set(matched["values"]) == expected
    assert matched["exact"] is exact and matched["text"] == typed and not matched["more"]
    wanted = [i for i, e in _all(auditor) if _holds(e, name, expected)]
    assert page["total"] == len(wanted)
    assert sorted(e["index"] for e in page["entries"]) == wanted
    if expected and name != "dataset_id":
        assert wanted, "the demo log holds entries of every department and user named here"


def test_filters_combine_and_an_unmatched_one_empties_the_page(as_role):
    auditor = as_role("audit-auditor")
    both = auditor.get("/api/v1/audit/entries?department=民政&type=publish").get_json()
    assert both["total"] >= 1 and all(
        e["entry"]["type"] == "publish" and e["entry"]["provider"] == "civil"
        for e in both["entries"])
    none = auditor.get("/api/v1/audit/entries?department=民政&actor=nobody").get_json()
    assert none["total"] == 0 and none["entries"] == [] and none["size"] > 0
    assert none["matched"]["actor"]["values"] == []
    assert none["matched"]["department"]["values"] == sorted(CIVIL_AFFAIRS)
    plain = auditor.get("/api/v1/audit/entries?type=publish").get_json()
    assert plain["matched"] == {}


def test_a_text_that_matches_too_much_is_bounded(app, as_role, monkeypatch):
    monkeypatch.setattr(auditing, "MAX_MATCHES", 2)
    page = as_role("audit-auditor").get(
        "/api/v1/audit/entries?actor=-&limit=1000").get_json()  # every demo user has a "-"
    matched = page["matched"]["actor"]
    assert matched["more"] is True and len(matched["values"]) == 2
    assert {e["entry"]["actor"] for e in page["entries"]} <= set(matched["values"])


@pytest.mark.parametrize(("query", "says", "total"), [
    ("department=市民政局", "Departments matching “市民政局”:", None),
    ("department=xyz", "No department matches “xyz”.", 0),
    ("actor=nobody", "No user matches “nobody”.", 0),
    ("dataset_id=nothing-like-it", "No dataset matches “nothing-like-it”.", 0),
    ("actor=civil", "Users matching “civil”:", None),
    ("department=civil", None, None),  # exact: nothing to explain
])
def test_the_page_says_what_a_filter_found(browse, as_role, query, says, total):
    page = text(browse("audit-auditor").get(f"/audit/log?{query}"))
    api = as_role("audit-auditor").get(f"/api/v1/audit/entries?{query}").get_json()
    assert re.search(r'id="audit-total">(\d+) entries match', page).group(1) == \
        str(api["total"])
    if total is not None:
        assert api["total"] == total and "No entry matches these filters." in page
        assert 'id="audit-export"' not in page
    else:
        assert api["total"] > 0 and 'id="audit-export"' in page
    if says:
        assert says in page.replace("&#34;", '"')
    else:
        assert 'id="audit-matched"' not in page
    assert "A code or a name, or part of one" in page and "Code, e.g. civil" not in page


def test_the_page_says_it_in_chinese(browse):
    page = text(browse("audit-auditor", lang="zh-CN").get("/audit/log?department=xyz"))
    assert "没有与“xyz”相符的部门。" in page
    page = text(browse("audit-auditor", lang="zh-CN").get("/audit/log?department=民政"))
    assert "与“民政”相符的部门：" in page and "市民政局 (<code>civil</code>)" in page


# -- export ---------------------------------------------------------------------------------

def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode()), "Excel needs the byte-order mark"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _xlsx_rows(data: bytes) -> list[list[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _expected(as_role, query: str, order: str = "desc") -> list[dict]:
    page = as_role("audit-auditor").get(
        f"/api/v1/audit/entries?{query}&limit=1000&form=logged&order={order}").get_json()
    assert page["total"] == len(page["entries"])
    return page["entries"]


@pytest.mark.parametrize("query", [
    "department=民政", "actor=civil&type=publish", "type=user_add", "department=xyz", "",
])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_holds_exactly_the_entries_the_filters_select(
        browse, as_role, auto_granted, query, fmt):
    wanted = _expected(as_role, query)
    r = browse("audit-auditor").get(f"/audit/log.{fmt}?{query}")
    assert r.status_code == 200
    assert re.fullmatch(r'attachment; filename="govex-audit-\d{8}\.' + fmt +
                        r"\"; filename\*=UTF-8''govex-audit-\d{8}\." + fmt,
                        r.headers["Content-Disposition"])
    rows = (_csv_rows if fmt == "csv" else _xlsx_rows)(r.data)
    header, body = rows[0], rows[1:]
    assert header[0] == "Index" and header[-1] == "Entry as logged (RFC 8785 JSON)"
    assert len(header) == 12
    assert [int(row[0]) for row in body] == [e["index"] for e in wanted]  # newest first
    assert [row[-1] for row in body] == [e["logged"] for e in wanted]  # nothing lost
    assert r.headers["X-Govex-Entries"] == str(len(wanted))
    for row in body:
        entry = json.loads(row[-1])
        assert row[3] == entry.get("actor", "")
        assert row[7] == entry.get("dataset_id", "")
        assert row[9] == str(entry.get("row_count", ""))
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00", row[1])


def test_an_export_names_things_for_people(browse, as_role):
    wanted = _expected(as_role, "department=civil&type=publish")
    r = browse("audit-auditor", lang="zh-CN").get(
        "/audit/log.csv?department=civil&type=publish&order=asc")
    header, *body = _csv_rows(r.data)
    assert header[:4] == ["序号", "时间（北京时间，UTC+8）", "事件", "用户"]
    assert [int(row[0]) for row in body] == sorted(e["index"] for e in wanted)  # log order
    first = json.loads(body[0][-1])
    assert body[0][2] == "发布" and body[0][5] == "市民政局 (civil)"
    assert body[0][10] == first["sha256"] and len(body[0][10]) == 64
    english = browse("audit-auditor").get("/audit/log.xlsx?department=civil&type=publish")
    row = _xlsx_rows(english.data)[1]
    assert row[2] == "Publish" and row[5] == "Civil Affairs Bureau (civil)"


def test_an_export_is_capped_and_the_page_says_so(browse, as_role, monkeypatch):
    monkeypatch.setattr(auditing, "EXPORT_MAX", 5)
    monkeypatch.setattr(auditing, "_EXPORT_BATCH", 2)  # batches that end inside the selection
    wanted = _expected(as_role, "")
    assert len(wanted) > 5
    b = browse("audit-auditor")
    for order, expected in (("desc", wanted[:5]),
                            ("asc", sorted(wanted, key=lambda e: e["index"])[:5])):
        r = b.get(f"/audit/log.csv?order={order}")
        body = _csv_rows(r.data)[1:]
        assert [int(row[0]) for row in body] == [e["index"] for e in expected], order
        assert r.headers["X-Govex-Selected"] == str(len(wanted))
    page = text(b.get("/audit/log"))
    assert "A download holds the newest 5 of the" in page


@pytest.mark.parametrize("user", ["civil-requester", "civil-steward", "audit-auditor"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_only_auditors_export(browse, user, fmt):
    r = browse(user).get(f"/audit/log.{fmt}?department=civil")
    if user == "audit-auditor":  # the same request, allowed: the refusal is the role's
        assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attach")
    else:
        assert r.status_code == 403 and "Content-Disposition" not in r.headers
        assert not r.data.startswith(b"\xef\xbb\xbf") and not r.data.startswith(b"PK")


def test_other_formats_are_not_offered(browse):
    assert browse("audit-auditor").get("/audit/log.jsonl").status_code == 404


@pytest.mark.parametrize(("query", "order"), [("department=市民政局", "desc"),
                                              ("actor=steward&type=publish", "asc"),
                                              ("dataset_id=xyz", "asc")])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_api_exports_the_same_selection(as_role, query, order, fmt):
    wanted = _expected(as_role, query, order)
    r = as_role("audit-auditor").get(f"/api/v1/audit/entries.{fmt}?{query}&order={order}")
    assert r.status_code == 200 and r.headers["X-Govex-Selected"] == str(len(wanted))
    header, *body = (_csv_rows if fmt == "csv" else _xlsx_rows)(r.data)
    assert header[1] == "Time (China Standard Time, UTC+8)"  # the API answers in English
    assert [(int(row[0]), row[-1]) for row in body] == [(e["index"], e["logged"])
                                                        for e in wanted]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_api_export_is_for_auditors_and_documented(client, as_role, fmt):
    assert as_role("civil-steward").get(f"/api/v1/audit/entries.{fmt}").status_code == 403
    assert as_role(None).get(f"/api/v1/audit/entries.{fmt}").status_code == 401
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {p["name"] for p in paths[f"/audit/entries.{fmt}"]["get"]["parameters"]} >= {
        "department", "actor", "dataset_id", "order"}


@pytest.mark.parametrize(("length", "limit", "cut"), [
    (100, None, False), (40_000, None, False), (32_767, 32_767, False), (32_768, 32_767, True),
    (200_000, 32_767, True)])
def test_an_entry_too_long_for_a_cell_is_cut_and_says_so(length, limit, cut):
    from exchange.usecases import audit_export
    empty = '{"columns":"","type":"approve"}'
    logged = empty.replace('""', '"' + "x" * (length - len(empty)) + '"', 1)
    assert len(logged) == length
    row = audit_export._row_maker({}, {}, cell_limit=limit)(7, logged)
    assert (row[-1] != logged) is cut and row[2] == "approve"
    assert len(row[-1]) <= (limit or length)
    if cut:
        assert row[-1].endswith(f"[cut: {length} characters; the whole entry: CSV, or entry #7]")


@pytest.mark.parametrize(("args", "says", "absent"), [
    (["--department", "xyz"], "no department matches 'xyz'", "#"),
    (["--actor", "nobody", "--department", "民政"], "no user matches 'nobody'", "#"),
    (["--department", "民政", "--type", "publish"], "publish", "matches"),
])
def test_the_cli_filters_by_name_and_says_what_found_nothing(as_role, monkeypatch, args, says,
                                                           absent):
    from click.testing import CliRunner

    from exchange.cli import cli
    from exchange.cli._root import Context

    class ThroughTheApi:  # the CLI's client, answered by the test app
        def audit_entries(self, **params):
            query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
            return as_role("audit-auditor").get(f"/api/v1/audit/entries?{query}").get_json()

    monkeypatch.setattr(Context, "client", lambda self: ThroughTheApi())
    done = CliRunner().invoke(cli, ["audit", "log", *args])
    assert done.exit_code == 0, done.output
    assert says in done.output and absent not in done.output


def test_a_user_is_found_by_part_of_their_display_name(app, as_role):
    import sqlalchemy as sa

    from exchange.models import users
    with app.extensions["govex"].reader.connect() as conn:
        name = conn.execute(sa.select(users.c.display_name).where(
            users.c.username == "civil-steward")).scalar()
    page = as_role("audit-auditor").get("/api/v1/audit/entries?" + urlencode(
        {"actor": name[1:]})).get_json()  # the given name without the family name
    assert "civil-steward" in page["matched"]["actor"]["values"]
    assert not page["matched"]["actor"]["exact"]
