"""One reader for every path: what publishing refuses, ``govex mask`` and a delivery refuse too,
with the same status and the same words, which never hold a row's values; a file that publishes
reads the same when it is published, masked and delivered.

The paths: publishing through the API; ``govex mask`` through click's runner; a delivery through
the API, of a stored payload that the refused file stands in for (the version row of a dataset
published before is pointed at it, as a payload published under the earlier reader would be:
the UTF-8 BOM followed by GBK published then and failed every delivery).
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from catalog import formats
from catalog.models import versions_table
from exchange import models
from exchange.app import create_app
from exchange.auth import Principal
from exchange.cli import cli
from exchange.config import load_settings
from exchange.services import Services
from exchange.usecases.access import approve, create_request
from exchange.usecases.admin import create_user, ensure_department, init_instance

PHONE, ID = "13812345678", "11010519491231002X"
STEWARD = Principal("civil-steward", "", "civil", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
META = {"title": "读取路径", "sharing": "conditional", "level": "L2",
        "confirm_personal_data": True}
MAX = formats.MAX_FIELD_CHARS


def _xlsx(rows: list[list[object]], *, cached: dict[str, str] | None = None) -> bytes:
    """A workbook of ``rows`` (sheet 名单) as openpyxl writes it: formulas without values, unless
    ``cached`` gives a cell its saved value, as Excel or WPS would have saved it."""
    book = openpyxl.Workbook()
    book.active.title = "名单"
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not cached:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                for cell, value in cached.items():
                    data = re.sub(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>'.encode(),
                                  rf"\1<v>{value}</v>".encode(), data)
            target.writestr(item, data)
    return out.getvalue()


BAD = [
    ("unterminated-quote.csv", f'姓名,电话\n张伟,"{PHONE}\n李娜,{ID}\n王芳,13700000000\n'.encode(),
     422, r"^line 2: malformed CSV: a quote opened on this line is never closed"),
    ("ragged-row.csv", f"姓名,电话\n张伟,{PHONE},{ID}\n".encode(),
     422, r"^line 2: 3 fields, but the header has 2"),
    ("nul-byte.csv", f"姓名,电话\n张伟,{PHONE}\x00{ID}\n".encode(),
     422, r"^the file is not UTF-8 or GBK text: line 2 holds a NUL byte"),
    ("bom-then-gbk.csv", codecs.BOM_UTF8 + f"姓名,电话\n张伟,{PHONE}\n李娜,{ID}\n".encode("gbk"),
     422, r"^the file is not UTF-8 or GBK text: it starts with a UTF-8 byte-order mark"),
    ("big5.csv", (f"姓名,電話\n陳志明，臺北市信義區市府路1號,{PHONE}\n"
                  f"林淑芬，新北市板橋區中山路一段,{ID}\n").encode("big5"),
     422, r"^the file is not UTF-8 or GBK text: read as GBK it is garbled.*Big5 or Shift-JIS"),
    ("shift-jis.csv", (f"氏名,電話\n山田太郎，東京都新宿区西新宿二丁目,{PHONE}\n"
                       f"佐藤花子，大阪府大阪市北区中之島,{ID}\n").encode("shift_jis"),
     422, r"^the file is not UTF-8 or GBK text: read as GBK it is garbled.*Big5 or Shift-JIS"),
    ("formula-without-value.xlsx",
     _xlsx([["姓名", "电话"], ["张伟", PHONE], ["李娜", ID], ["王芳", "=B2"]]),
     422, r"^sheet '名单', cell B4: a formula saved without its value"),
    ("two-million-characters.csv", f"姓名,电话\n张伟,{PHONE}{ID}{'x' * 2_000_000}\n".encode(),
     413, rf"^line 2: a value longer than {MAX:,} characters"),
]
GOOD_CSV = "姓名,电话,备注\n张伟,13812345678,市民反映小区门口道路积水\n李娜,13987654321,\n"
GOOD = [
    ("utf8.csv", GOOD_CSV.encode()),
    ("utf8-bom.csv", codecs.BOM_UTF8 + GOOD_CSV.encode()),
    ("gbk.csv", GOOD_CSV.encode("gbk")),
    ("cached-formulas.xlsx", _xlsx([["姓名", "数量", "合计"], ["张伟", 3, "=B2*4"],
                                    ["李娜", 5, "=B3*4"]], cached={"C2": "12", "C3": "20"})),
]


@pytest.fixture(scope="module")
def instance(tmp_path_factory, settings_for) -> SimpleNamespace:
    """An instance of its own: civil publishes, tax receives; one dataset whose stored payload
    the bad files stand in for, with a grant that keeps both its columns."""
    home = tmp_path_factory.mktemp("reading-home")
    settings = load_settings(settings_for(home), environ={})
    init_instance(settings)
    svc = Services(settings)
    for code in ("civil", "tax"):
        ensure_department(svc, code, code, code)
    tokens = {who.department: create_user(svc, username=who.username, password="pw-" * 5,
                                          role=who.role, department=who.department)
              for who in (STEWARD, TAX)}
    app = create_app(services=svc)
    app.config["TESTING"] = True
    found = SimpleNamespace(home=home, svc=svc, app=app, tokens=tokens)
    planted = _publish(found, "名单.csv", f"姓名,电话\n张伟,{PHONE}\n".encode())
    assert planted.status_code == 201, planted.get_json()
    found.planted = planted.get_json()["id"]
    found.planted_grant = _grant(svc, found.planted, ["姓名", "电话"])
    return found


def _publish(instance: SimpleNamespace, name: str, data: bytes):
    # encoded here: the test client spools a body over 500 kB to a temporary file it never closes
    boundary, body = encode_multipart(MultiDict({
        "file": FileStorage(io.BytesIO(data), filename=name), "metadata": json.dumps(META)}))
    return instance.app.test_client().post(
        "/api/v1/datasets", headers={"Authorization": f"Bearer {instance.tokens['civil']}"},
        data=body, content_type=f'multipart/form-data; boundary="{boundary}"')


def _grant(svc: Services, dataset_id: str, columns: list[str]) -> str:
    request = create_request(svc, TAX, dataset_id=dataset_id, purpose="核对读取路径",
                             columns=columns)
    return approve(svc, STEWARD, request["id"],
                   masking={c: "keep" for c in columns})["grant_id"]


def _deliver(instance: SimpleNamespace, grant_id: str):
    return instance.app.test_client().post(
        f"/api/v1/grants/{grant_id}/exchanges", json={"format": "csv"},
        headers={"Authorization": f"Bearer {instance.tokens['tax']}"})


def _mask(tmp_path, name: str, data: bytes, *, policy: dict[str, str] | None = None):
    source, out = tmp_path / name, tmp_path / f"masked-{name}"
    source.write_bytes(data)
    args = ["mask", str(source), "-o", str(out), "--home", str(tmp_path / "home")]
    if policy:
        (tmp_path / "policy.json").write_text(json.dumps(policy), encoding="utf-8")
        args += ["--policy", str(tmp_path / "policy.json")]
    return CliRunner().invoke(cli, args, env={"GOVEX_SECRET": ""}), out


def _plant(instance: SimpleNamespace, name: str, data: bytes) -> None:
    """Point the planted dataset's version at ``data``, stored as publishing stores a file."""
    digest = instance.svc.store.put(data)
    with instance.svc.engine.begin() as conn:
        conn.execute(sa.update(versions_table).where(
            versions_table.c.dataset_id == instance.planted).values(
            sha256=digest, format=formats.detect_format(name, data)))


def _exchanges(instance: SimpleNamespace) -> int:
    with instance.svc.reader.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(models.exchanges)).scalar()


@pytest.mark.parametrize(("name", "data", "status", "message"), BAD,
                         ids=[case[0] for case in BAD])
def test_a_bad_file_is_refused_alike_on_every_path(instance, tmp_path, caplog, name, data,
                                                   status, message):
    caplog.set_level(logging.DEBUG)
    published = _publish(instance, name, data)
    assert published.status_code == status, published.get_json()
    said = published.get_json()["error"]["message"]
    assert re.search(message, said), said

    masked, out = _mask(tmp_path, name, data)
    assert masked.exit_code == 1 and masked.output == f"Error: {said}\n"
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()

    before = _exchanges(instance)
    _plant(instance, name, data)
    delivered = _deliver(instance, instance.planted_grant)
    assert delivered.status_code == status and delivered.get_json()["error"]["message"] == said
    assert _exchanges(instance) == before  # nothing delivered, nothing stored

    for text in (published.get_data(as_text=True), masked.output,
                 delivered.get_data(as_text=True), caplog.text):
        assert PHONE not in text and ID not in text


@pytest.mark.parametrize(("name", "data"), GOOD, ids=[case[0] for case in GOOD])
def test_a_good_file_reads_the_same_on_every_path(instance, tmp_path, name, data):
    expected = formats.read_table(data, fmt=formats.detect_format(name, data))
    cells = expected.astype(object).where(expected.notna(), None).values.tolist()
    columns = list(expected.columns)

    published = _publish(instance, name, data)
    assert published.status_code == 201, published.get_json()
    body = published.get_json()
    assert [c["name"] for c in body["columns"]] == columns and body["row_count"] == len(cells)

    masked, out = _mask(tmp_path, name, data, policy=dict.fromkeys(columns, "keep"))
    assert masked.exit_code == 0, masked.output
    again = formats.read_table(out.read_bytes(), fmt=formats.detect_format(out.name, data))
    assert again.astype(object).where(again.notna(), None).values.tolist() == cells

    delivered = _deliver(instance, _grant(instance.svc, body["id"], columns))
    assert delivered.status_code == 201, delivered.get_json()
    received = instance.app.test_client().get(
        delivered.get_json()["data_url"],
        headers={"Authorization": f"Bearer {instance.tokens['tax']}"}).data
    frame = formats.read_table(received, fmt="csv")
    assert list(frame.columns) == columns
    assert frame.astype(object).where(frame.notna(), None).values.tolist() == cells
