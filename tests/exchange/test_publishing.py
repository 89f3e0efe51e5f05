"""Publishing reads an upload in chunks: profiled and checked by Great Expectations on its first
rows, counted over every row, copied into the encrypted store block by block. A refusal (strict
quality, the row or byte limit) leaves nothing behind, and the body of an upload is not read
before its caller is known and its declared size allowed.

A fresh instance of its own (the shared demo one is not altered); chunks of 7 rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa

from audit.log import entries_table
from catalog import UploadTooLarge, formats, quality
from catalog.models import datasets_table
from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.demo.data import mobile_number, resident_id
from exchange.services import Services
from exchange.usecases.admin import create_user, ensure_department, init_instance
from exchange.usecases.publishing import IDENTIFIER_PATTERNS, publish
from masking import profile_table

ROWS, CHUNK = 50, 7  # eight chunks, the last one short
STEWARD = Principal("civil-steward", "", "civil", "steward")
META = {"title": "户籍人口", "sharing": "conditional", "level": "L2", "not_null": ["姓名"],
        "confirm_personal_data": True}
BAD_ID = "11010519491231002"  # 17 characters: the shape check fails


def _people(rows: int, *, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    births = [dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
              for _ in range(rows)]
    return pd.DataFrame({
        "姓名": [rng.choice("王李张刘陈杨黄赵") + rng.choice("伟芳娜敏静丽强磊")
                 for _ in range(rows)],
        "身份证号": [resident_id(rng, birth=b) for b in births],
        "手机号": [mobile_number(rng) for _ in range(rows)],
        "金额": [str(rng.randrange(100, 9_000)) for _ in range(rows)],
    })


def _flawed(rows: int = ROWS) -> pd.DataFrame:
    """People with a name missing in the fourth chunk and a malformed ID in the last one."""
    frame = _people(rows, seed=3)
    frame.loc[24, "姓名"] = None
    frame.loc[rows - 1, "身份证号"] = BAD_ID
    return frame


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, settings_for) -> SimpleNamespace:
    home = tmp_path_factory.mktemp("publishing-home")
    settings = load_settings(settings_for(home), environ={})
    init_instance(settings)
    svc = Services(settings, publish_chunk_rows=CHUNK)
    ensure_department(svc, "civil", "民政局", "Civil Affairs")
    token = create_user(svc, username=STEWARD.username, password="pw-" * 5, role="steward",
                        department="civil")
    app = create_app(services=svc)
    app.config["TESTING"] = True
    return SimpleNamespace(home=home, svc=svc, app=app, token=token, settings_for=settings_for)


def _state(instance: SimpleNamespace) -> tuple:
    """Everything a publication leaves: payload files, datasets, audit entries, spooled files."""
    with instance.svc.reader.connect() as conn:
        datasets = conn.execute(sa.select(sa.func.count()).select_from(datasets_table)).scalar()
        entries = conn.execute(sa.select(sa.func.count()).select_from(entries_table)).scalar()
    files = {p for p in (instance.home / "payloads").rglob("*") if p.is_file()}
    spooled = set((instance.home / "spool").glob("*"))
    return files, datasets, entries, spooled


def _post(app, token: str | None, data: bytes, name: str, meta: dict = META):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().post("/api/v1/datasets", headers=headers, data={
        "file": (io.BytesIO(data), name), "metadata": json.dumps(meta)},
        content_type="multipart/form-data")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "xlsx"])
def test_a_file_of_many_chunks_publishes_as_it_did_whole(instance, tmp_path, fmt):
    """Read in chunks of 7, the dataset's columns, profiles and quality report are what the
    whole-file path gave (the file is smaller than the sample), failures in the fourth and last
    chunks counted; the stored payload is the file."""
    data = formats.write_table(_flawed(), fmt=fmt)
    path = tmp_path / f"名单.{fmt}"
    path.write_bytes(data)
    published = publish(instance.svc, STEWARD, filename=path.name, data=path, metadata=META)

    whole = formats.read_table(data, fmt=fmt)
    profiles = profile_table(whole, analyzer=instance.svc.analyzer())
    report = quality.validate_table(
        whole, columns=list(whole.columns), not_null=["姓名"],
        patterns={p.column: IDENTIFIER_PATTERNS[p.entity] for p in profiles
                  if p.kind == "identifier" and p.entity in IDENTIFIER_PATTERNS})
    assert published["row_count"] == ROWS and published["format"] == fmt
    assert [c["profile"] for c in published["columns"]] == [p.to_dict() for p in profiles]
    assert published["quality"] == report.to_dict() and published["quality_passed"] is False
    failed = {(r["expectation"], r["column"]): r["unexpected_count"]
              for r in published["quality"]["results"] if not r["success"]}
    assert failed == {("expect_column_values_to_not_be_null", "姓名"): 1,
                      ("expect_column_values_to_match_regex", "身份证号"): 1}
    assert instance.svc.store.get(published["sha256"]) == data


def test_the_api_publishes_from_the_spooled_upload_and_removes_it(instance):
    data = formats.write_table(_people(ROWS, seed=4), fmt="csv")
    before = _state(instance)
    r = _post(instance.app, instance.token, data, "名单.csv")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["row_count"] == ROWS and body["quality_passed"] is True
    assert instance.svc.store.get(body["sha256"]) == data
    assert _state(instance)[3] == before[3] == set()  # the spooled file went with the request


def test_strict_mode_refuses_a_failing_file_and_leaves_nothing_behind(instance):
    data = formats.write_table(_flawed(), fmt="csv")
    before = _state(instance)
    r = _post(instance.app, instance.token, data, "名单.csv", {**META, "strict": True})
    assert r.status_code == 422, r.get_json()
    message = r.get_json()["error"]["message"]
    assert "strict" in message and "expect_column_values_to_match_regex on 身份证号 (1 rows)" \
        in message
    assert BAD_ID not in r.get_data(as_text=True)
    assert _state(instance) == before  # no payload, no dataset, no audit entry, no spooled file


@pytest.mark.parametrize(("fmt", "limits", "message"), [
    ("csv", {"max_upload_rows": 20}, "the file has more than 20 rows"),  # found in chunk 3
    ("parquet", {"max_upload_rows": 20}, "the file has more than 20 rows"),  # from its footer
    ("jsonl", {"max_upload_rows": ROWS - 1}, f"the file has more than {ROWS - 1} rows"),
    ("csv", {"max_upload_bytes": 1000}, "file is larger than 1000 bytes"),
], ids=["csv-rows", "parquet-rows", "jsonl-rows-last-chunk", "csv-bytes"])
def test_the_row_and_byte_limits_refuse_with_413_and_store_nothing(instance, fmt, limits,
                                                                    message):
    settings = load_settings(instance.settings_for(instance.home, **limits), environ={})
    app = create_app(services=Services(settings, publish_chunk_rows=CHUNK))
    data = formats.write_table(_people(ROWS, seed=5), fmt=fmt)
    assert len(data) > 1000
    before = _state(instance)
    r = _post(app, instance.token, data, f"名单.{fmt}")
    assert r.status_code == 413, r.get_json()
    assert r.get_json()["error"] == {"code": "too_large", "message": message}
    assert _state(instance) == before


def test_the_limits_are_settings(tmp_path):
    environ = {"GOVEX_MAX_UPLOAD_ROWS": "21000000", "GOVEX_MAX_UPLOAD_BYTES": str(3 << 30)}
    settings = load_settings({"home": tmp_path}, environ=environ)
    assert (settings.max_upload_rows, settings.max_upload_bytes) == (21_000_000, 3 << 30)
    with pytest.raises(ValueError, match="max_upload_rows must be at least 1"):
        load_settings({"home": tmp_path}, environ={"GOVEX_MAX_UPLOAD_ROWS": "0"})


def test_a_file_on_disk_over_the_byte_limit_is_refused_before_it_is_read(instance, tmp_path):
    path = tmp_path / "大.csv"
    path.write_bytes(b"\xff" * 2048)  # not even text: the size is refused first
    settings = load_settings(instance.settings_for(instance.home, max_upload_bytes=1024),
                             environ={})
    with pytest.raises(UploadTooLarge, match="larger than 1024 bytes"):
        publish(Services(settings), STEWARD, filename=path.name, data=path, metadata=META)


# -- the app reads no body before the head allows it ------------------------------------------


class Unreadable(io.RawIOBase):
    """A request body of ``size`` bytes that fails the test if anything reads it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size, self.at = size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:  # the test client measures the body
        self.at = self.size if whence == 2 else offset
        return self.at

    def tell(self) -> int:
        return self.at

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


def _send_head(app, path: str, *, length: int, headers: dict[str, str] | None = None):
    return app.test_client().post(path, input_stream=Unreadable(length),
                                  content_type="multipart/form-data; boundary=x",
                                  headers=headers or {})


@pytest.mark.parametrize(("path", "headers", "length", "status", "where"), [
    ("/api/v1/datasets", {}, 10_000, 401, "send 'Authorization: Bearer <token>'"),
    ("/api/v1/datasets", {"Authorization": "Bearer gvx_forged"}, 10_000, 401,
     "invalid or revoked token"),
    ("/api/v1/datasets", "token", (1 << 40), 413, "the request body is larger than"),
    ("/steward/publish", {}, 10_000, 302, "/sign-in?next=/steward/publish"),  # before CSRF
    ("/sign-in", {}, 100_000, 413, "larger than 65,536 bytes"),  # open to all: small bodies
], ids=["api-no-token", "api-bad-token", "api-too-large", "page-no-session", "sign-in-large"])
def test_a_refused_head_leaves_the_body_unread(instance, path, headers, length, status, where):
    if headers == "token":
        headers = {"Authorization": f"Bearer {instance.token}"}
    r = _send_head(instance.app, path, length=length, headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    said = r.headers.get("Location", "") if status == 302 else r.get_json()["error"]["message"]
    assert where in said


def test_a_spooled_upload_is_named_on_disk(instance):
    """The stream factory spools even a small file to a named file under the spool folder."""
    from werkzeug.datastructures import FileStorage

    from exchange.uploads import spooled_path

    app = instance.app
    with app.test_request_context("/api/v1/datasets", method="POST", data={
            "file": (io.BytesIO(b"a,b\n1,2\n"), "t.csv")}, content_type="multipart/form-data"):
        from flask import request
        upload = request.files["file"]
        assert isinstance(upload, FileStorage)
        path = spooled_path(upload)
        assert path.parent == Path(instance.home / "spool") and path.read_bytes() == b"a,b\n1,2\n"
    assert not path.exists()


def test_uploads_a_killed_server_left_are_swept_once_an_hour_old(tmp_path):
    import os

    from exchange.uploads import sweep_spool

    old, young, other = tmp_path / "upload-a", tmp_path / "upload-b", tmp_path / "keep"
    for path in (old, young, other):
        path.write_bytes(b"x")
    os.utime(old, (1_000, 1_000))
    os.utime(other, (1_000, 1_000))
    assert sweep_spool(tmp_path, now=10_000) == 1
    assert not old.exists() and young.exists() and other.exists()
    assert sweep_spool(tmp_path / "none") == 0
