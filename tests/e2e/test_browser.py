"""The web pages in a real headless Chromium (Debian's ``chromium``, driven by Playwright),
against the real server (``govex serve``, waitress) on a free port.

A requester asks for the hotline tickets, the hotline steward approves with the phone column
changed to ``hash``, the requester downloads (no raw phone number in the file, the receipt
verifies), and the auditor finds the delivery in the log and sees the log verified. Every page
is saved as a screenshot under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from .browser import SHOTS, Person
from .conftest import GOVEX

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
COLUMNS = ("受理时间", "来电人", "联系电话", "诉求内容")


def test_sign_in_page_is_keyboard_usable(chromium, server):
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(server["url"] + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.screenshot(path=str(SHOTS / "sign-in.png"), full_page=True)
    context.close()


def test_request_approve_with_hash_download_and_audit(person, server):
    requester = person("civil-requester")
    request_id = _ask_for_hotline_tickets(requester)
    steward = person("hotline-steward")
    _approve_with_hash(steward, request_id)
    exchange_id, data, receipt = _download(requester)
    assert data.startswith(b"\xef\xbb\xbf")  # CSV for Excel: the byte-order mark, signed too
    text = data.decode("utf-8-sig")
    assert text.count("\n") > 100 and not MOBILE.search(text)
    from exchange.receipts import verify_receipt
    jwks = requests.get(server["url"] + "/.well-known/jwks.json", timeout=10).json()
    manifest = verify_receipt(receipt, jwks=jwks, data=data)
    assert {c["name"]: c["operator"] for c in manifest["columns"]}["联系电话"] == "hash"
    _, workbook, xlsx_receipt = _download(requester, "xlsx")  # Excel's own format, signed too
    assert verify_receipt(xlsx_receipt, jwks=jwks, data=workbook)["format"] == "xlsx"
    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS and len(rows) == text.count("\n")  # the header and every row
    assert not any(MOBILE.search(str(cell)) for row in rows for cell in row if cell)
    _audit_finds_delivery(person("audit-auditor", locale="en-GB"), exchange_id)


def _ask_for_hotline_tickets(requester: Person) -> str:
    page = requester.page
    assert page.url.endswith("/catalog")
    page.fill("#q", "热线")
    page.click("form.filters button[type=submit]")
    requester.shot("01-requester-catalog")
    page.click("table a[href^='/catalog/ds_']")
    requester.shot("02-requester-dataset")
    page.click("a[href^='/request/']")
    page.fill("#purpose", "核查低保申请人近一年的诉求记录")
    assert page.inner_text("#purpose-count") == "还可输入 1,985 个字符"  # 2,000 less 15
    for box in page.locator("input[name=columns]").all():
        box.set_checked(box.get_attribute("value") in COLUMNS)
    requester.shot("03-requester-request-form")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"made=\w+"))
    requester.shot("04-requester-my-requests")
    return re.search(r"made=(\w+)", page.url).group(1)


def _approve_with_hash(steward: Person, request_id: str) -> None:
    page = steward.page
    assert request_id in page.inner_text("main")
    steward.shot("05-steward-inbox")
    page.click(f"a[href='/steward/requests/{request_id}']")
    assert page.input_value("select[name='op:联系电话']") == "mask"
    page.select_option("select[name='op:联系电话']", "hash")
    page.click("button[value=preview]")
    page.wait_for_selector("#preview tbody td")
    cells = page.locator("#preview tbody td").all_inner_texts()
    assert len(cells) == 5 * len(COLUMNS)
    assert not any(MOBILE.search(c) for c in cells)
    assert page.input_value("select[name='op:联系电话']") == "hash"
    steward.shot("06-steward-review")
    page.fill("#expires_in_days", "30")
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(r"/steward/inbox$"))
    steward.shot("07-steward-approved")
    steward.goto("/steward/grants")
    steward.shot("08-steward-grants")


def _download(requester: Person, fmt: str = "csv-excel") -> tuple[str, bytes, str]:
    page = requester.page
    requester.goto("/my/grants")
    requester.shot("09-requester-grants")
    form = page.locator("form[action*='/deliver']").first
    form.locator("select[name=format]").select_option(fmt)  # csv-excel: what Excel reads
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/ex_[0-9a-f]+$"))
    requester.shot("10-requester-delivery")
    exchange_id = page.url.rsplit("/", 1)[1]
    with page.expect_download() as file:
        page.click("a[href$='/data']")
    with page.expect_download() as receipt:
        page.click("a[href$='/receipt']")
    extension = "xlsx" if fmt == "xlsx" else "csv"
    assert re.fullmatch(rf"12345热线工单-civil-\d{{8}}\.{extension}", file.value.suggested_filename)
    data = Path(file.value.path()).read_bytes()
    _check_in_the_browser(requester, exchange_id, Path(file.value.path()))
    return exchange_id, data, Path(receipt.value.path()).read_text().strip()


def _check_in_the_browser(requester: Person, exchange_id: str, downloaded: Path) -> None:
    """The delivery page's check: the file as downloaded matches; one byte more does not."""
    page = requester.page
    requester.goto(f"/my/exchanges/{exchange_id}/check")
    page.set_input_files("#file", str(downloaded))
    page.click("form[enctype] button[type=submit]")
    assert page.locator("#check-result h2").inner_text() == "文件与交付内容完全一致"
    changed = downloaded.with_name("changed.csv")
    changed.write_bytes(downloaded.read_bytes() + b"\r\n")
    page.set_input_files("#file", str(changed))
    page.click("form[enctype] button[type=submit]")
    assert page.locator("#check-result h2").inner_text() == "文件与交付内容不一致"


def _audit_finds_delivery(auditor: Person, exchange_id: str) -> None:
    page = auditor.page
    page.select_option("#type", "exchange")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#audit-entries tbody tr")
    assert rows.count() >= 1
    assert "civil" in page.inner_text("#audit-entries").lower() or "Civil" in page.inner_text(
        "#audit-entries")
    auditor.shot("11-auditor-log")
    rows.last.locator("a").click()
    assert exchange_id in page.inner_text("main")
    assert page.locator(".notification-success").count() == 1
    auditor.shot("12-auditor-entry")
    auditor.goto("/audit/checkpoint")
    assert "The log verified" in page.inner_text("#verification")
    auditor.shot("13-auditor-checkpoint")
    with page.expect_download() as bundle:
        page.click("a[href$='/evidence.jsonl']")
    header = Path(bundle.value.path()).read_text().split("\n", 1)[0]
    assert json.loads(header)["format"] == "govex-evidence/2"
    with page.expect_download() as saved:
        page.click("a[href$='/checkpoint.txt']")
    page.click("a[href$='/checkpoint/check']")
    page.set_input_files("#checkpoint", saved.value.path())
    page.click("form[enctype] button[type=submit]")
    assert page.locator("#checkpoint-result h2").inner_text() == (
        "The log only grew since this checkpoint")
    auditor.shot("13b-auditor-checkpoint-check")
    forged = Path(saved.value.path()).read_text().replace("\n", "\n\n", 1)  # one more line
    Path(saved.value.path()).write_text(forged)
    page.set_input_files("#checkpoint", saved.value.path())
    page.click("form[enctype] button[type=submit]")
    assert page.locator("#checkpoint-result h2").inner_text() == "This file cannot be checked"
    auditor.goto("/dashboard")
    assert page.locator("svg[role=group] a rect").count() > 3  # each bar opens the log
    auditor.shot("14-auditor-dashboard")


@pytest.mark.parametrize("path", ["/steward/inbox", "/steward/grants", "/audit/log",
                                  "/audit/checkpoint", "/dashboard"])
def test_requester_cannot_open_steward_or_auditor_pages(person, path):
    requester = person("jinjiang-requester")
    response = requester.goto(path)
    assert response.status == 403
    assert requester.page.locator("h1").inner_text() == "您无权访问此页面"
    if path == "/audit/log":
        requester.shot("15-requester-forbidden")


def test_the_purpose_counts_down_and_says_when_it_is_too_long(person, server):
    requester = person("civil-requester", locale="en-GB")
    requester.goto("/catalog?q=热线")  # the hotline's tickets: another department's
    found = requester.page.locator("table a[href^='/catalog/ds_']").first.get_attribute("href")
    requester.goto("/request/" + found.rsplit("/", 1)[1])
    page = requester.page
    assert page.inner_text("#purpose-count") == "You have 2,000 characters left"
    page.fill("#purpose", "核" * 2003)  # what a paste does: nothing cut off
    assert page.inner_text("#purpose-count") == "You have 3 characters too many"
    assert page.get_attribute("#purpose-count", "class") == "error-message"
    page.locator("input[name=columns]").first.check()
    page.click("main form button[type=submit]")
    assert page.title().startswith("Error:")
    assert len(page.input_value("#purpose")) == 2003  # still all there, to shorten


def test_form_post_without_csrf_token_is_refused(person, server):
    requester = person("civil-requester", locale="en-GB")
    found = requester.page.locator("table a[href^='/catalog/ds_']").first.get_attribute("href")
    dataset_id = found.rsplit("/", 1)[1]
    response = requester.context.request.post(
        server["url"] + f"/request/{dataset_id}",
        form={"purpose": "no token", "columns": "受理时间"}, max_redirects=0,
        headers={"Accept-Language": "en"})
    assert response.status == 400 and "This form has expired" in response.text()
    assert requester.goto("/my/requests").status == 200  # still signed in: only the form failed


# -- every page on a phone, and Chinese that is bold where it should be --------------------

PHONE = {"width": 375, "height": 812}
#: The elements that stick out of the screen with no scrolling box around them.
_SPILLING = """[...document.querySelectorAll('body *')].filter(e => {
    if (e.getBoundingClientRect().right <= innerWidth + 1) return false;
    for (let a = e.parentElement; a; a = a.parentElement)
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return false;
    return true;
}).slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className).join(' ')"""


def _query_grant(server) -> str:
    """A query grant of 民政局 on the market register by credit code (unconditional data:
    granted at once), its index built: the lookup page a service window uses (made once
    per server)."""
    if "query_grant" not in server:
        users = server["users"]

        def post(user: str, path: str, body: dict) -> dict:
            answer = requests.post(server["url"] + path, json=body, timeout=60, headers={
                "Authorization": f"Bearer {users[user]['token']}"})
            assert answer.ok, answer.text
            return answer.json()
        listed = requests.get(server["url"] + "/api/v1/datasets", timeout=30, headers={
            "Authorization": f"Bearer {users['civil-requester']['token']}"}).json()
        market = next(d["id"] for d in listed["datasets"] if d["department"] == "market")
        asked = post("civil-requester", "/api/v1/requests", {
            "dataset_id": market, "purpose": "窗口核验企业登记信息",
            "columns": ["企业名称", "法定代表人"], "mode": "query",
            "key_columns": ["统一社会信用代码"]})
        grant = asked.get("grant_id") or post(  # unconditional data: granted at once
            "market-steward", f"/api/v1/requests/{asked['id']}/approve", {})["grant_id"]
        env = {k: v for k, v in server["env"].items() if k != "GOVEX_TOKEN"}
        built = subprocess.run([GOVEX, "worker", "--once"], env=env, capture_output=True,
                               text=True, timeout=300)
        assert "timer.done" in built.stdout, built.stdout + built.stderr
        server["query_grant"] = grant
    return server["query_grant"]


def _pages_of(person, server) -> dict[str, list[str]]:
    """Every page each role has, with real ids (found through the API)."""
    users = server["users"]

    def api(user: str, path: str) -> dict:
        return requests.get(server["url"] + path, timeout=30, headers={
            "Authorization": f"Bearer {users[user]['token']}"}).json()
    datasets = api("civil-requester", "/api/v1/datasets")["datasets"]
    tickets = next(d["id"] for d in datasets if d["department"] == "hotline")
    grants = api("hotline-steward", "/api/v1/grants")["grants"]
    active = [g["id"] for g in grants if g["status"] == "active"]
    requests_ = api("hotline-steward", "/api/v1/requests")["requests"]
    mine = api("civil-requester", "/api/v1/requests")["requests"]
    exchanges = api("audit-auditor", "/api/v1/audit/entries?type=exchange&limit=1")["entries"]
    pages = {
        "civil-requester": ["/catalog", f"/catalog/{tickets}", f"/request/{tickets}",
                            "/my/requests", "/my/requests?tab=open", "/my/grants", "/notices",
                            "/objections",
                            "/sign-out", "/no-such-page"]
                           + [f"/requests/{r['id']}" for r in mine[:1]],
        "hotline-steward": ["/steward/inbox", "/steward/grants", "/steward/publish",
                            f"/catalog/{tickets}", f"/steward/datasets/{tickets}/versions",
                            f"/steward/datasets/{tickets}/withdraw",
                            f"/steward/datasets/{tickets}/edit"]
                           + [f"/steward/requests/{r['id']}" for r in requests_[:1]]
                           + [f"/requests/{r['id']}" for r in requests_[:1]]
                           + ["/notices", "/objections"]
                           + [f"/steward/grants/{g}/revoke" for g in active[:1]],
        "audit-auditor": ["/audit/log", "/audit/log/0", "/audit/checkpoint",
                          "/audit/checkpoint/check", "/dashboard", "/metrics"],
        "admin": ["/admin/departments", "/admin/users"],
        "data-authority": ["/authority/requests", "/authority/requests?status=all",
                           "/notices", "/metrics", "/objections"],
    }
    pages["civil-requester"] += [f"/my/grants/{_query_grant(server)}/lookup"]
    if exchanges:
        entry = exchanges[0]["entry"]
        receiver = {"civil": "civil-requester"}.get(entry["receiver"])
        if receiver:
            pages[receiver] += [f"/my/exchanges/{entry['exchange_id']}",
                                f"/my/exchanges/{entry['exchange_id']}/check"]
    return pages


@pytest.mark.postgresql_pass
def test_every_page_fits_a_phone_and_chinese_headings_are_bold(chromium, server, person):
    """At 375 px no page scrolls sideways (a table scrolls inside itself) and no table cell is
    one character wide; a Chinese heading is drawn with more ink at its bold weight."""
    requester = person("civil-requester")
    request_id = _ask_for_hotline_tickets(requester)  # something in every list
    _approve_with_hash(person("hotline-steward"), request_id)
    _download(requester)
    wide: list[str] = []
    for username, paths in _pages_of(person, server).items():
        who = person(username)
        who.page.set_viewport_size(PHONE)
        for path in paths:
            who.goto(path)
            width = who.page.evaluate("document.documentElement.scrollWidth")
            narrow_cells = who.page.evaluate(
                "[...document.querySelectorAll('td, th')].filter(c => c.innerText.trim()."
                "length > 3 && c.getBoundingClientRect().width < 40).length")
            if width > PHONE["width"] or narrow_cells:
                wide.append(f"{path}: {width} px ({who.page.evaluate(_SPILLING)}), "
                            f"{narrow_cells} cells one character wide")
        who.shot(f"phone-{username}")
    assert wide == [], "\n".join(wide)
    family = requester.page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    regular, bold = requester.page.evaluate("""family => {
        const canvas = document.createElement('canvas'); canvas.width = 700; canvas.height = 80;
        const ctx = canvas.getContext('2d');
        const ink = weight => {
            ctx.clearRect(0, 0, 700, 80); ctx.fillStyle = '#000';
            ctx.font = `${weight} 40px ${family}`; ctx.fillText('数据共享交换平台', 0, 55);
            const data = ctx.getImageData(0, 0, 700, 80).data;
            let sum = 0; for (let i = 3; i < data.length; i += 4) sum += data[i]; return sum;
        };
        return [ink(400), ink(700)];
    }""", family)
    assert bold > regular * 1.12, f"{family}: bold draws {bold / regular:.2f}x the ink"


@pytest.mark.postgresql_pass
def test_axe_finds_nothing_serious_on_any_page(chromium, server, person):
    """axe-core (the accessibility engine browsers' own tools use, bundled by
    axe-playwright-python) on every page of each role: no serious or critical finding."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found: list[str] = []
    rules_passed = 0
    for username, paths in _pages_of(person, server).items():
        who = person(username)
        for path in paths:
            who.goto(path)
            results = axe.run(who.page).response
            rules_passed += len(results["passes"])
            for violation in results["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    targets = [n["target"] for n in violation["nodes"][:2]]
                    found.append(f"{path}: {violation['id']} ({violation['impact']}) {targets}")
    assert found == [], "\n".join(found)
    assert rules_passed > 100  # axe really ran (each page passes dozens of its rules)
    who.page.set_content('<html lang="zh-CN"><body><img src="x.png"></body></html>')
    broken = axe.run(who.page).response["violations"]
    assert "image-alt" in {v["id"] for v in broken}  # and would have said so
