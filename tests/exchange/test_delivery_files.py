"""What a delivery hands a person: a workbook Excel opens, a CSV Excel reads as UTF-8, a file
named for the dataset, and a page that checks a downloaded file against its signed receipt."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import urllib.parse

import openpyxl
import pytest

from exchange.receipts import verify_receipt

from .test_web import Browser, text

COLUMNS = ["姓名", "身份证号", "出生日期", "住址"]
MASKING = {"姓名": "mask", "身份证号": "hash", "出生日期": "generalize", "住址": "mask"}


@pytest.fixture(scope="module")
def grant(as_role_module, datasets) -> str:
    asked = as_role_module("health-requester").post("/api/v1/requests", json={
        "dataset_id": datasets["residents"]["id"], "purpose": "核对就诊人户籍信息",
        "columns": COLUMNS})
    assert asked.status_code == 201, asked.get_json()
    approved = as_role_module("civil-steward").post(
        f"/api/v1/requests/{asked.get_json()['id']}/approve", json={"masking": MASKING})
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()["grant_id"]


@pytest.fixture(scope="module")
def as_role_module(app, users):
    def client_as(username: str):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {users[username]['token']}"
        return c
    return client_as


def _deliver(as_role_module, grant: str, **body) -> tuple[dict, bytes, str]:
    requester = as_role_module("health-requester")
    done = requester.post(f"/api/v1/grants/{grant}/exchanges", json=body)
    assert done.status_code == 201, done.get_json()
    exchange = done.get_json()
    data = requester.get(exchange["data_url"])
    assert data.status_code == 200
    return exchange, data.get_data(), data.headers["Content-Disposition"]


def _jwks(app) -> dict:
    return app.test_client().get("/.well-known/jwks.json").get_json()


def test_csv_xlsx_and_csv_with_a_byte_order_mark_carry_the_same_rows(app, as_role_module, grant):
    plain, csv_bytes, _ = _deliver(as_role_module, grant, format="csv")
    excel, bom_bytes, _ = _deliver(as_role_module, grant, format="csv", bom=True)
    book, xlsx_bytes, _ = _deliver(as_role_module, grant, format="xlsx")

    assert bom_bytes.startswith(b"\xef\xbb\xbf") and not csv_bytes.startswith(b"\xef\xbb\xbf")
    assert bom_bytes[3:] == csv_bytes  # the same rows, pseudonyms included
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes), read_only=True).active
    cells = [["" if v is None else str(v) for v in row]
             for row in sheet.iter_rows(values_only=True)]
    lines = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"))))
    assert cells[0] == COLUMNS and cells == lines
    for exchange, data in ((plain, csv_bytes), (excel, bom_bytes), (book, xlsx_bytes)):
        manifest = verify_receipt(exchange["receipt"], jwks=_jwks(app), data=data)
        assert manifest["sha256"] == hashlib.sha256(data).hexdigest() == exchange["sha256"]
    assert verify_receipt(excel["receipt"], jwks=_jwks(app))["bom"] is True
    assert "bom" not in verify_receipt(plain["receipt"], jwks=_jwks(app))


def test_a_delivery_is_named_for_its_dataset_recipient_and_day(as_role_module, grant):
    exchange, _, header = _deliver(as_role_module, grant, format="xlsx")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", header).group(1)
    name = urllib.parse.unquote(encoded)
    assert re.fullmatch(r"居民户籍登记-health-\d{8}\.xlsx", name), name
    assert f'filename="{exchange["id"]}.xlsx"' in header  # the ASCII fallback


@pytest.mark.parametrize("body, problem", [
    ({"format": "xls"}, "format must be one of csv, xlsx, jsonl, parquet"),
    ({"format": "parquet", "bom": True}, "for CSV files only"),
    ({"format": "csv", "bom": "yes"}, "true or false"),
])
def test_formats_and_options_that_do_not_exist_are_refused(as_role_module, grant, body, problem):
    answer = as_role_module("health-requester").post(f"/api/v1/grants/{grant}/exchanges",
                                                     json=body)
    assert answer.status_code == 400 and problem in answer.get_json()["error"]["message"]


def test_a_dataset_too_long_for_a_sheet_is_refused_as_xlsx_before_any_work(
        as_role_module, grant, monkeypatch):
    from exchange.usecases import delivery
    monkeypatch.setattr(delivery, "XLSX_MAX_ROWS", 10)  # the demo's residents have 300 rows
    before = as_role_module("health-requester").get("/api/v1/grants").get_json()
    answer = as_role_module("health-requester").post(f"/api/v1/grants/{grant}/exchanges",
                                                     json={"format": "xlsx"})
    assert answer.status_code == 400
    assert "choose CSV, Parquet or JSON Lines" in answer.get_json()["error"]["message"]
    assert as_role_module("health-requester").get("/api/v1/grants").get_json() == before


def test_the_browser_checks_a_downloaded_file_against_its_receipt(app, users, as_role_module,
                                                                  grant):
    exchange, data, _ = _deliver(as_role_module, grant, format="csv", bom=True)
    page = f"/my/exchanges/{exchange['id']}/check"
    browser = Browser(app.test_client(), "zh")
    assert browser.sign_in("health-requester", users["health-requester"]["password"]
                           ).status_code == 303

    same = browser.submit(page, page, {"file": (io.BytesIO(data), "下载.csv")},
                          content_type="multipart/form-data")
    changed = browser.submit(page, page, {"file": (io.BytesIO(data + b"\r\n"), "下载.csv")},
                             content_type="multipart/form-data")
    nothing = browser.submit(page, page, {}, content_type="multipart/form-data")

    assert same.status_code == 200 and "文件与交付内容完全一致" in text(same)
    assert changed.status_code == 200 and "文件与交付内容不一致" in text(changed)
    assert hashlib.sha256(data + b"\r\n").hexdigest() in text(changed)
    assert nothing.status_code == 422 and "<title>错误：" in text(nothing)
    assert 'aria-invalid="true"' in text(nothing)
    other = Browser(app.test_client(), "zh")
    assert other.sign_in("civil-requester", users["civil-requester"]["password"]
                         ).status_code == 303
    assert other.get(page).status_code == 403  # another department's delivery
