"""The catalog's tables: datasets, versions, search and profile corrections."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from catalog import metadata, repository
from catalog.errors import ColumnNotFound, DatasetNotFound, InvalidUpload

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)
DIGEST = hashlib.sha256(b"payload").hexdigest()
COLUMNS = [{"name": "姓名", "dtype": "string", "profile": {"kind": "identifier",
                                                         "entity": "PERSON"}},
           {"name": "身份证号", "dtype": "string", "profile": None},
           {"name": "救助金额", "dtype": "string", "profile": None}]


@pytest.fixture
def engine(tmp_path: Path, database_url) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url(tmp_path))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.begin() as connection:
        yield connection


def dataset(conn: sa.Connection, **overrides: Any) -> str:
    fields = dict(department="civil", title="低保对象名单", description="城市最低生活保障对象",
                  sharing="conditional", level="L3", legal_basis=None, keywords="低保 救助",
                  created_by="bob", now=NOW) | overrides
    return repository.add_dataset(conn, **fields)


def version(conn: sa.Connection, dataset_id: str, **overrides: Any) -> int:
    fields = dict(sha256=DIGEST, format="csv", filename="低保.csv", row_count=3, byte_size=120,
                  columns=COLUMNS, quality={"success": True, "checked_rows": 3, "results": []},
                  quality_passed=True, created_by="bob", now=NOW) | overrides
    return repository.add_version(conn, dataset_id, **fields)


def test_add_and_get_with_current_version(conn: sa.Connection) -> None:
    dataset_id = dataset(conn)
    assert dataset_id.startswith("ds_") and len(dataset_id) == 15
    assert repository.get_dataset(conn, dataset_id).version is None
    assert version(conn, dataset_id) == 1
    assert version(conn, dataset_id, row_count=4, filename="低保2.csv") == 2
    found = repository.get_dataset(conn, dataset_id)
    assert (found.title, found.sharing, found.level, found.current_version) == (
        "低保对象名单", "conditional", "L3", 2)
    assert found.created_at == NOW  # the zone survives SQLite
    assert found.version is not None and found.version.row_count == 4
    assert found.version.column_names == ["姓名", "身份证号", "救助金额"]
    assert found.version.columns[0]["profile"] == {"kind": "identifier", "entity": "PERSON"}
    assert repository.get_version(conn, dataset_id, 1).filename == "低保.csv"


def test_nothing_is_committed_by_the_repository(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        dataset_id = dataset(conn)
        conn.rollback()
    with engine.connect() as conn, pytest.raises(DatasetNotFound):
        repository.get_dataset(conn, dataset_id)


@pytest.mark.parametrize(("getter", "message"), [
    (lambda c: repository.get_dataset(c, "ds_000000000000"), "no dataset ds_000000000000"),
    (lambda c: repository.get_version(c, "ds_000000000000", 1), "no version 1"),
    (lambda c: version(c, "ds_000000000000"), "no dataset"),
])
def test_missing_dataset(conn: sa.Connection, getter: Any, message: str) -> None:
    with pytest.raises(DatasetNotFound, match=message):
        getter(conn)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sharing": "public"}, "sharing must be one of"),
    ({"level": "L5"}, "level must be one of"),
    ({"sharing": "none", "legal_basis": "  "}, "needs its legal basis"),
    ({"title": " "}, "needs a title"),
    ({"department": ""}, "needs a department"),
])
def test_invalid_dataset_metadata(conn: sa.Connection, overrides: dict, message: str) -> None:
    with pytest.raises(InvalidUpload, match=message):
        dataset(conn, **overrides)


def test_not_shareable_dataset_keeps_its_legal_basis(conn: sa.Connection) -> None:
    dataset_id = dataset(conn, sharing="none", legal_basis="《个人信息保护法》第二十八条")
    assert repository.get_dataset(conn, dataset_id).legal_basis == "《个人信息保护法》第二十八条"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sha256": "abc"}, "sha256"),
    ({"format": "xls"}, "format must be one of"),
    ({"row_count": -1}, "cannot be negative"),
    ({"columns": []}, "non-empty list"),
    ({"columns": [{"name": "a"}, {"name": "a"}]}, "distinct"),
])
def test_invalid_version(conn: sa.Connection, overrides: dict, message: str) -> None:
    dataset_id = dataset(conn)
    with pytest.raises(InvalidUpload, match=message):
        version(conn, dataset_id, **overrides)


@pytest.fixture
def three(conn: sa.Connection) -> dict[str, str]:
    ids = {"dibao": dataset(conn),
           "permits": dataset(conn, department="market", title="营业执照登记",
                              description="企业 Registration", sharing="unconditional",
                              level="L1", keywords="统一社会信用代码", now=NOW + dt.timedelta(1)),
           "hidden": dataset(conn, department="health", title="病案首页", description="",
                             sharing="none",
                             legal_basis="法律规定", level="L4", keywords="",
                             now=NOW + dt.timedelta(2))}
    version(conn, ids["dibao"])
    version(conn, ids["permits"], columns=[{"name": "企业名称", "dtype": "string",
                                            "profile": None}])
    return ids


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, ["hidden", "permits", "dibao"]),
    ({"q": "低保"}, ["dibao"]),  # title
    ({"q": "生活保障"}, ["dibao"]),  # description
    ({"q": "信用代码"}, ["permits"]),  # keywords
    ({"q": "身份证"}, ["dibao"]),  # a column name
    ({"q": "registration"}, ["permits"]),  # case-insensitive
    ({"q": "低保 身份证号"}, ["dibao"]),  # every word must match
    ({"q": "低保 企业"}, []),
    ({"q": "100%"}, []),  # punctuation is dropped: 100 matches nothing
    ({"q": "_"}, ["hidden", "permits", "dibao"]),  # no word: no query
    ({"q": "低保 __ 的"}, ["dibao"]),
    ({"department": "market"}, ["permits"]),
    ({"sharing": "none"}, ["hidden"]),
    ({"level": "L3"}, ["dibao"]),
    ({"q": "企业名称", "level": "L1"}, ["permits"]),
    ({"q": "企业名称", "level": "L3"}, []),
    ({"limit": 1}, ["hidden"]),
])
def test_search(conn: sa.Connection, three: dict[str, str], filters: dict,
                expected: list[str]) -> None:
    names = {v: k for k, v in three.items()}
    assert [names[d.id] for d in repository.search_datasets(conn, **filters)] == expected


def test_search_returns_current_versions(conn: sa.Connection, three: dict[str, str]) -> None:
    found = {d.id: d for d in repository.search_datasets(conn)}
    assert found[three["dibao"]].version.sha256 == DIGEST
    assert found[three["hidden"]].version is None


def test_list_departments_datasets(conn: sa.Connection, three: dict[str, str]) -> None:
    assert [d.id for d in repository.list_departments_datasets(conn, "market")] == [
        three["permits"]]
    assert repository.list_departments_datasets(conn, "nobody") == []


def test_steward_corrects_a_column_profile(conn: sa.Connection) -> None:
    dataset_id = dataset(conn)
    version(conn, dataset_id)
    corrected = {"kind": "identifier", "entity": "CN_RESIDENT_ID", "confirmed_by": "bob"}
    updated = repository.update_column_profile(conn, dataset_id, 1, "身份证号", corrected)
    assert updated.columns[1]["profile"] == corrected
    assert updated.columns[0]["profile"]["entity"] == "PERSON"  # others untouched
    again = repository.get_dataset(conn, dataset_id).version
    assert again is not None and again.columns[1]["profile"] == corrected
    repository.update_column_profile(conn, dataset_id, 1, "姓名", None)
    assert repository.get_version(conn, dataset_id, 1).columns[0]["profile"] is None


def test_profile_update_of_unknown_column_or_version(conn: sa.Connection) -> None:
    dataset_id = dataset(conn)
    version(conn, dataset_id)
    with pytest.raises(ColumnNotFound, match="no column '住址'"):
        repository.update_column_profile(conn, dataset_id, 1, "住址", {})
    with pytest.raises(DatasetNotFound, match="no version 2"):
        repository.update_column_profile(conn, dataset_id, 2, "姓名", {})


def test_to_dict_is_json_ready(conn: sa.Connection) -> None:
    import json

    dataset_id = dataset(conn)
    version(conn, dataset_id)
    shown = json.loads(json.dumps(repository.get_dataset(conn, dataset_id).to_dict()))
    assert shown["version"]["columns"][1]["name"] == "身份证号"
    assert shown["created_at"] == NOW.isoformat()
