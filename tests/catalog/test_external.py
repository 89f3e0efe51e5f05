"""External tables: a manifest pins a folder of Parquet files; a changed folder is refused."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog import (
    InvalidUpload,
    TableChanged,
    TableManifest,
    check_manifest,
    manifest_of,
    table_files,
)


def _part(folder, name, values):
    pq.write_table(pa.table({"姓名": values}), folder / name)


@pytest.fixture
def table(tmp_path):
    folder = tmp_path / "residents"
    folder.mkdir()
    _part(folder, "part-00000.parquet", ["张伟", "李娜"])
    _part(folder, "part-00001.parquet", ["王芳"])
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-00000.parquet.crc").write_bytes(b"crc")
    return folder


def test_manifest_lists_each_parquet_file_with_size_and_sha256(table):
    manifest = manifest_of(table)
    assert [e.path for e in manifest.files] == ["part-00000.parquet", "part-00001.parquet"]
    for entry in manifest.files:
        data = (table / entry.path).read_bytes()
        assert entry.size == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert TableManifest.from_dict(json.loads(json.dumps(manifest.to_dict()))) == manifest
    assert manifest.paths(table) == [table / "part-00000.parquet", table / "part-00001.parquet"]
    check_manifest(table, manifest)  # unchanged: no error


def _add(folder):
    _part(folder, "part-00002.parquet", ["赵磊"])


def _remove(folder):
    (folder / "part-00001.parquet").unlink()


def _rewrite_other_size(folder):
    _part(folder, "part-00001.parquet", ["王芳", "刘洋"])


def _flip_one_byte(folder):
    path = folder / "part-00000.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _replace(folder):
    _remove(folder)
    _add(folder)


@pytest.mark.parametrize("change, message", [
    (_add, r"added part-00002\.parquet$"),
    (_remove, r"removed part-00001\.parquet$"),
    (_rewrite_other_size, r"altered part-00001\.parquet$"),
    (_flip_one_byte, r"altered part-00000\.parquet$"),
    (_replace, r"added part-00002\.parquet; removed part-00001\.parquet$"),
])
def test_a_changed_folder_no_longer_matches_its_version(table, change, message):
    manifest = manifest_of(table)
    change(table)
    with pytest.raises(TableChanged, match=f"version {manifest.digest[:12]}: {message}"):
        check_manifest(table, manifest)
    assert manifest_of(table).digest != manifest.digest


def test_files_spark_skips_are_not_part_of_the_version(table):
    manifest = manifest_of(table)
    (table / "_SUCCESS").write_bytes(b"written again")
    (table / ".part-00001.parquet.crc").write_bytes(b"new crc")
    check_manifest(table, manifest)


def test_the_refusal_names_files_never_values(table):
    manifest = manifest_of(table)
    _part(table, "part-00000.parquet", ["张伟", "李娜娜"])
    with pytest.raises(TableChanged) as caught:
        check_manifest(table, manifest)
    assert "张伟" not in str(caught.value) and "李娜" not in str(caught.value)


@pytest.mark.parametrize("make, message", [
    (lambda f: (f / "notes.txt").write_text("not a table"), r"notes\.txt .* not a Parquet file"),
    (lambda f: (f / "year=2026").mkdir(), r"sub-folder \(year=2026\)"),
    (lambda f: pq.write_table(pa.table({"名字": ["赵磊"]}), f / "part-00002.parquet"),
     r"part-00002\.parquet has other columns"),
])
def test_a_folder_that_is_not_a_flat_parquet_table_is_refused(table, make, message):
    assert table_files(table) == [table / "part-00000.parquet", table / "part-00001.parquet"]
    make(table)
    with pytest.raises(InvalidUpload, match=message):
        manifest_of(table)
    with pytest.raises(InvalidUpload, match=message):
        table_files(table)


def test_an_empty_folder_or_a_file_is_refused(tmp_path):
    with pytest.raises(InvalidUpload, match="no Parquet file"):
        manifest_of(tmp_path)
    (tmp_path / "one.parquet").write_bytes(b"PAR1")
    with pytest.raises(InvalidUpload, match="is not a folder"):
        manifest_of(tmp_path / "one.parquet")


def test_a_malformed_manifest_is_refused():
    with pytest.raises(InvalidUpload, match="malformed"):
        TableManifest.from_dict({"files": [{"path": "a.parquet"}]})
    with pytest.raises(InvalidUpload, match="no files"):
        TableManifest.from_dict({"files": []})

