"""``govex mask --engine spark``: a Parquet folder masked by Spark as the local engine masks the
same rows in one file; what the Spark engine cannot read is refused before Spark starts."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from exchange.cli import cli
from exchange.demo.data import generate_demo_datasets
from exchange.keys import MasterKey

ROWS = 120
CHUNK = 40  # the fixture session's Arrow batch size: the CLI sets it on the session it reuses


@pytest.fixture(scope="module")
def residents(tmp_path_factory):
    """The demo registry as one Parquet file and as a folder of three files (same rows)."""
    frame = generate_demo_datasets(rows=ROWS)[0].frame
    table = pa.Table.from_pandas(frame, preserve_index=False)
    where = tmp_path_factory.mktemp("cli-spark")
    pq.write_table(table, where / "residents.parquet")
    (where / "folder").mkdir()
    for number, start in enumerate(range(0, ROWS, 50)):
        pq.write_table(table.slice(start, 50), where / "folder" / f"part-{number}.parquet")
    (where / "folder" / "_SUCCESS").write_bytes(b"")
    return where


def _invoke(*args):
    return CliRunner().invoke(cli, ["mask", *map(str, args)], env={"GOVEX_SECRET": ""},
                              catch_exceptions=False)


def _rows(table):
    rows = zip(*(table.column(name).to_pylist() for name in table.column_names))
    return sorted(rows, key=lambda row: tuple("" if v is None else v for v in row))


def test_spark_engine_delivers_what_the_local_engine_delivers(spark, residents, tmp_path):
    home = tmp_path / "home"
    MasterKey.load(secret=None, home=home)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"身份证号": "hash", "手机号": "hash", "性别": "drop"}))
    common = ["--policy", policy, "--recipient", "civil", "--home", home, "--chunk-rows", CHUNK]
    local = _invoke(residents / "residents.parquet", "-o", tmp_path / "local.parquet",
                    "--report", tmp_path / "local.json", *common)
    assert local.exit_code == 0, local.output
    result = _invoke(residents / "folder", "-o", tmp_path / "out", "--engine", "spark",
                     "--report", tmp_path / "spark.json", "--spark-conf",
                     "spark.sql.shuffle.partitions=2", *common)
    assert result.exit_code == 0, result.output
    assert f"masked {ROWS} rows, 6 columns (1 dropped)" in result.output
    spark_rows = pq.read_table(tmp_path / "out")
    local_rows = pq.read_table(tmp_path / "local.parquet")
    assert spark_rows.column_names == local_rows.column_names
    assert _rows(spark_rows) == _rows(local_rows)
    spark_report = json.loads((tmp_path / "spark.json").read_text(encoding="utf-8"))
    local_report = json.loads((tmp_path / "local.json").read_text(encoding="utf-8"))
    assert spark_report["columns"] == local_report["columns"]
    assert (spark_report["engine"], spark_report["files"], spark_report["rows"]) == (
        "spark", 3, ROWS)
    assert spark_report["recipient"] == "civil"


def _csv(path):
    path.write_text("姓名\n张伟\n", encoding="utf-8")
    return path


def _folder_with_notes(path):
    path.mkdir()
    pq.write_table(pa.table({"姓名": ["张伟"]}), path / "part-0.parquet")
    (path / "notes.txt").write_text("说明")
    return path


def _folder(path):
    path.mkdir()
    pq.write_table(pa.table({"姓名": ["张伟"]}), path / "part-0.parquet")
    return path


@pytest.mark.parametrize("make, args, message", [
    (_csv, ["--engine", "spark"], "--engine spark reads Parquet only (INPUT is csv)"),
    (_folder_with_notes, ["--engine", "spark"], "notes.txt in the table's folder is not a Parquet"),
    (_folder, [], "INPUT is a folder: a folder of Parquet files is masked with --engine spark"),
    (_folder, ["--engine", "spark", "--spark-conf", "no-equals"], "is not KEY=VALUE"),
])
def test_what_the_spark_engine_cannot_read_is_refused(tmp_path, make, args, message):
    source = make(tmp_path / ("in.csv" if make is _csv else "in"))
    result = _invoke(source, "-o", tmp_path / "out", *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_the_spark_engine_writes_a_new_folder_only(tmp_path):
    source = _folder(tmp_path / "in")
    (tmp_path / "out").mkdir()
    taken = _invoke(source, "-o", tmp_path / "out", "--engine", "spark")
    assert taken.exit_code == 1 and "OUTPUT exists" in taken.output
    inside = _invoke(source, "-o", source / "masked", "--engine", "spark")
    assert inside.exit_code == 1 and "OUTPUT must not be inside INPUT" in inside.output
