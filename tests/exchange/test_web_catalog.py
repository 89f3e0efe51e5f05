"""The catalog's pages for issue 14: a dataset's directory fields, data dictionary (shown and
downloaded), versions, a masked sample of unconditional data and the API example; the
steward's new-version and withdrawal pages; the review page's choice of versions."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from .conftest import Browser, text
from .test_versions import _csv, city  # noqa: F401  (the fixture)

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _signed_in(app, username: str, lang: str = "zh") -> Browser:
    b = Browser(app.test_client(), lang)
    assert b.sign_in(username, "pw-" * 5).status_code == 303
    return b


def test_the_dataset_page_shows_the_dictionary_versions_and_api(browse, datasets):
    ds = datasets["residents"]["id"]
    page = text(browse("hotline-requester", "zh").get(f"/catalog/{ds}"))
    for words in ("信息资源代码", f"civil/{ds[3:]}", "部门信息资源", "更新周期", "不定期",
                  "数据字典", "字符型", "版本", f"/api/v1/datasets/{ds}", f"govex request {ds}"):
        assert words in page, words
    assert "贵部门将收到的前 5 行" not in page  # conditional: no rows before a decision


def test_unconditional_data_shows_five_rows_masked_as_they_would_arrive(browse, datasets):
    ds = datasets["market_entities"]["id"]
    page = text(browse("civil-requester", "zh").get(f"/catalog/{ds}"))
    sample = page.split('id="sample"', 1)[1].split("</table>", 1)[0]
    assert sample.count("<tr>") == 6  # the header and five rows
    assert not MOBILE.search(sample)
    own = text(browse("market-steward", "zh").get(f"/catalog/{ds}"))
    assert 'id="sample"' not in own


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_data_dictionary_downloads_for_excel(browse, datasets, fmt):
    ds = datasets["hotline_tickets"]["id"]
    got = browse("civil-requester").get(f"/catalog/{ds}/dictionary.{fmt}")
    assert got.status_code == 200
    assert "数据字典" in got.headers["Content-Disposition"].encode("latin-1").decode("utf-8") \
        or "%E6%95%B0%E6%8D%AE%E5%AD%97%E5%85%B8" in got.headers["Content-Disposition"]
    if fmt == "csv":
        assert got.data.startswith(b"\xef\xbb\xbf")
        rows = got.data.decode("utf-8-sig").splitlines()
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(got.data), read_only=True).active
        rows = [",".join(str(v or "") for v in r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0].startswith("信息项名称,数据类型,长度,描述,个人信息")
    assert any(r.startswith("联系电话,字符型,") and "CN_MOBILE" in r for r in rows[1:]), rows
    assert browse("civil-requester").get(f"/catalog/{ds}/dictionary.pdf").status_code == 404


def test_a_steward_publishes_a_version_and_withdraws_from_the_pages(city):  # noqa: F811
    call, dataset_id, app = city
    steward = _signed_in(app, "civil-steward")
    other = _signed_in(app, "health-steward")
    page = f"/steward/datasets/{dataset_id}/versions"
    assert other.get(page).status_code == 403
    empty = steward.submit(page, page, {})
    assert empty.status_code == 422 and "请选择新版本的文件" in text(empty)
    done = steward.submit(page, page, {"file": (io.BytesIO(_csv(4)), "v2.csv")},
                          content_type="multipart/form-data")
    assert done.status_code == 303
    shown = text(steward.get(f"/catalog/{dataset_id}"))
    assert "已发布“社区服务站台账”第 2 版" in shown
    versions = shown.split('id="versions"', 1)[1].split("</table>", 1)[0]
    assert versions.count("<tr>") == 3

    withdraw = f"/steward/datasets/{dataset_id}/withdraw"
    assert other.get(withdraw).status_code == 403
    no_reason = steward.submit(withdraw, withdraw, {"reason": ""})
    assert no_reason.status_code == 422 and "<title>错误：" in text(no_reason)
    gone = steward.submit(withdraw, withdraw, {"reason": "并入新系统"})
    assert gone.status_code == 303
    assert call(*_requester_get(f"/datasets/{dataset_id}")).get_json()["withdrawn_at"]


def _requester_get(path: str):
    from .test_versions import REQUESTER
    return REQUESTER, "GET", path


def test_the_review_page_pins_a_grant_to_the_version_requested(city):  # noqa: F811
    call, dataset_id, app = city
    from .test_versions import REQUESTER
    asked = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset_id, "purpose": "统计", "columns": ["街道"]}).get_json()["id"]
    steward = _signed_in(app, "civil-steward")
    review = f"/steward/requests/{asked}"
    assert "只交付申请时的第 1 版" in text(steward.get(review))
    done = steward.submit(review, review, {"action": "approve", "expires_in_days": "30",
                                           "follows": "pinned", "op:街道": "keep"})
    assert done.status_code == 303
    grants = call(REQUESTER, "GET", "/grants").get_json()["grants"]
    assert [g["follows"] for g in grants] == ["pinned"]
    bad = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset_id, "purpose": "统计", "columns": ["街道"]}).get_json()["id"]
    page = f"/steward/requests/{bad}"
    refused = steward.submit(page, page, {"action": "approve", "expires_in_days": "30",
                                          "follows": "sometimes", "op:街道": "keep"})
    assert refused.status_code == 422 and 'href="#follows"' in text(refused)


def test_the_catalog_marks_what_is_already_granted_to_you(city):  # noqa: F811
    call, dataset_id, app = city
    from .test_versions import REQUESTER, STEWARD
    other = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(_csv(3)), "other.csv"),
        "metadata": '{"title": "另一台账", "sharing": "conditional", "level": "L2"}'})
    assert other.status_code == 201
    requester = _signed_in(app, "tax-requester")

    def badges() -> dict[str, bool]:
        page = text(requester.get("/catalog"))
        rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
        return {re.search(r"/catalog/(ds_\w+)", r).group(1): "已授权给您" in r for r in rows}
    assert badges() == {dataset_id: False, other.get_json()["id"]: False}
    asked = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset_id, "purpose": "统计", "columns": ["街道"]}).get_json()["id"]
    grant = call(STEWARD, "POST", f"/requests/{asked}/approve", json={}).get_json()["grant_id"]
    assert badges() == {dataset_id: True, other.get_json()["id"]: False}
    call(STEWARD, "POST", f"/grants/{grant}/revoke", json={"reason": "结束"})
    assert badges() == {dataset_id: False, other.get_json()["id"]: False}


def test_the_publish_page_takes_the_directory_fields_and_refuses_overlong_text(city):  # noqa: F811
    call, _dataset_id, app = city
    from .test_versions import REQUESTER
    steward = _signed_in(app, "civil-steward")
    fields = {"title": "养老机构名录", "sharing": "conditional", "level": "L2",
              "theme": "social_security", "update_frequency": "quarterly",
              "share_condition": "仅用于养老服务补贴审核", "contact": "市民政局养老服务处",
              "contact_phone": "028-61881234"}
    long = steward.submit("/steward/publish", "/steward/publish", fields | {
        "description": "长" * 2001, "file": (io.BytesIO(_csv(3)), "homes.csv")},
        content_type="multipart/form-data")
    assert long.status_code == 422
    page = text(long)
    assert 'href="#description"' in page and "不能超过 2,000 个字符" in page
    assert "长" * 2001 in page  # given back whole, to be shortened
    done = steward.submit("/steward/publish", "/steward/publish", fields | {
        "file": (io.BytesIO(_csv(3)), "homes.csv")}, content_type="multipart/form-data")
    assert done.status_code == 303
    made = done.headers["Location"].rsplit("/", 1)[1]
    shown = call(REQUESTER, "GET", f"/datasets/{made}").get_json()["directory"]
    assert (shown["theme"], shown["update_frequency"], shown["share_condition"]) == (
        "social_security", "quarterly", "仅用于养老服务补贴审核")
    assert shown["contact"] == {"name": "市民政局养老服务处", "email": None,
                                "phone": "028-61881234"}
    unnamed = steward.submit("/steward/publish", "/steward/publish", fields | {
        "contact": "", "contact_email": "x@y.cn", "file": (io.BytesIO(_csv(3)), "h.csv")},
        content_type="multipart/form-data")
    assert unnamed.status_code == 422 and 'href="#contact"' in text(unnamed)


def test_a_steward_edits_metadata_and_column_descriptions_on_a_page(city):  # noqa: F811
    call, dataset_id, app = city
    from .test_versions import AUDITOR, REQUESTER
    steward = _signed_in(app, "civil-steward")
    page = f"/steward/datasets/{dataset_id}/edit"
    assert _signed_in(app, "health-steward").get(page).status_code == 403
    form = text(steward.get(page))
    assert 'value="社区服务站台账"' in form and 'id="desc:街道"' in form
    fields = {"title": "社区服务站台账", "sharing": "conditional", "level": "L2",
              "description": "各街道社区服务站的服务记录", "keywords": "社区 服务站",
              "update_frequency": "monthly", "desc:街道": "所在街道"}
    refused = steward.submit(page, page, fields | {"sharing": "none"})
    assert refused.status_code == 422 and 'href="#legal_basis"' in text(refused)
    done = steward.submit(page, page, fields)
    assert done.status_code == 303
    shown = call(REQUESTER, "GET", f"/datasets/{dataset_id}").get_json()
    assert shown["directory"]["update_frequency"] == "monthly"
    assert {c["name"]: c["description"] for c in shown["columns"]}["街道"] == "所在街道"
    assert shown["directory"]["resource_code"] == f"civil/{dataset_id[3:]}"  # kept
    again = steward.submit(page, page, fields)
    assert "没有修改" in text(steward.get(again.headers["Location"]))
    logged = call(AUDITOR, "GET", "/audit/entries?type=dataset_change").get_json()["entries"]
    assert [sorted(e["entry"]["fields"]) for e in logged] == [["column_notes", "details"]]


def test_the_catalog_page_sorts_and_filters_by_theme(browse, datasets):
    reader = browse("civil-requester", "zh")
    page = text(reader.get("/catalog?sort=changed&page_size=2"))
    chosen = re.search(r'<select class="select" id="sort".*?</select>', page, re.S).group(0)
    assert re.search(r'value="changed" selected>最近更新', chosen)
    assert "最相关" not in chosen  # no search words: no order by relevance
    assert "sort=changed" in page.split('class="pagination"', 1)[1]  # the next page keeps it
    searched = text(reader.get("/catalog?q=居民&sort=relevance"))
    assert re.search(r'value="relevance" selected>最相关', searched)
    cleared = reader.get("/catalog?q=&sort=relevance")  # words cleared, order kept
    assert cleared.status_code == 200 and re.search(r'value="newest" selected>最新发布',
                                                     text(cleared))
    themes = re.search(r'<select class="select" id="theme".*?</select>', page, re.S).group(0)
    assert "全部主题" in themes and "健康保障 (" in themes
    refused = reader.get("/catalog?sort=oldest")
    assert refused.status_code == 400 and "请选择排序方式" in text(refused)
