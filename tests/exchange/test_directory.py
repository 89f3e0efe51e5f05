"""The national directory's metadata (政务信息资源目录, 2017 guide): given at publication,
checked field by field, edited, and shown with a data dictionary whose types are inferred
from the file — through the API of an instance of its own."""

from __future__ import annotations

import io
import json

import pytest

from .test_versions import META, REQUESTER, STEWARD, city  # noqa: F401  (the fixture)

DIRECTORY = {
    "resource_code": "510100-MZ-000123", "category": "theme", "theme": "social_security",
    "share_condition": "仅用于社会救助审核", "share_method": ["file", "interface"],
    "open_type": "none", "update_frequency": "monthly", "related_resources": ["510100-MZ-1"],
    "contact": {"name": "市民政局数据科", "email": "data@mz.example.gov.cn",
                "phone": "028-12345678"},
    "license": "政务共享专用", "temporal": {"start": "2025-01-01", "end": "2025-12-31"},
    "spatial": ["510100", "510104"],
    "column_descriptions": {"金额": "当月发放金额（元）"},
}
FILE = ("编号,发放日期,金额,人数,联系电话\n"
        "007,2025-01-31,1200.50,3,13812345678\n"
        "012,2025-02-28,980,2,13912345678\n").encode()


def _publish(call, metadata: dict):
    metadata = {"confirm_personal_data": True} | metadata  # its L2 file holds phone numbers
    return call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(FILE), "relief.csv"),
        "metadata": json.dumps(metadata, ensure_ascii=False)})


def test_a_dataset_carries_the_directory_fields_and_a_data_dictionary(city):  # noqa: F811
    call, _first, _app = city
    made = _publish(call, META | {"title": "低保金发放台账"} | DIRECTORY)
    assert made.status_code == 201, made.get_json()
    shown = call(REQUESTER, "GET", f"/datasets/{made.get_json()['id']}").get_json()
    given = {k: v for k, v in DIRECTORY.items() if k != "column_descriptions"}
    assert {k: shown["directory"][k] for k in given} == given
    assert shown["directory"]["published_at"] == shown["created_at"]
    columns = {c["name"]: (c["dtype"], c["length"], c["description"]) for c in shown["columns"]}
    assert columns == {
        "编号": ("string", 3, None),  # leading zeros: a code, not a number
        "发放日期": ("date32", 10, None),
        "金额": ("double", 7, "当月发放金额（元）"),
        "人数": ("int64", 1, None),
        "联系电话": ("string", 11, None),  # eleven digits: a number to dial, not to add
    }
    found = call(REQUESTER, "GET", "/datasets?theme=social_security").get_json()
    assert [d["id"] for d in found["datasets"]] == [shown["id"]]
    assert found["facets"]["theme"] == {"social_security": 1}


def test_defaults_are_the_guides_when_nothing_is_said(city):  # noqa: F811
    call, dataset_id, _app = city
    shown = call(REQUESTER, "GET", f"/datasets/{dataset_id}").get_json()["directory"]
    assert shown["resource_code"] == f"civil/{dataset_id[3:]}"
    assert (shown["category"], shown["share_method"], shown["open_type"],
            shown["update_frequency"], shown["theme"]) == (
        "department", ["file"], "none", "irregular", None)


@pytest.mark.parametrize("field,value,code", [
    ("theme", "sports", "theme_unknown"),
    ("category", "secret", "category_unknown"),
    ("open_type", "maybe", "open_type_unknown"),
    ("update_frequency", "hourly", "update_frequency_unknown"),
    ("share_method", ["fax"], "share_method_unknown"),
    ("share_method", "file", "share_method_unknown"),
    ("resource_code", "含中文", "resource_code_malformed"),
    ("resource_code", "x" * 65, "resource_code_malformed"),
    ("related_resources", "510100-MZ-1", "related_resources_malformed"),
    ("contact", {"email": "a@b.cn"}, "contact_malformed"),
    ("contact", {"name": "科室", "fax": "1"}, "contact_malformed"),
    ("temporal", {"start": "2025/01/01"}, "temporal_malformed"),
    ("spatial", ["5101"], "spatial_malformed"),
    ("column_descriptions", {"金额": 5}, "column_descriptions_malformed"),
    ("column_descriptions", {"没有这列": "说明"}, "columns_unknown"),
])
def test_a_wrong_directory_field_is_refused_by_name_and_nothing_is_published(
        city, field, value, code):  # noqa: F811
    call, _first, _app = city
    before = call(REQUESTER, "GET", "/datasets").get_json()["total"]
    refused = _publish(call, META | {field: value})
    assert refused.status_code == 400, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == code or code in [f["code"] for f in error.get("fields", [])]
    assert call(REQUESTER, "GET", "/datasets").get_json()["total"] == before


def test_a_resource_code_belongs_to_one_dataset(city):  # noqa: F811
    call, dataset_id, _app = city
    assert _publish(call, META | {"resource_code": "CODE-1"}).status_code == 201
    taken = _publish(call, META | {"resource_code": "CODE-1"})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "resource_code_taken"
    edit = call(STEWARD, "PATCH", f"/datasets/{dataset_id}", json={"resource_code": "CODE-1"})
    assert edit.status_code == 409


def test_editing_directory_fields_and_column_descriptions(city):  # noqa: F811
    call, dataset_id, _app = city
    edited = call(STEWARD, "PATCH", f"/datasets/{dataset_id}", json={
        "update_frequency": "daily", "column_descriptions": {"街道": "所在街道名称"}})
    assert edited.status_code == 200, edited.get_json()
    assert sorted(edited.get_json()["changed"]) == ["column_notes", "details"]
    shown = call(REQUESTER, "GET", f"/datasets/{dataset_id}").get_json()
    assert shown["directory"]["update_frequency"] == "daily"
    assert {c["name"]: c["description"] for c in shown["columns"]}["街道"] == "所在街道名称"
    unknown = call(STEWARD, "PATCH", f"/datasets/{dataset_id}",
                   json={"column_descriptions": {"没有这列": "说明"}})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == "columns_unknown"


def test_personal_data_at_l1_or_l2_needs_the_stewards_confirmation(city):  # noqa: F811
    call, dataset_id, _app = city
    plain = META | {"title": "低保金发放台账"}  # its file holds mobile numbers
    unconfirmed = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(FILE), "relief.csv"),
        "metadata": json.dumps(plain, ensure_ascii=False)})
    assert unconfirmed.status_code == 422
    error = unconfirmed.get_json()["error"]
    assert error["code"] == "personal_data_unconfirmed" and "联系电话" in error["message"]
    at_l3 = _publish(call, plain | {"level": "L3", "confirm_personal_data": False})
    assert at_l3.status_code == 201  # L3 and up: masked by default, nothing to confirm
    lowered = call(STEWARD, "PATCH", f"/datasets/{at_l3.get_json()['id']}", json={"level": "L1"})
    assert lowered.status_code == 422
    assert lowered.get_json()["error"]["code"] == "personal_data_unconfirmed"
    confirmed = call(STEWARD, "PATCH", f"/datasets/{at_l3.get_json()['id']}",
                     json={"level": "L1", "confirm_personal_data": True})
    assert confirmed.status_code == 200 and confirmed.get_json()["level"] == "L1"


def test_l4_is_never_shared_unconditionally(city):  # noqa: F811
    call, _dataset_id, _app = city
    refused = _publish(call, META | {"sharing": "unconditional", "level": "L4"})
    assert refused.status_code == 400
    assert "l4_not_unconditional" in json.dumps(refused.get_json())
    from policies import DatasetFacts, rules
    facts = DatasetFacts(id="x", version=1, provider="civil", sharing="unconditional",
                         level="L4", columns=("a",))
    assert rules.initial_status(facts) == "pending"  # even if such a row existed already
