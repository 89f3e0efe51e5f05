"""The Spark engine on a real local[2] session: the single-machine path's rows, report and key."""

from __future__ import annotations

import base64
import socket
import types

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog import as_text_chunk, open_table
from exchange.demo.data import generate_demo_datasets
from masking import (
    ChunkedMasker,
    InvalidMaskingPlan,
    SparkJobFailed,
    mask_parquet,
    rules_from_policy,
)
from masking import spark as spark_engine

ROWS = 150
TEXTS = 12  # free text is the slow part: a few cells, the rest empty
KEY = bytes(range(100, 132))
OTHER_KEY = bytes(range(200, 232))
POLICY = {"身份证号": "hash", "手机号": "hash", "性别": "drop"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Spark's driver talks to its JVM and its Python workers over loopback: nothing else."""
    connect = socket.socket.connect

    def loopback_only(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
            return connect(sock, address)
        raise AssertionError(f"masking must not touch the network ({host})")

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """The demo resident registry with a free-text 备注 in a few rows, as one Parquet file and
    as a folder of three files holding the same rows."""
    sets = generate_demo_datasets(rows=ROWS)
    frame = sets[0].frame.copy()
    texts = sets[1].frame["诉求内容"].tolist()[:TEXTS]
    frame["备注"] = texts + [None] * (ROWS - TEXTS)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    folder = tmp_path_factory.mktemp("spark-table")
    single = folder / "residents.parquet"
    pq.write_table(arrow, single)
    parts = folder / "parts"
    parts.mkdir()
    for number, start in enumerate(range(0, ROWS, 50)):
        pq.write_table(arrow.slice(start, 50), parts / f"part-{number:05d}.parquet")
    return types.SimpleNamespace(single=single, parts=sorted(parts.iterdir()))


def _first_chunk(path):
    with open_table(path) as reader:
        return next(iter(reader))


def _local(path, policy, key):
    """What the single-machine path (``govex mask``) does: chunks, one plan, the report."""
    masker = ChunkedMasker(policy=rules_from_policy(policy), hash_key=key)
    with open_table(path) as reader:
        chunks = iter(reader)
        first = next(chunks)
        masker.plan(first)
        masked = [masker.mask(first)] + [masker.mask(chunk) for chunk in chunks]
    return pa.concat_tables(masked), [c.to_dict() for c in masker.report()]


def _sorted_rows(table):
    rows = zip(*(table.column(name).to_pylist() for name in table.column_names))
    return sorted(rows, key=lambda row: tuple("" if v is None else v for v in row))


def _mask(spark, table, out, key=KEY, policy=POLICY):
    return mask_parquet(spark, table.parts, out, policy=rules_from_policy(policy), hash_key=key,
                        first=_first_chunk(table.single), prepare=as_text_chunk)


def test_spark_delivers_the_single_machine_rows_and_report(spark, table, tmp_path):
    expected, report = _local(table.single, POLICY, KEY)
    result = _mask(spark, table, tmp_path / "out")
    written = pq.read_table(tmp_path / "out")
    assert written.column_names == expected.column_names == result.output_columns
    assert "性别" not in written.column_names  # dropped
    assert _sorted_rows(written) == _sorted_rows(expected)
    assert [c.to_dict() for c in result.columns] == report
    by_name = {c["column"]: c for c in report}
    assert by_name["身份证号"]["operator"] == "hash" and by_name["手机号"]["operator"] == "hash"
    assert by_name["姓名"]["entity"] == "PERSON" and by_name["姓名"]["operator"] == "mask"
    assert by_name["备注"]["kind"] == "free_text" and by_name["备注"]["operator"] == "scrub"
    assert by_name["备注"]["nulls"] == ROWS - TEXTS and 0 < by_name["备注"]["changed"] <= TEXTS
    assert result.rows == ROWS


def test_without_a_first_chunk_the_driver_profiles_what_spark_reads(spark, table, tmp_path):
    expected, report = _local(table.single, POLICY, KEY)
    result = mask_parquet(spark, table.single, tmp_path / "out", policy=rules_from_policy(POLICY),
                          hash_key=KEY, prepare=as_text_chunk)
    assert _sorted_rows(pq.read_table(tmp_path / "out")) == _sorted_rows(expected)
    assert [c.to_dict() for c in result.columns] == report


def test_another_recipient_gets_other_pseudonyms(spark, table, tmp_path):
    _mask(spark, table, tmp_path / "a")
    _mask(spark, table, tmp_path / "b", key=OTHER_KEY)
    first, second = pq.read_table(tmp_path / "a"), pq.read_table(tmp_path / "b")
    for column in ("身份证号", "手机号"):
        assert not set(first.column(column).to_pylist()) & set(second.column(column).to_pylist())
    assert sorted(first.column("姓名").to_pylist()) == sorted(second.column("姓名").to_pylist())


def test_the_key_stays_out_of_the_plan_the_conf_and_the_event_log(spark, spark_events, table,
                                                                  tmp_path):
    _mask(spark, table, tmp_path / "out")
    forms = [KEY.hex(), KEY.hex().upper(), base64.b64encode(KEY).decode(),
             base64.b32encode(KEY).decode()]
    conf = repr(spark.sparkContext.getConf().getAll()) + repr(spark.conf.getAll)
    assert not [form for form in forms if form in conf]
    logs = [path for path in spark_events.rglob("events_*") if path.is_file()]
    assert logs
    data = b"".join(path.read_bytes() for path in logs)
    assert b"MapInArrow" in data and b"MaskPartitions" in data  # the plans are in there
    assert KEY not in data
    assert not [form for form in forms if form.encode() in data]
    executed = spark._jsparkSession.sharedState().statusStore().executionsList()
    plans = [executed.apply(i).physicalPlanDescription() for i in range(executed.size())]
    assert any("MapInArrow" in plan for plan in plans)
    assert not [form for form in forms if any(form in plan for plan in plans)]


def test_a_plan_error_is_raised_before_any_job(spark, table, tmp_path):
    with pytest.raises(InvalidMaskingPlan, match="does not have"):
        _mask(spark, table, tmp_path / "out", policy={"没有这列": "drop"})
    with pytest.raises(InvalidMaskingPlan, match="drops every column"):
        _mask(spark, table, tmp_path / "out",
              policy={c: "drop" for c in pq.read_schema(table.single).names})
    assert not (tmp_path / "out").exists()


def test_an_executors_error_comes_back_in_our_words_without_the_value(spark, table, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(pa.table({"姓名": ["张伟"], "备注": ["秘密值\x01"]}), bad / "part-1.parquet")
    first = as_text_chunk(pa.table({"姓名": ["张伟"], "备注": ["无"]}))
    with pytest.raises(SparkJobFailed, match=r"column '备注': a control character") as caught:
        mask_parquet(spark, bad, tmp_path / "out", first=first, prepare=as_text_chunk)
    assert "秘密值" not in str(caught.value)


def test_a_cluster_without_authentication_and_encryption_is_refused(table, tmp_path):
    cluster = types.SimpleNamespace(sparkContext=types.SimpleNamespace(
        master="spark://cluster:7077", getConf=lambda: {"spark.authenticate": "true"}))
    with pytest.raises(InvalidMaskingPlan,
                       match="spark.network.crypto.enabled, spark.io.encryption.enabled"):
        _mask(cluster, table, tmp_path / "out")


def test_a_plan_too_large_for_the_closure_is_refused(spark, table, tmp_path, monkeypatch):
    monkeypatch.setattr(spark_engine, "MAX_CLOSURE_BYTES", 64)
    with pytest.raises(InvalidMaskingPlan, match="would broadcast it"):
        _mask(spark, table, tmp_path / "out")
    assert not (tmp_path / "out").exists()
