"""External tables: a folder of Parquet files registered where it lies, masked by Spark on
delivery with the grant's plan and the recipient's key — the rows equal those of the same table
delivered on one machine — and refused once the folder no longer matches its version.

Spark is heavy (a JVM): these tests run in the PostgreSQL pass of ``make test`` only.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from catalog import formats
from exchange import models
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.demo.data import mobile_number, resident_id
from exchange.errors import InvalidInput
from exchange.services import Services
from exchange.usecases import access, delivery, publishing

from .conftest import new_instance

pytestmark = pytest.mark.postgresql_pass

STEWARD = Principal("civil-steward", "", "civil", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
PLAN = {"姓名": "mask", "身份证号": "hash", "手机号": "mask", "备注": "scrub", "金额": "keep"}
META = {"title": "居民名单", "sharing": "conditional", "level": "L2",
        "confirm_personal_data": True}


def _rows(count: int, seed: int) -> list[dict[str, str | None]]:
    rng = random.Random(seed)
    return [{"姓名": rng.choice("王李张刘陈") + rng.choice("伟芳娜敏静"),
             "身份证号": resident_id(rng), "手机号": mobile_number(rng),
             "备注": f"请回电{mobile_number(rng)}" if i % 4 == 0 else None,
             "金额": str(rng.randrange(100, 9000))} for i in range(count)]


def _write_folder(folder: Path, rows: list[dict], parts: int) -> None:
    folder.mkdir(parents=True)
    size = -(-len(rows) // parts)
    for n in range(parts):
        chunk = rows[n * size:(n + 1) * size]
        pq.write_table(pa.Table.from_pylist(chunk), folder / f"part-{n:03d}.parquet")


@pytest.fixture(scope="module")
def instance(tmp_path_factory, settings_for, spark) -> SimpleNamespace:
    home = tmp_path_factory.mktemp("external-home")
    shared = tmp_path_factory.mktemp("shared")
    settings = load_settings(settings_for(home) | {"external_roots": [shared]}, environ={})
    svc, _ = new_instance(settings, STEWARD, TAX)
    rows = _rows(300, seed=3)
    _write_folder(shared / "residents", rows, parts=3)
    return SimpleNamespace(svc=svc, shared=shared, rows=rows, home=home)


def _grant(svc: Services, dataset_id: str) -> str:
    request = access.create_request(svc, TAX, dataset_id=dataset_id, purpose="核对纳税人身份",
                                    columns=list(PLAN))
    return access.approve(svc, STEWARD, request["id"], masking=PLAN)["grant_id"]


def _delivered_rows(svc: Services, grant: str) -> list[tuple]:
    done = delivery.deliver(svc, TAX, grant, fmt="csv")
    blocks, *_ = delivery.exchange_data(svc, TAX, done["id"])
    text = b"".join(blocks).decode("utf-8")
    return sorted(tuple(r) for r in csv.reader(io.StringIO(text)))


def test_an_external_table_is_delivered_as_the_same_table_on_one_machine(instance):
    svc = instance.svc
    external = publishing.register_external(svc, STEWARD,
                                            location=str(instance.shared / "residents"),
                                            metadata=META)
    uploaded = publishing.publish(svc, STEWARD, filename="residents.csv", metadata=META,
                                  data=formats.write_table(_frame(instance.rows), fmt="csv"))

    assert external["row_count"] == 300 and external["external"]["files"] == 3
    assert [c["profile"]["entity"] for c in external["columns"]] == [
        c["profile"]["entity"] for c in uploaded["columns"]]
    by_spark = _delivered_rows(svc, _grant(svc, external["id"]))
    on_one_machine = _delivered_rows(svc, _grant(svc, uploaded["id"]))
    assert by_spark == on_one_machine  # pseudonyms included: the same key, the same kernels
    delivered = "\n".join(",".join(r) for r in by_spark)
    assert len(by_spark) == 301  # the header and every row
    assert not any(r["手机号"] in delivered or r["身份证号"] in delivered for r in instance.rows)


def test_a_folder_that_changed_since_its_version_delivers_nothing(instance):
    svc = instance.svc
    folder = instance.shared / "changing"
    _write_folder(folder, _rows(40, seed=5), parts=2)
    dataset = publishing.register_external(svc, STEWARD, location=str(folder), metadata=META)
    grant = _grant(svc, dataset["id"])
    pq.write_table(pa.Table.from_pylist(_rows(5, seed=6)), folder / "part-late.parquet")
    with svc.reader.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(models.exchanges)).scalar()

    from catalog import TableChanged
    with pytest.raises(TableChanged, match="added part-late.parquet"):
        delivery.deliver(svc, TAX, grant)

    with svc.reader.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(models.exchanges)).scalar()
    assert after == before


@pytest.mark.parametrize("where, code", [
    (lambda shared, tmp: str(tmp), "external_location_outside"),          # outside the roots
    (lambda shared, tmp: "residents", "external_location_outside"),       # not absolute
    (lambda shared, tmp: str(shared / "link"), "external_location_outside"),  # a link out
    (lambda shared, tmp: str(shared / "nothing"), "external_not_a_folder"),
])
def test_only_a_folder_inside_the_roots_may_be_registered(instance, tmp_path, where, code):
    outside = tmp_path / "elsewhere"
    _write_folder(outside, _rows(5, seed=7), parts=1)
    link = instance.shared / "link"
    if not link.exists():
        link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput) as refused:
        publishing.register_external(instance.svc, STEWARD,
                                     location=where(instance.shared, outside), metadata=META)
    assert refused.value.code == code


def test_an_exchange_without_roots_registers_no_external_table(tmp_path, settings_for):
    settings = load_settings(settings_for(tmp_path / "home"), environ={})
    svc, _ = new_instance(settings, STEWARD)
    with pytest.raises(InvalidInput) as refused:
        publishing.register_external(svc, STEWARD, location=str(tmp_path), metadata=META)
    assert refused.value.code == "external_tables_off"


def _frame(rows: list[dict]):
    import pandas as pd
    return pd.DataFrame(rows).astype("string")


def test_a_rewritten_folder_becomes_the_next_version_read_by_spark_in_scope(instance):
    """The nightly job rewrote the folder: deliveries are refused until its steward records
    the next version; then a grant that follows the latest reads it — through Spark, only the
    rows in its scope — while a grant pinned to the first stays refused."""
    from catalog import TableChanged

    svc = instance.svc
    folder = instance.shared / "nightly"
    first = _rows(40, seed=7)
    _write_folder(folder, first, parts=2)
    dataset = publishing.register_external(svc, STEWARD, location=str(folder), metadata=META)
    asked = [access.create_request(svc, TAX, dataset_id=dataset["id"], purpose="核对纳税人身份",
                                   columns=list(PLAN))["id"] for _ in range(2)]
    late = _rows(8, seed=8)
    amounts = sorted({r["金额"] for r in (first + late)[::3]})
    latest = access.approve(svc, STEWARD, asked[0], masking=PLAN,
                            rows={"金额": amounts})["grant_id"]
    pinned = access.approve(svc, STEWARD, asked[1], masking=PLAN, follows="pinned")["grant_id"]
    pq.write_table(pa.Table.from_pylist(late), folder / "part-late.parquet")
    with pytest.raises(TableChanged):
        delivery.deliver(svc, TAX, latest)

    second = publishing.add_external_version(svc, STEWARD, dataset["id"],
                                             options={"confirm_personal_data": True})
    assert second["version"] == 2 and second["row_count"] == 48
    delivered = _delivered_rows(svc, latest)
    header = next(r for r in delivered if r[0] == "姓名")
    rows = [dict(zip(header, r, strict=True)) for r in delivered if r is not header]
    expected = [r for r in first + late if r["金额"] in amounts]
    assert sorted(r["金额"] for r in rows) == sorted(r["金额"] for r in expected)
    assert 0 < len(rows) < 48
    with pytest.raises(TableChanged):
        delivery.deliver(svc, TAX, pinned)
    with pytest.raises(InvalidInput):  # a dataset that is no folder names one
        uploaded = publishing.publish(svc, STEWARD, filename="r.csv", metadata=META,
                                      data=formats.write_table(_frame(first), fmt="csv"))
        publishing.add_external_version(svc, STEWARD, uploaded["id"])
