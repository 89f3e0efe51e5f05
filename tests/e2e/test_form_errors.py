"""The GOV.UK error pattern on every form of the pages, in a real Chromium against the real
server: each case submits a form wrongly and the page that comes back must

* have a title that starts with 错误： (Error: in English),
* open with one error summary (role=alert, tabindex=-1, autofocus) that has the focus and
  lists every problem at once, each a link to its field: following it focuses the input (the
  first box of a group of checkboxes),
* say each problem again beside its field, which is aria-invalid and described by it,
* say it in the page's language (no English on a Chinese page, no internal field name),
* keep what the person typed (never a password).

Screenshots go to ``test-artifacts/browser/form-error-*.png``.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from exchange.client import Client

pytestmark = pytest.mark.postgresql_pass

ZH, EN = "zh-CN", "en-GB"
PREFIX = {ZH: "错误：", EN: "Error:"}
SUBMIT = "main form[method=post] button[type=submit]"
PURPOSE = "核查低保申请人近一年的诉求记录"


@dataclasses.dataclass(frozen=True)
class Case:
    """A form submitted wrongly: by ``user`` (None: nobody signed in) on ``path`` (``{...}``
    names an id of :func:`made`), after ``steps`` (``(action, selector, value)``: fill,
    secret (a password), check, select, file), pressing ``submit``; ``fields`` are the ids
    in error, in the order of the form; ``also_invalid`` fields are marked invalid without a
    message of their own."""

    name: str
    user: str | None
    path: str
    fields: tuple[str, ...]
    steps: tuple[tuple[str, str, str], ...] = ()
    submit: str = SUBMIT
    locale: str = ZH
    also_invalid: tuple[str, ...] = ()


CASES = [
    Case("sign-in-empty", None, "/sign-in", ("username", "password")),
    Case("sign-in-no-password", None, "/sign-in", ("password",),
         steps=(("fill", "#username", "civil-requester"),)),
    Case("sign-in-wrong-password", None, "/sign-in", ("username",),
         steps=(("fill", "#username", "audit-auditor"), ("secret", "#password", "wrong-one")),
         also_invalid=("password",)),
    Case("request-empty", "civil-requester", "/request/{tickets}", ("purpose", "columns")),
    Case("request-purpose-too-long", "civil-requester", "/request/{tickets}", ("purpose",),
         steps=(("fill", "#purpose", "核" * 2001), ("check", "#columns", ""))),
    Case("review-deny-without-reason", "hotline-steward", "/steward/requests/{request}",
         ("reason",), submit="form[action$='/deny'] button[type=submit]"),
    Case("review-deny-reason-too-long", "hotline-steward", "/steward/requests/{request}",
         ("reason",), steps=(("fill", "#reason", "理" * 2001),),
         submit="form[action$='/deny'] button[type=submit]"),
    Case("review-approve-expiry-out-of-range", "hotline-steward",
         "/steward/requests/{request}", ("expires_in_days",),
         steps=(("fill", "#expires_in_days", "400"),), submit="button[value=approve]"),
    Case("review-approve-expiry-not-a-number", "hotline-steward",
         "/steward/requests/{request}", ("expires_in_days",),
         steps=(("fill", "#expires_in_days", "一年"),), submit="button[value=approve]"),
    Case("review-approve-dropping-every-column", "hotline-steward",
         "/steward/requests/{request}", ("masking",),
         steps=(("select", "#masking", "drop"), ("select", "#op-2", "drop")),
         submit="button[value=approve]"),
    Case("revoke-without-reason", "hotline-steward", "/steward/grants/{grant}/revoke",
         ("reason",)),
    Case("revoke-reason-too-long", "hotline-steward", "/steward/grants/{grant}/revoke",
         ("reason",), steps=(("fill", "#reason", "理" * 2001),)),
    Case("publish-nothing", "hotline-steward", "/steward/publish",
         ("file", "title", "legal_basis"),
         steps=(("fill", "#description", "仅供测试"), ("select", "#sharing", "none"),
                ("select", "#level", "L3"), ("fill", "#keywords", "测试,热线"))),
    Case("publish-empty-file", "hotline-steward", "/steward/publish", ("file",),
         steps=(("file", "#file", "empty.csv"), ("fill", "#title", "空文件"),
                ("select", "#sharing", "conditional"), ("select", "#level", "L3"))),
    Case("publish-not-a-table", "hotline-steward", "/steward/publish", ("file",),
         steps=(("file", "#file", "binary.csv"), ("fill", "#title", "二进制文件"),
                ("select", "#sharing", "conditional"), ("select", "#level", "L3"))),
    Case("check-without-file", "civil-requester", "/my/exchanges/{exchange}/check",
         ("file",), submit="form[enctype] button[type=submit]"),
    # and in English
    Case("en-sign-in-empty", None, "/sign-in", ("username", "password"), locale=EN),
    Case("en-request-empty", "civil-requester", "/request/{tickets}", ("purpose", "columns"),
         locale=EN),
    Case("en-review-approve-expiry", "hotline-steward", "/steward/requests/{request}",
         ("expires_in_days",), steps=(("fill", "#expires_in_days", "0"),),
         submit="button[value=approve]", locale=EN),
    Case("en-publish-nothing", "hotline-steward", "/steward/publish",
         ("file", "title", "level", "legal_basis"), steps=(("select", "#sharing", "none"),),
         locale=EN),  # no level chosen: the form never chooses one for the steward
]

#: Files the publish cases choose, by name.
FILES = {"empty.csv": b"", "binary.csv": b"\x00\x01\x02\xff\xfe" * 40}


@pytest.fixture(scope="module")
def made(server):
    """Something to act on: the hotline tickets, a request waiting for the hotline steward,
    an active grant of them to civil affairs and a delivery under it (through the API)."""
    def client(user: str) -> Client:
        return Client(server["url"], token=server["users"][user]["token"], language="en")
    requester, steward = client("civil-requester"), client("hotline-steward")
    tickets = next(d["id"] for d in requester.datasets() if d["department"] == "hotline")
    columns = [c["name"] for c in requester.dataset(tickets)["columns"]][:2]
    pending = requester.request(tickets, purpose=PURPOSE, columns=columns)
    granted = requester.request(tickets, purpose=PURPOSE, columns=columns)
    grant = steward.approve(granted["id"], expires_in_days=30)["grant_id"]
    return {"tickets": tickets, "request": pending["id"], "grant": grant,
            "exchange": requester.deliver(grant)["id"]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_wrong_submission_shows_every_problem_the_govuk_way(case, person, made, tmp_path):
    who = person(case.user, locale=case.locale)
    page = who.page
    assert who.goto(case.path.format(**made)).status == 200
    for action, selector, value in case.steps:
        if action in ("fill", "secret"):
            page.fill(selector, value)
        elif action == "check":
            page.check(selector)
        elif action == "select":
            page.select_option(selector, value)
        else:
            (tmp_path / value).write_bytes(FILES[value])
            page.set_input_files(selector, str(tmp_path / value))
    with page.expect_navigation() as sent:
        page.click(case.submit)
    assert sent.value.status in (400, 401, 422)
    who.shot(f"form-error-{case.name}")
    assert_error_pattern(page, case)
    assert_kept(page, case)


def assert_error_pattern(page, case: Case) -> None:
    assert page.title().startswith(PREFIX[case.locale]), page.title()
    summary = page.locator(".error-summary")
    assert summary.count() == 1
    assert (summary.get_attribute("role"), summary.get_attribute("tabindex")) == ("alert", "-1")
    assert summary.get_attribute("autofocus") is not None
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    links = summary.locator("li a")
    assert summary.locator("li").count() == links.count()  # each problem links to its field
    assert [a.get_attribute("href") for a in links.all()] == [f"#{f}" for f in case.fields]
    invalid = page.eval_on_selector_all("[aria-invalid=true]", "els => els.map(e => e.id)")
    assert sorted(invalid) == sorted(case.fields + case.also_invalid)
    for field, link in zip(case.fields, links.all(), strict=True):
        found = field_facts(page, field)
        assert found["tag"] in ("INPUT", "TEXTAREA", "SELECT"), f"#{field} is {found['tag']}"
        assert found["in_error_group"], f"#{field} is not in a .form-group-error"
        message = page.locator(f"#{field}-error")
        assert message.count() == 1 and "error-message" in message.get_attribute("class")
        assert f"{field}-error" in found["describedby"]
        assert all(page.locator(f"[id='{i}']").count() == 1 for i in found["describedby"])
        beside = message.inner_text().strip()
        assert beside.startswith(PREFIX[case.locale])  # for a screen reader, hidden on screen
        assert beside.removeprefix(PREFIX[case.locale]).strip() == link.inner_text().strip()
        link.click()
        assert page.evaluate("document.activeElement.id") == field
        assert page.evaluate("""id => { const r = document.getElementById(id)
            .getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }""", field)
    for field in case.also_invalid:
        described = field_facts(page, field)["describedby"]
        assert described and all(f"{f}-error" in described for f in case.fields[:1])
    assert_in_the_pages_language(summary.inner_text(), case.locale)


def field_facts(page, field: str) -> dict:
    return page.evaluate("""id => { const e = document.getElementById(id); return e && {
        tag: e.tagName, in_error_group: !!e.closest('.form-group-error'),
        describedby: (e.getAttribute('aria-describedby') || '').split(/\\s+/)
            .filter(Boolean)}; }""", field) or {"tag": None}


#: A word of a programmer: snake_case, a dotted name.
INTERNAL = re.compile(r"\w+_\w+|\b\w+\.\w+\b")


def assert_in_the_pages_language(text: str, locale: str) -> None:
    assert not INTERNAL.search(text), text
    if locale == ZH:
        assert re.search(r"[\u4e00-\u9fff]", text), text
        english = [w for w in re.findall(r"[A-Za-z]{2,}", text) if not w.isupper()]
        assert english == [], text
    else:
        assert not re.search(r"[\u4e00-\u9fff]", text), text


def assert_kept(page, case: Case) -> None:
    for action, selector, value in case.steps:
        if action in ("fill", "select"):
            assert page.input_value(selector) == value, selector
        elif action == "secret":
            assert page.input_value(selector) == ""  # a password is never sent back
        elif action == "check":
            assert page.is_checked(selector), selector


def test_a_failed_sign_in_does_not_say_which_half_was_wrong(person):
    """A known username with a wrong password reads exactly as an unknown username."""
    said = []
    for username in ("audit-auditor", "no-such-user"):
        page = person(None).page
        page.fill("#username", username)
        page.fill("#password", "not-the-password")
        page.click(SUBMIT)
        said.append(page.inner_text(".error-summary"))
    assert said[0] == said[1]


def test_the_checks_would_fail_on_a_form_that_breaks_the_pattern(person):
    """The pattern's checks are not vacuous: a page whose field lost aria-invalid fails."""
    who = person(None)
    who.page.click(SUBMIT)
    who.page.evaluate("document.getElementById('username').removeAttribute('aria-invalid')")
    with pytest.raises(AssertionError):
        assert_error_pattern(who.page, CASES[0])

