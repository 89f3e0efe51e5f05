"""The pages of the sharing process (issue 17): a request's own page with its timeline
(办件进度), notices with their count in the header, appeal and its decision, tabs, and a stale
page's action answered truthfully."""

from __future__ import annotations

import re

from .conftest import text


def _ask(browse, datasets, who="jinjiang-requester") -> str:
    ds = datasets["hotline_tickets"]["id"]
    r = browse(who).submit(f"/request/{ds}", f"/request/{ds}", [
        ("purpose", "核查工单办理情况"), ("columns", "联系电话")])
    assert r.status_code == 303
    return r.headers["Location"].split("made=")[1]


def _unread(page: str) -> int:
    found = re.search(r'Notices <span class="count">(\d+)<', page)
    return int(found.group(1)) if found else 0


def test_a_request_page_shows_its_progress_to_both_sides_and_no_one_else(browse, datasets):
    request_id = _ask(browse, datasets)
    mine = browse("jinjiang-requester").get(f"/requests/{request_id}")
    assert mine.status_code == 200
    page = text(mine)
    assert "Progress" in page and "Asked" in page and "Reply due" in page
    assert "Withdraw the request" in page
    steward = browse("hotline-steward").get(f"/requests/{request_id}")
    assert steward.status_code == 200 and "Review the request" in text(steward)
    assert "Withdraw the request" not in text(steward)
    assert browse("health-requester").get(f"/requests/{request_id}").status_code == 403
    assert browse("data-authority").get(f"/requests/{request_id}").status_code == 200


def test_the_header_counts_unread_notices_and_opening_one_reads_it(browse, datasets):
    steward = browse("hotline-steward")
    before = _unread(text(steward.get("/catalog")))
    request_id = _ask(browse, datasets)
    page = text(steward.get("/notices"))
    assert _unread(page) == before + 1
    assert "A request waits for your reply" in page
    note = re.search(r'name="id" value="(\d+)">\s*<input type="hidden" name="go" value="'
                     + re.escape(f"/requests/{request_id}") + '"', page)
    assert note, "the notice links to its request"
    opened = steward.submit("/notices", "/notices/read",
                            {"id": note.group(1), "go": f"/requests/{request_id}"})
    assert opened.status_code == 303 and opened.headers["Location"] == f"/requests/{request_id}"
    assert _unread(text(steward.get("/catalog"))) == before
    zh = browse("hotline-steward", lang="zh")
    assert "新的共享申请待答复" in text(zh.get("/notices"))
    # an address outside the site is not followed
    for elsewhere in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/"):
        other = steward.submit("/notices", "/notices/read", {"id": note.group(1),
                                                              "go": elsewhere})
        assert other.headers["Location"] == "/notices", elsewhere


def test_a_refusal_is_appealed_and_returned_through_the_pages(browse, datasets):
    request_id = _ask(browse, datasets)
    steward = browse("hotline-steward")
    review = f"/steward/requests/{request_id}"
    assert steward.submit(review, f"{review}/deny",
                          {"reason": "联系电话属个人信息"}).status_code == 303
    requester = browse("jinjiang-requester")
    page = f"/requests/{request_id}"
    assert "Appeal to the data authority" in text(requester.get(page))
    empty = requester.submit(page, f"{page}/appeal", {"reason": " "})
    assert empty.status_code == 422 and "Give the reason for the appeal" in text(empty)
    sent = requester.submit(page, f"{page}/appeal", {"reason": "回访市民需联系电话"})
    assert sent.status_code == 303
    assert "Appealed" in text(requester.get(page))
    authority = browse("data-authority")
    assert f'href="/requests/{request_id}"' in text(authority.get(
        "/authority/requests?status=appealed"))
    shown = text(authority.get(page))
    assert "Decide the appeal" in shown and "回访市民需联系电话" in shown
    bare = authority.submit(page, f"{page}/appeal/decision", {"outcome": "returned"})
    assert bare.status_code == 422 and "Give the instruction" in text(bare)
    done = authority.submit(page, f"{page}/appeal/decision",
                            {"outcome": "returned", "instruction": "可提供掩码后的联系电话"})
    assert done.status_code == 303
    seen = text(steward.get(page))
    assert "Appeal decided: returned to the provider" in seen
    assert "可提供掩码后的联系电话" in seen and "Review the request" in seen
    assert "Refused by the steward" in seen  # the first refusal stays on the timeline
    tabs = text(requester.get("/my/requests?tab=open"))
    assert request_id in tabs


def test_a_stale_page_says_what_happened_instead(browse, datasets):
    request_id = _ask(browse, datasets)
    steward = browse("hotline-steward")
    review = f"/steward/requests/{request_id}"
    stale = steward.token(review)  # the page as it was, in another tab
    assert steward.submit(review, review, {"action": "approve"}).status_code in (302, 303)
    late = steward.client.post(f"{review}/deny", data={"csrf_token": stale,
                                                        "reason": "迟到的拒绝"},
                               headers=steward.headers)
    assert late.status_code == 409
    assert "already approved by hotline-steward: what you just did was not recorded" in \
        text(late)


def test_the_request_tabs_split_open_from_concluded(browse, datasets):
    request_id = _ask(browse, datasets)
    requester = browse("jinjiang-requester")
    assert request_id in text(requester.get("/my/requests?tab=open"))
    assert request_id not in text(requester.get("/my/requests?tab=closed"))
    page = f"/requests/{request_id}"
    stale = requester.token(page)  # the page open in another tab
    assert requester.submit(page, f"{page}/withdraw", {"reason": ""}).status_code == 303
    assert request_id in text(requester.get("/my/requests?tab=closed"))
    assert request_id not in text(requester.get("/my/requests?tab=open"))
    assert "Withdraw the request" not in text(requester.get(page))
    again = requester.client.post(f"{page}/withdraw", data={"csrf_token": stale, "reason": ""},
                                  headers=requester.headers)
    assert again.status_code == 409 and "withdrew this request" in text(again)


def _delivered(browse, datasets) -> str:
    """A delivery to 锦江区 of the hotline's tickets (approved on the review page); its page."""
    return _delivered_for(browse, datasets)[0]


def _delivered_for(browse, datasets) -> tuple[str, str]:
    """:func:`_delivered`, with the request it was delivered for."""
    request_id = _ask(browse, datasets)
    steward = browse("hotline-steward")
    review = f"/steward/requests/{request_id}"
    assert steward.submit(review, review, {"action": "approve"}).status_code in (302, 303)
    requester = browse("jinjiang-requester")
    found = re.search(r"<code>(gr_\w+)</code>", text(requester.get(f"/requests/{request_id}")))
    done = requester.submit("/my/grants", f"/my/grants/{found.group(1)}/deliver",
                            {"format": "csv"})
    assert done.status_code == 303
    return done.headers["Location"], request_id


def test_a_delivery_is_rated_and_its_errors_reported_and_answered_on_pages(browse, datasets):
    page = _delivered(browse, datasets)
    requester = browse("jinjiang-requester")
    shown = text(requester.get(page))
    assert "Rate this delivery" in shown and "Report errors in the data" in shown
    bad = requester.submit(page, page + "/feedback", {"comment": "好"})
    assert bad.status_code == 422 and "whole number from 1 to 5" in text(bad)
    assert requester.submit(page, page + "/feedback", {"rating": "5"}).status_code == 303
    assert "Your department rated it 5 of 5" in text(requester.get(page))
    wrong = requester.submit(page, page + "/objections", [("columns", "联系电话"),
                                                          ("rows", "1, x"),
                                                          ("description", "号码有误")])
    assert wrong.status_code == 422 and "row numbers" in text(wrong)
    assert "号码有误</textarea>" in text(wrong)  # given back
    filed = requester.submit(page, page + "/objections", [("columns", "联系电话"),
                                                          ("rows", "1, 2-3"),
                                                          ("description", "号码缺位")])
    assert filed.status_code == 303
    objection = filed.headers["Location"]
    assert "1, 2, 3" in text(requester.get(objection))
    steward = browse("hotline-steward")
    listed = text(steward.get("/objections?state=open"))
    assert objection.rsplit("/", 1)[1] in listed
    empty = steward.submit(objection, objection + "/answer", {"outcome": "explained"})
    assert empty.status_code == 422 and "Explain why the data is right" in text(empty)
    answered = steward.submit(objection, objection + "/answer",
                              {"outcome": "explained", "explanation": "系统导出时截断，原数据无误"})
    assert answered.status_code == 303
    assert "Explained" in text(requester.get(objection))
    assert browse("health-requester").get(objection).status_code == 403


def test_the_authority_reads_the_figures_and_downloads_them(browse, datasets):
    _delivered(browse, datasets)
    authority = browse("data-authority")
    page = authority.get("/metrics")
    assert page.status_code == 200 and "How departments serve" in text(page)
    assert "Replies by the due time" in text(page)
    bad = authority.get("/metrics?period=week")
    assert bad.status_code == 422 and "month, quarter or year" in text(bad)
    download = authority.get("/metrics.csv?period=year")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.get_data(as_text=True).startswith("\ufeffdepartment,period,")
    assert "hotline," in download.get_data(as_text=True)
    assert browse("jinjiang-requester").get("/metrics").status_code == 403
    assert browse("audit-auditor").get("/metrics").status_code == 200


def test_a_revoked_grant_shows_on_its_request_and_its_receipts_stay(browse, datasets):
    page, request_id = _delivered_for(browse, datasets)  # not "the newest": same second
    requester = browse("jinjiang-requester")
    grant_id = re.search(r"<code>(gr_\w+)</code>", text(requester.get(
        f"/requests/{request_id}"))).group(1)
    steward = browse("hotline-steward")
    revoke = f"/steward/grants/{grant_id}/revoke"
    assert steward.submit(revoke, revoke, {"reason": "用途已结束"}).status_code == 303
    shown = text(requester.get(f"/requests/{request_id}"))
    assert "tag-revoked" in shown and "Grant revoked" in shown and "用途已结束" in shown
    assert requester.get(page + "/receipt").status_code == 200  # evidence
    assert requester.get(page).status_code == 200
    assert requester.get(page + "/data").status_code == 403
