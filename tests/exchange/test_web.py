"""The web pages through Flask's test client: sign-in, sessions, CSRF, who sees what, the
request → review → approve → download flow, languages. (The real browser: tests/e2e.)"""

from __future__ import annotations

import csv
import io
import re

import pytest

from audit import EvidenceBundle
from exchange.app import create_app
from exchange.receipts import verify_receipt

from .conftest import CSRF, Browser, text  # noqa: F401  (the page helpers)

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# -- signing in ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang,role_and_department,other", [
    ("zh", "数据管理员 · 市民政局", "Data steward"),
    ("en", "Data steward · Civil Affairs Bureau", "数据管理员")])
def test_the_header_names_the_person_and_their_role_in_the_pages_language(
        browse, users, lang, role_and_department, other):
    page = text(browse("civil-steward", lang).get("/steward/inbox"))
    header = page.split('class="header-user"', 1)[1].split("</div>", 1)[0]
    assert role_and_department in header and other not in header
    name = re.search(r"<span>([^<]+)</span>", header).group(1)
    assert 2 <= len(name) <= 4 and "管理员" not in name  # a person's name, the same in both


def test_pages_need_sign_in(browse):
    r = browse(None).get("/catalog?q=x")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in?next=")


def test_sign_in_page_is_accessible_markup(browse):
    page = text(browse(None).get("/sign-in"))
    assert '<html lang="en">' in page and 'href="#main-content"' in page
    for field in ("username", "password"):
        assert f'<label class="label" for="{field}">' in page and f'id="{field}"' in page


@pytest.mark.parametrize("username,password", [
    ("civil-requester", "wrong-password-123"), ("nobody-here", "whatever-123")])
def test_wrong_credentials_are_refused_with_one_message(browse, username, password):
    r = browse(None).sign_in(username, password)
    assert r.status_code == 401
    assert "Enter a correct username and password" in text(r)


@pytest.mark.parametrize("username,password,said", [
    ("civil-requester", "", ["Enter your password."]),
    ("", "", ["Enter your username.", "Enter your password."])])
def test_an_empty_field_is_named(browse, username, password, said):
    r = browse(None).sign_in(username, password)
    assert r.status_code == 401 and "Enter a correct username" not in text(r)
    assert all(s in text(r) for s in said)


def test_session_cookie_flags(app, users, home, settings_for):
    b = Browser(app.test_client())
    r = b.sign_in("civil-requester", users["civil-requester"]["password"])
    cookie = r.headers["Set-Cookie"]
    assert "govex_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure = create_app(settings_for(home, secure_cookies=True))
    r = Browser(secure.test_client()).sign_in("civil-requester",
                                             users["civil-requester"]["password"])
    assert "; Secure" in r.headers["Set-Cookie"]


def test_sign_in_goes_to_next_only_on_this_site(browse, users):
    b = browse(None)
    for target, expected in (("/my/grants", "/my/grants"), ("https://evil.example/", "/catalog"),
                             ("//evil.example/", "/catalog"), ("/\\evil.example", "/catalog")):
        r = b.submit("/sign-in", "/sign-in", {"username": "civil-requester", "next": target,
                                              "password": users["civil-requester"]["password"]})
        assert r.headers["Location"] == expected


def test_sign_out_is_the_last_link_and_asks_first(browse):
    b = browse("civil-requester")
    page = text(b.get("/my/requests"))
    nav = page[page.index('class="service-nav"'):page.index("</nav>", page.index("service-nav"))]
    assert nav.rstrip().endswith('Sign out</a></li>\n    </ul>') or nav.index("Sign out") > \
        nav.index("My grants")
    assert '<a href="/my/requests" aria-current="page">My requests</a>' in nav
    asked = b.get("/sign-out")
    assert asked.status_code == 200 and "Stay signed in" in text(asked)
    assert b.get("/my/requests").status_code == 200  # a GET ends nothing


def test_sign_out_ends_the_session(browse):
    b = browse("civil-requester")
    assert b.get("/my/requests").status_code == 200
    assert b.submit("/sign-out", "/sign-out", {}).status_code == 303
    assert b.get("/my/requests").status_code == 302


# -- CSRF -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/sign-in", "/sign-out", "/steward/grants/gr_x/revoke"])
def test_form_without_csrf_token_is_refused(browse, path):
    b = browse("hotline-steward")
    r = b.client.post(path, data={"username": "x", "password": "y"}, headers=b.headers)
    assert r.status_code == 400 and "form has expired" in text(r)


def test_api_stays_usable_without_csrf(client, users, datasets):
    r = client.post("/api/v1/requests", json={"dataset_id": datasets["hotline_tickets"]["id"],
                                              "purpose": "p", "columns": ["受理时间"]},
                    headers={"Authorization": f"Bearer {users['jinjiang-requester']['token']}"})
    assert r.status_code == 201


# -- who sees what --------------------------------------------------------------------------

@pytest.mark.parametrize("username,path,status", [
    ("civil-requester", "/steward/inbox", 403), ("civil-requester", "/steward/publish", 403),
    ("civil-requester", "/audit/log", 403), ("civil-requester", "/audit/checkpoint", 403),
    ("civil-requester", "/dashboard", 403), ("civil-requester", "/audit/evidence.jsonl", 403),
    ("hotline-steward", "/audit/log", 403), ("hotline-steward", "/my/grants", 403),
    ("audit-auditor", "/steward/inbox", 403), ("audit-auditor", "/my/requests", 403),
    ("civil-requester", "/my/requests", 200), ("hotline-steward", "/steward/inbox", 200),
    ("audit-auditor", "/audit/log", 200), ("audit-auditor", "/dashboard", 200),
])
def test_each_role_opens_only_its_pages(browse, username, path, status):
    r = browse(username).get(path)
    assert r.status_code == status
    if status == 403:
        assert "You do not have access to this page" in text(r)


def test_a_page_refused_too_often_says_when_to_come_back(app, monkeypatch):
    """The refusal throttle on pages, as on the API: 403s, then 429 with Retry-After."""
    from exchange.services import REFUSAL_WINDOW, REFUSALS_PER_WINDOW
    from exchange.usecases.admin import create_user
    svc = app.extensions["govex"]
    create_user(svc, username="page-prober", password="a long password", role="requester",
                department="civil")
    now = svc.clock()
    monkeypatch.setattr(svc, "clock", lambda: now)  # one window
    b = Browser(app.test_client())
    assert b.sign_in("page-prober", "a long password").status_code == 303
    statuses = [b.get("/steward/inbox").status_code for _ in range(REFUSALS_PER_WINDOW)]
    assert statuses == [403] * REFUSALS_PER_WINDOW
    r = b.get("/steward/inbox")
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= REFUSAL_WINDOW
    assert b.get("/my/requests").status_code == 429  # every page, not only the refused one


def test_navigation_shows_only_what_the_role_may_do(browse):
    page = text(browse("civil-requester").get("/catalog"))
    assert "My requests" in page and "Requests to review" not in page and "Audit log" not in page
    page = text(browse("hotline-steward").get("/catalog"))
    assert "Requests to review" in page and "My requests" not in page


def test_refused_page_is_in_the_audit_log(browse):
    browse("market-requester").get("/audit/log")
    page = text(browse("audit-auditor").get("/audit/log?type=authz_denied&actor=market-requester"))
    assert "market-requester" in page


# -- catalog --------------------------------------------------------------------------------

def test_catalog_filters(browse):
    b = browse("civil-requester")
    assert "12345" in text(b.get("/catalog?q=热线"))
    only_none = text(b.get("/catalog?sharing=none"))
    assert "1 dataset found" in only_none
    assert "0 datasets found" in text(b.get("/catalog?department=hotline&level=L1"))


def test_dataset_page_shows_profile_quality_and_masking(browse, datasets):
    page = text(browse("civil-requester").get(f"/catalog/{datasets['hotline_tickets']['id']}"))
    assert "Mobile number" in page and "Free text that contains personal data" in page
    assert "Quality report" in page and "Request this dataset" in page
    assert "Scrub personal details from text" in page


def test_own_department_has_no_request_button(browse, datasets):
    page = text(browse("hotline-requester").get(f"/catalog/{datasets['hotline_tickets']['id']}"))
    assert "Request this dataset" not in page


# -- the flow ---------------------------------------------------------------------------------

def test_request_form_refuses_a_request_without_columns(browse, datasets):
    ds = datasets["hotline_tickets"]["id"]
    r = browse("jinjiang-requester").submit(f"/request/{ds}", f"/request/{ds}",
                                             {"purpose": "核查"})
    assert r.status_code == 422 and "There is a problem" in text(r)


def test_request_review_approve_download(browse, datasets):
    ds = datasets["hotline_tickets"]["id"]
    requester, steward = browse("jinjiang-requester"), browse("hotline-steward")
    r = requester.submit(f"/request/{ds}", f"/request/{ds}", [
        ("purpose", "核查辖区诉求办理情况"), ("columns", "受理时间"), ("columns", "联系电话")])
    assert r.status_code == 303
    request_id = r.headers["Location"].split("made=")[1]
    inbox = text(steward.get("/steward/inbox"))
    assert request_id in inbox

    review = f"/steward/requests/{request_id}"
    page = text(steward.get(review))
    assert "核查辖区诉求办理情况" in page and '<option value="mask" selected>' in page
    preview = steward.submit(review, review, {"op:联系电话": "hash", "action": "preview"})
    cells = re.findall(r"<td>([^<]*)</td>", text(preview))
    assert cells and not any(MOBILE.search(c) or "****" in c for c in cells)

    done = steward.submit(review, review, {"op:受理时间": "keep", "op:联系电话": "hash",
                                           "expires_in_days": "30", "action": "approve"})
    assert done.status_code == 303
    grants = text(requester.get("/my/grants"))
    grant_id = re.findall(r"<code>(gr_\w+)</code>", grants)[0]
    delivered = requester.submit("/my/grants", f"/my/grants/{grant_id}/deliver", {"format": "csv"})
    exchange_page = delivered.headers["Location"]
    data = requester.get(exchange_page + "/data")
    assert data.headers["Content-Length"] == str(len(data.get_data()))
    assert data.headers["Content-Type"] == "text/csv; charset=utf-8"
    receipt = requester.get(exchange_page + "/receipt").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(data.get_data(as_text=True))))
    assert rows and not any(MOBILE.search(r["联系电话"]) for r in rows)
    jwks = requester.client.get("/.well-known/jwks.json").get_json()
    manifest = verify_receipt(receipt, jwks=jwks, data=data.get_data())
    assert {c["name"]: c["operator"] for c in manifest["columns"]} == {"受理时间": "keep",
                                                                       "联系电话": "hash"}
    # the preview's pseudonyms are the delivered ones (same receiver's key)
    assert set(cells) & {r["联系电话"] for r in rows}


def test_approve_refuses_a_bad_expiry_and_keeps_the_choice(browse, datasets, users):
    request_id = _ask(browse, datasets)
    review = f"/steward/requests/{request_id}"
    r = browse("hotline-steward").submit(review, review, {
        "op:联系电话": "redact", "expires_in_days": "9999", "action": "approve"})
    assert r.status_code == 422 and "There is a problem" in text(r)
    assert '<option value="redact" selected>' in text(r)


def test_the_review_offers_generalize_only_where_it_has_a_coarser_form(browse, datasets):
    ds = datasets["residents"]["id"]
    r = browse("jinjiang-requester").submit(f"/request/{ds}", f"/request/{ds}", [
        ("purpose", "核查户籍信息"), *[("columns", c) for c in ("姓名", "身份证号", "住址")]])
    review = f"/steward/requests/{r.headers['Location'].split('made=')[1]}"
    page = text(browse("civil-steward").get(review))
    selects = dict(re.findall(r'name="op:([^"]+)"[^>]*>(.*?)</select>', page, re.S))
    offered = {col: re.findall(r'<option value="(\w+)"', html) for col, html in selects.items()}
    assert "generalize" not in offered["姓名"] and "mask" in offered["姓名"]
    assert "generalize" in offered["身份证号"] and "generalize" in offered["住址"]


def test_deny_needs_a_reason_then_refuses(browse, datasets):
    request_id = _ask(browse, datasets)
    steward = browse("hotline-steward")
    review = f"/steward/requests/{request_id}"
    r = steward.submit(review, f"{review}/deny", {"reason": "  "})
    assert r.status_code == 422  # the review page again, the problem beside the reason
    page = text(r)
    assert "<title>Error: " in page and '<a href="#reason">Give the reason for the refusal.' in page
    assert 'id="reason" name="reason" rows="3" aria-invalid="true"' in page
    assert 'id="reason-error"' in page
    long = steward.submit(review, f"{review}/deny", {"reason": "无关" * 1001})
    assert long.status_code == 422 and "2,000 characters or fewer" in text(long)
    assert "无关" * 1001 + "</textarea>" in text(long)  # given back whole, not cut short
    denied = steward.submit(review, f"{review}/deny", {"reason": "用途与职责无关"})
    assert denied.status_code == 303
    page = text(browse("jinjiang-requester").get("/my/requests"))
    assert "用途与职责无关" in page


def test_revoke_from_the_grants_page(browse, datasets, users, client):
    grant = client.get("/api/v1/grants", headers={
        "Authorization": f"Bearer {users['civil-steward']['token']}"}).get_json()["grants"]
    ds = datasets["residents"]["id"]
    requester = browse("jinjiang-requester")
    r = requester.submit(f"/request/{ds}", f"/request/{ds}",
                         [("purpose", "复核"), ("columns", "姓名")])
    request_id = r.headers["Location"].split("made=")[1]
    steward = browse("civil-steward")
    review = f"/steward/requests/{request_id}"
    steward.submit(review, review, {"op:姓名": "mask", "action": "approve"})
    new = [g for g in client.get("/api/v1/grants", headers={
        "Authorization": f"Bearer {users['civil-steward']['token']}"}).get_json()["grants"]
        if g not in grant and g["request_id"] == request_id][0]
    page = f"/steward/grants/{new['id']}/revoke"
    assert steward.submit(page, page, {"reason": "结束"}).status_code == 303
    assert "Revoked" in text(steward.get("/steward/grants"))
    r = requester.submit("/my/grants", f"/my/grants/{new['id']}/deliver", {"format": "csv"})
    assert r.status_code == 403


def _ask(browse, datasets) -> str:
    ds = datasets["hotline_tickets"]["id"]
    r = browse("jinjiang-requester").submit(f"/request/{ds}", f"/request/{ds}", [
        ("purpose", "核查"), ("columns", "联系电话")])
    return r.headers["Location"].split("made=")[1]


# -- auditor --------------------------------------------------------------------------------

def test_auditor_sees_the_log_verified_and_exports_evidence(browse):
    b = browse("audit-auditor")
    page = text(b.get("/audit/checkpoint"))
    assert "The log verified" in page and "— govex.local/audit " in page
    download = b.get("/audit/evidence.jsonl")
    assert download.headers["Content-Disposition"].endswith('.jsonl"')
    bundle = EvidenceBundle.from_bytes(download.get_data())
    assert len(bundle) > 0 and bundle.verify().size == len(bundle)
    assert all(event["type"] for event in bundle.events())
    entry = text(b.get("/audit/log/0"))
    assert "inclusion proof" in entry and "verifies" in entry


def test_auditor_saves_the_checkpoint_and_checks_it_later_by_upload(browse):
    b = browse("audit-auditor", "zh")
    saved = b.get("/audit/checkpoint.txt")
    assert re.search(r'filename="govex-checkpoint-\d+-\d{8}\.txt"',
                     saved.headers["Content-Disposition"])
    page = "/audit/checkpoint/check"
    missing = b.submit(page, page, {})
    assert missing.status_code == 422
    assert "<title>错误：" in text(missing) and 'href="#checkpoint"' in text(missing)
    checked = b.submit(page, page, {"checkpoint": (io.BytesIO(saved.get_data()), "cp.txt")},
                       content_type="multipart/form-data")
    assert checked.status_code == 200 and "日志只有新增、没有改动" in text(checked)
    garbage = b.submit(page, page, {"checkpoint": (io.BytesIO(b"not signed"), "cp.txt")},
                       content_type="multipart/form-data")
    assert "该文件不是签名检查点" in text(garbage) and "日志只有新增" not in text(garbage)
    assert browse("civil-steward").get(page).status_code == 403


def test_audit_log_filters_by_type_and_date(browse):
    b = browse("audit-auditor")
    page = text(b.get("/audit/log?type=publish"))
    assert "Publish" in page and "Delivery</td>" not in page
    assert "No entry matches" in text(b.get("/audit/log?from=2001-01-01&to=2001-01-02"))
    bad = b.get("/audit/log?from=yesterday")
    assert bad.status_code == 400 and "from must be a date" in text(bad)
    assert b.get("/audit/log/999999").status_code == 404


def test_tampered_evidence_is_reported(app, users):
    from exchange.auth import Principal
    from exchange.usecases.auditing import evidence_bundle, verify_bundle
    svc = app.extensions["govex"]
    bundle = evidence_bundle(svc, Principal("audit-auditor", "", "audit", "auditor"))
    assert verify_bundle(bundle).problem is None
    logged = bundle.logged[0]
    bundle.logged[0] = logged.replace(b'"actor":"admin"', b'"actor":"someone-else"')
    assert bundle.logged[0] != logged
    assert "root mismatch" in verify_bundle(bundle).problem


# -- languages -----------------------------------------------------------------------------

def test_language_follows_the_browser_and_the_switch(browse):
    zh = browse(None, lang="zh-CN,zh;q=0.9")
    page = text(zh.get("/sign-in"))
    assert '<html lang="zh-CN">' in page and "登录" in page
    en = browse(None, lang="en-GB,en;q=0.9")
    assert "Sign in" in text(en.get("/sign-in"))
    en.get("/language/zh?next=/sign-in")
    assert "用户名" in text(en.get("/sign-in"))


def test_every_page_has_a_chinese_translation(browse):
    b = browse("audit-auditor", lang="zh-CN")
    for path in ("/catalog", "/audit/log", "/audit/checkpoint", "/dashboard"):
        page = text(b.get(path))
        assert '<html lang="zh-CN">' in page
        assert "Skip to main content" not in page and "跳到主要内容" in page


@pytest.mark.parametrize(("method", "path", "accept", "status", "kind"), [
    ("GET", "/no-such-page", "text/html", 404, "page"),
    ("POST", "/my/requests", "text/html", 405, "page"),
    ("GET", "/api/v1/no-such-thing", "text/html", 404, "json"),
    ("GET", "/no-such-page", "application/json", 404, "json"),
    ("DELETE", "/api/v1/datasets", "application/json", 405, "json"),
])
def test_unknown_urls_answer_a_browser_with_a_page_and_a_client_with_json(
        browse, method, path, accept, status, kind):
    b = browse("civil-requester", lang="zh-CN")
    r = b.client.open(path, method=method, headers={**b.headers, "Accept": accept})
    assert r.status_code == status
    if kind == "json":
        assert r.get_json()["error"]["code"] in ("not_found", "method_not_allowed")
        return
    page = text(r)
    assert r.mimetype == "text/html" and '<html lang="zh-CN">' in page
    assert ("页面不存在" in page or "无法以这种方式" in page) and "requested URL" not in page
    assert "我的申请" in page  # the signed-in navigation, not an anonymous page


def test_a_refusal_page_in_chinese_says_why_in_chinese(browse):
    page = text(browse("audit-auditor", lang="zh-CN").get("/my/requests"))
    assert "您无权访问此页面" in page and "您无权进行此操作。" in page
    assert "详细信息（英文）：" not in page and '<span lang="en">' not in page


def test_dashboard_draws_svg_charts(browse):
    page = text(browse("audit-auditor").get("/dashboard"))
    assert page.count("<svg") >= 2 and 'role="group"' in page and "<rect" in page
    assert '<a href="/audit/log?type=exchange&amp;from=' in page  # each day to its deliveries


def test_steward_publishes_through_the_form(browse):
    steward = browse("health-steward")
    data = "机构名称,联系电话\n" + "".join(f"锦江区第{i}诊所,1381234{i:04d}\n" for i in range(30))
    fields = [("title", "诊所联系表"), ("sharing", "conditional"), ("level", "L2"),
              ("keywords", "诊所")]
    unconfirmed = steward.submit("/steward/publish", "/steward/publish", [
        ("file", (io.BytesIO(data.encode()), "clinics.csv")), *fields],
        content_type="multipart/form-data")
    assert unconfirmed.status_code == 422  # mobiles at L2: the steward must say so
    assert 'href="#confirm_personal_data"' in text(unconfirmed) and "联系电话" in text(unconfirmed)
    r = steward.submit("/steward/publish", "/steward/publish", [
        ("file", (io.BytesIO(data.encode()), "clinics.csv")), *fields,
        ("confirm_personal_data", "yes")], content_type="multipart/form-data")
    assert r.status_code == 303
    page = text(steward.get(r.headers["Location"]))
    assert "诊所联系表" in page and "Published" in page
    missing = steward.submit("/steward/publish", "/steward/publish", [("title", "x")],
                             content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a file" in text(missing)


def test_the_request_form_shows_every_problem_at_once_the_govuk_way(browse, datasets):
    ds = datasets["residents"]["id"]
    requester = browse("jinjiang-requester", lang="zh-CN")
    blank = text(requester.get(f"/request/{ds}"))
    # no column ticked (ask only for what is needed); the table is the way asked by default
    assert not re.search(r'name="(columns|key_columns)" value="[^"]*" checked', blank)
    assert re.search(r'name="mode" value="file" checked', blank)

    r = requester.submit(f"/request/{ds}", f"/request/{ds}", {"purpose": "  "})
    page = text(r)
    assert r.status_code == 422 and "<title>错误：" in page
    start = page.index('class="error-summary"')
    summary = page[start:page.index("</ul>", start)]
    assert "autofocus" in summary
    assert '<a href="#purpose">请说明申请用途。</a>' in summary
    assert '<a href="#columns">请至少选择一列：只申请所需的列。</a>' in summary
    assert 'id="purpose-error"' in page and 'id="columns-error"' in page
    assert 'aria-invalid="true" aria-describedby="purpose-hint purpose-count purpose-error"' in page
    assert re.search(r'id="columns" name="columns"[^>]*aria-invalid="true"', page)

    long = requester.submit(f"/request/{ds}", f"/request/{ds}",
                            [("purpose", "核" * 3000), ("columns", "姓名")])
    assert long.status_code == 422 and "申请用途不能超过" in text(long)


def test_revoking_asks_for_a_reason_the_requester_then_reads(browse, datasets, users, client):
    ds = datasets["residents"]["id"]
    requester = browse("jinjiang-requester")
    made = requester.submit(f"/request/{ds}", f"/request/{ds}",
                            [("purpose", "核对辖区低保户籍"), ("columns", "姓名")])
    request_id = re.search(r"made=(rq_\w+)", made.headers["Location"]).group(1)
    steward = browse("civil-steward")
    review = f"/steward/requests/{request_id}"
    steward.submit(review, review, {"op:姓名": "mask", "action": "approve"})
    grant = client.get("/api/v1/grants", headers={
        "Authorization": f"Bearer {users['civil-steward']['token']}"}).get_json()["grants"]
    grant_id = next(g["id"] for g in grant if g["request_id"] == request_id)
    page = f"/steward/grants/{grant_id}/revoke"

    confirm = steward.get(page)
    assert confirm.status_code == 200 and 'name="reason"' in text(confirm)
    empty = steward.submit(page, page, {"reason": " "})
    assert empty.status_code == 422 and '<a href="#reason">' in text(empty)
    assert requester.get("/my/grants").status_code == 200
    done = steward.submit(page, page, {"reason": "核对已完成，不再需要"})
    assert done.status_code == 303
    assert "核对已完成，不再需要" in text(requester.get("/my/grants"))


@pytest.mark.parametrize("username, dataset, says", [
    ("civil-requester", "residents", "Your department owns this dataset"),
    ("civil-requester", "case_files", "This dataset is not shared"),
])
def test_a_request_that_cannot_succeed_is_said_before_the_form(browse, datasets, username,
                                                               dataset, says):
    page = text(browse(username).get(f"/request/{datasets[dataset]['id']}"))
    assert says in page and 'name="purpose"' not in page


def test_the_catalog_shows_what_each_column_becomes_by_its_kind(browse, datasets):
    page = text(browse("civil-requester", lang="zh-CN").get(
        f"/catalog/{datasets['hotline_tickets']['id']}"))
    assert "例如 13812345678 → 138****5678" in page   # the phone column
    assert "例如 张伟 → 张*" in page                    # the caller's name, masked as a name
    none = text(browse("civil-requester", lang="zh-CN").get(
        f"/catalog/{datasets['case_files']['id']}"))
    assert "保留原值" not in none  # a not-shareable dataset delivers no column at all


def test_the_publish_form_names_every_missing_field_in_chinese(browse):
    steward = browse("civil-steward", lang="zh-CN")
    r = steward.submit("/steward/publish", "/steward/publish",
                       {"title": "", "sharing": "none", "level": "L2"},
                       content_type="multipart/form-data")
    page = text(r)
    assert r.status_code == 422 and "<title>错误：" in page
    assert '<a href="#file">请选择要发布的文件。</a>' in page
    assert '<a href="#title">请填写数据集名称。</a>' in page
    assert '<a href="#legal_basis">不予共享的数据集须填写法律依据。</a>' in page
    assert 'id="title" name="title" type="text" value="" aria-invalid="true"' in page


@pytest.mark.parametrize("data, said", [
    (b"", "所选文件是空的。"),
    ("姓名,手机号\n".encode(), "文件只有表头，没有数据行。"),
    (b"\x00\x01\x02\xff" * 40,
     "无法将文件读取为表格：文件须为所列格式之一，首行为表头，且每行字段数相同。"),
])
def test_a_file_that_cannot_be_published_is_said_beside_the_file_in_chinese(browse, data,
                                                                           said):
    steward = browse("civil-steward", lang="zh-CN")
    r = steward.submit("/steward/publish", "/steward/publish",
                       [("file", (io.BytesIO(data), "x.csv")), ("title", "测试"),
                        ("sharing", "conditional"), ("level", "L2")],
                       content_type="multipart/form-data")
    page = text(r)
    assert r.status_code == 422 and "<title>错误：" in page
    assert f'<a href="#file">{said}</a>' in page and 'id="file-error"' in page


def test_an_audit_entry_reads_in_one_language_and_one_time_with_its_proof(browse, datasets):
    auditor = browse("audit-auditor", lang="zh-CN")
    log = text(auditor.get("/audit/log?type=publish"))
    index = re.search(r'href="/audit/log/(\d+)"', log).group(1)
    page = text(auditor.get(f"/audit/log/{index}"))
    assert "北京时间" in page and "日志原文" in page   # the local time, and the logged UTC text
    assert "提供部门" in page and "操作人" in page       # labels, not field names alone
    assert re.search(r'href="/audit/log\?actor=[\w-]+"', page)
    assert re.search(r'href="/audit/log\?dataset_id=ds_\w+"', page)
    proof = re.findall(r"<li><code class=\"break\">([0-9a-f]{64})</code></li>", page)
    root = re.search(r'根哈希：\s*<code class="break">([0-9a-f]{64})</code>', page)
    assert proof and root  # the hashes themselves, up to the signed root
