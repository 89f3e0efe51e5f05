"""The delivery streams: read in chunks from the encrypted store, masked chunk by chunk, written
encrypted and hashed as it goes, stored only with its audit entry.

A fresh instance of its own (the shared demo one is not altered): civil publishes, tax and
health receive under grants that hash, mask and generalize.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa

from catalog import formats, repository
from catalog.errors import PayloadCorrupt
from exchange import models
from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.demo.data import mobile_number, resident_id
from exchange.receipts import verify_receipt
from exchange.services import Services
from exchange.usecases import delivery, masking_plan
from exchange.usecases.access import approve, create_request
from exchange.usecases.admin import create_user, ensure_department, init_instance
from exchange.usecases.publishing import publish

ROWS, CHUNK = 400, 37  # 11 chunks, the last one short
REPEAT = 200  # row i and row i + REPEAT hold the same person: different chunks
PLAN = {"姓名": "mask", "身份证号": "hash", "联系电话": "mask", "出生日期": "generalize",
        "金额": "keep", "备注": "scrub"}
STEWARD = Principal("civil-steward", "", "civil", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
HEALTH = Principal("health-requester", "", "health", "requester")
# the memory test: a table many times the chunk, in a child process of its own
MEMORY_ROWS, MEMORY_CHUNK = 120_000, 2_000
MEMORY_BOUND_MB = 48
# RSS follows live memory only if neither allocator keeps what was freed: Arrow allocates from
# the C heap, and glibc returns every block over 128 KiB at once (no dynamic mmap threshold)
LIVE_MEMORY = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_MMAP_THRESHOLD_": "131072"}


def _people(rows: int, *, seed: int, free_text: bool = True) -> pd.DataFrame:
    rng = random.Random(seed)
    births = [dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
              for _ in range(rows)]
    frame = pd.DataFrame({
        "姓名": [rng.choice("王李张刘陈杨黄赵") + rng.choice("伟芳娜敏静丽强磊")
                 for _ in range(rows)],
        "身份证号": [resident_id(rng, birth=b) for b in births],
        "联系电话": [mobile_number(rng) for _ in range(rows)],
        "出生日期": [b.isoformat() for b in births],
        "金额": [str(rng.randrange(100, 9_000)) for _ in range(rows)],
    })
    if free_text:
        frame["备注"] = [f"本人电话{m}，请回电" if i % 3 else None
                       for i, m in enumerate(frame["联系电话"])]
    if rows > REPEAT:
        frame.iloc[REPEAT:2 * REPEAT] = frame.iloc[:REPEAT].to_numpy()
    return frame


def _grant(svc: Services, who: Principal, dataset_id: str, plan: dict[str, str]) -> str:
    request = create_request(svc, who, dataset_id=dataset_id, purpose="测试",
                             columns=list(plan))
    return approve(svc, STEWARD, request["id"], masking=plan)["grant_id"]


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, settings_for) -> SimpleNamespace:
    home = tmp_path_factory.mktemp("delivery-home")
    settings = load_settings(settings_for(home), environ={})
    init_instance(settings)
    svc = Services(settings)
    tokens = {}
    for code in ("civil", "tax", "health"):
        ensure_department(svc, code, code, code)
    for who in (STEWARD, TAX, HEALTH):
        tokens[who.department] = create_user(svc, username=who.username, password="pw-" * 5,
                                             role=who.role, department=who.department)
    source = formats.write_table(_people(ROWS, seed=1), fmt="csv")
    people = publish(svc, STEWARD, filename="名单.csv", data=source, metadata={
        "title": "名单", "sharing": "conditional", "level": "L2",
        "confirm_personal_data": True})
    # a steward's correction: 联系电话 holds no identifier. Delivered masks must follow it, not
    # what profiling the first chunk would say (a mobile number).
    with svc.engine.begin() as conn:
        version = repository.get_version(conn, people["id"], 1)
        profile = next(c["profile"] for c in version.columns if c["name"] == "联系电话")
        repository.update_column_profile(conn, people["id"], 1, "联系电话",
                                         dict(profile, kind="none", entity=None))
    large = publish(svc, STEWARD, filename="大名单.csv", data=formats.write_table(
        _people(MEMORY_ROWS, seed=2, free_text=False), fmt="csv"), metadata={
        "title": "大名单", "sharing": "conditional", "level": "L2",
        "confirm_personal_data": True})
    structured = {c: op for c, op in PLAN.items() if c != "备注"}
    app = create_app(services=svc)
    app.config["TESTING"] = True
    return SimpleNamespace(
        home=home, svc=svc, app=app, tokens=tokens, people=people, large=large, source=source,
        tax=_grant(svc, TAX, people["id"], PLAN), health=_grant(svc, HEALTH, people["id"], PLAN),
        tax_large=_grant(svc, TAX, large["id"], structured),
        tax_small=_grant(svc, TAX, people["id"], structured))


def _deliver_api(instance: SimpleNamespace, grant_id: str, fmt: str, *,
                 chunk_rows: int) -> tuple[dict, bytes]:
    instance.svc.delivery_chunk_rows = chunk_rows
    client = instance.app.test_client()
    headers = {"Authorization": f"Bearer {instance.tokens['tax']}"}
    done = client.post(f"/api/v1/grants/{grant_id}/exchanges", json={"format": fmt},
                       headers=headers)
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    download = client.get(body["data_url"], headers=headers)
    data = download.data
    assert download.headers["Content-Length"] == str(len(data))  # a client sees a cut-off
    assert download.headers["Content-Type"] == formats.media_type(fmt)  # charset once
    return body, data


def _whole_table(instance: SimpleNamespace, receiver: str) -> pd.DataFrame:
    """What the delivery gave before it streamed: the whole table masked at once."""
    from masking import ColumnRule, mask_table

    svc = instance.svc
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, instance.people["id"])
    entities = {c["name"]: (c.get("profile") or {}).get("entity") for c in dataset.version.columns}
    frame = formats.read_table(svc.store.get(dataset.version.sha256), fmt="csv")[list(PLAN)]
    return mask_table(frame, {c: ColumnRule(op, entities[c]) for c, op in PLAN.items()},
                      hash_key=svc.master.pseudonym_key(receiver), analyzer=svc.analyzer())


def _cells(frame: pd.DataFrame) -> list[list[str | None]]:
    return frame.astype(object).where(frame.notna(), None).to_numpy().tolist()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_delivery_in_many_chunks_is_the_table_masked_in_one_go(instance, fmt):
    chunked, data = _deliver_api(instance, instance.tax, fmt, chunk_rows=CHUNK)
    whole, whole_data = _deliver_api(instance, instance.tax, fmt, chunk_rows=10 * ROWS)
    if fmt != "parquet":  # Parquet row groups follow the chunks; its values are compared below
        assert data == whole_data and chunked["sha256"] == whole["sha256"]
    delivered = formats.read_table(data, fmt=fmt)
    assert list(delivered.columns) == list(PLAN) and chunked["row_count"] == ROWS
    assert _cells(delivered) == _cells(_whole_table(instance, "tax"))
    # the receipt, the audit entry and the stored record all name the bytes received
    with instance.svc.reader.connect() as conn:
        manifest = verify_receipt(chunked["receipt"], jwks=instance.svc.keys.jwks(conn),
                                  data=data)
        size = conn.execute(sa.select(models.exchanges.c.byte_size).where(
            models.exchanges.c.id == chunked["id"])).scalar_one()
    digest = hashlib.sha256(data).hexdigest()
    assert manifest["sha256"] == chunked["audit_entry"]["sha256"] == digest
    assert size == len(data) and manifest["row_count"] == ROWS


def test_pseudonyms_hold_across_chunks_and_differ_between_departments(instance):
    _, tax = _deliver_api(instance, instance.tax, "csv", chunk_rows=CHUNK)
    ids = formats.read_table(tax, fmt="csv")["身份证号"].tolist()
    source = formats.read_table(instance.source, fmt="csv")["身份证号"].tolist()
    assert ids[:REPEAT] == ids[REPEAT:2 * REPEAT]  # the same person, chunks apart
    assert len(set(ids[:REPEAT])) == len(set(source[:REPEAT]))
    assert not set(ids) & set(source)
    instance.svc.delivery_chunk_rows = CHUNK
    health = delivery.deliver(instance.svc, HEALTH, instance.health, fmt="csv")
    health_ids = formats.read_table(instance.svc.store.get(health["sha256"]),
                                    fmt="csv")["身份证号"].tolist()
    assert not set(health_ids) & set(ids)  # two departments cannot link their copies


def test_a_preview_shows_the_first_rows_as_delivered(instance):
    _, data = _deliver_api(instance, instance.tax, "csv", chunk_rows=CHUNK)
    with instance.svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, instance.people["id"])
    with masking_plan.masked_chunks(instance.svc, dataset, PLAN, receiver="tax",
                                chunk_rows=3) as (columns, chunks):
        first = next(chunks)
    expected = _cells(formats.read_table(data, fmt="csv").head(3))
    assert columns == list(PLAN) and first.num_rows == 3
    assert [list(row) for row in zip(*(first.column(c).to_pylist() for c in columns))] \
        == expected


def _payload_files(instance: SimpleNamespace) -> set[Path]:
    return {p for p in (instance.home / "payloads").rglob("*") if p.is_file()}


def _exchange_count(instance: SimpleNamespace) -> int:
    with instance.svc.reader.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(models.exchanges)).scalar()


def test_a_failed_audit_append_delivers_and_stores_nothing(instance, refusing_inserts):
    before, count = _payload_files(instance), _exchange_count(instance)
    with refusing_inserts(instance.svc.engine, "audit_entries", "audit store refused"):
        with pytest.raises(sa.exc.DBAPIError, match="audit store refused"):
            delivery.deliver(instance.svc, TAX, instance.tax_small, fmt="jsonl")
        response = instance.app.test_client().post(
            f"/api/v1/grants/{instance.tax_small}/exchanges", json={"format": "jsonl"},
            headers={"Authorization": f"Bearer {instance.tokens['tax']}"})
        assert response.status_code == 500 and "refused" not in response.get_data(as_text=True)
    assert _payload_files(instance) == before and _exchange_count(instance) == count
    done = delivery.deliver(instance.svc, TAX, instance.tax_small, fmt="jsonl")
    assert _payload_files(instance) - before == {instance.svc.store.path_for(done["sha256"])}


def test_a_failed_publish_stores_nothing(instance, refusing_inserts):
    before = _payload_files(instance)
    data = formats.write_table(_people(50, seed=3), fmt="csv")
    with refusing_inserts(instance.svc.engine, "audit_entries", "audit store refused"):
        with pytest.raises(sa.exc.DBAPIError, match="audit store refused"):
            publish(instance.svc, STEWARD, filename="新名单.csv", data=data,
                    metadata={"title": "新名单", "sharing": "conditional", "level": "L2",
                              "confirm_personal_data": True})
    assert _payload_files(instance) == before
    assert not instance.svc.store.exists(hashlib.sha256(data).hexdigest())


def test_a_payload_corrupt_halfway_delivers_and_stores_nothing(instance):
    path = instance.svc.store.path_for(instance.large["sha256"])
    sealed = path.read_bytes()
    before, count = _payload_files(instance), _exchange_count(instance)
    altered = bytearray(sealed)
    altered[len(sealed) // 2] ^= 1  # a segment in the middle: the first chunks go through
    path.write_bytes(bytes(altered))
    try:
        instance.svc.delivery_chunk_rows = MEMORY_CHUNK
        with pytest.raises(PayloadCorrupt, match="altered"):
            delivery.deliver(instance.svc, TAX, instance.tax_large, fmt="csv")
    finally:
        path.write_bytes(sealed)
    assert _payload_files(instance) - {path} == before - {path}
    assert _exchange_count(instance) == count


def test_memory_follows_the_chunk_not_the_dataset(instance):
    """In a child process, after a warm-up: the peak RSS growth of a chunked delivery of a
    table 60 chunks long stays under the bound, and the same measure of the old whole-table
    path (the control) exceeds it, so the bound can fail."""
    out = subprocess.run(
        [sys.executable, __file__, str(instance.home), instance.svc.settings.db_url,
         instance.tax_small, instance.tax_large],
        check=True, capture_output=True, text=True, timeout=600,
        env=os.environ | LIVE_MEMORY)
    rise = json.loads(out.stdout.strip().splitlines()[-1])
    print("peak RSS rise", rise)
    assert rise["rows"] == MEMORY_ROWS
    assert rise["chunked_mb"] < MEMORY_BOUND_MB < rise["whole_mb"], rise


# --- the child process of the memory test ------------------------------------------------------


def _rss_rise(step: Callable[[], object]) -> float:
    import gc

    def status() -> dict[str, int]:
        lines = Path("/proc/self/status").read_text().splitlines()
        return {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in lines)
                if k in ("VmRSS", "VmHWM")}
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
    before = status()["VmRSS"]
    step()
    return (status()["VmHWM"] - before) / 1024


def _memory_child(home: str, database_url: str, small: str, large: str) -> None:
    from masking import ColumnRule, mask_table
    from policies import workflow

    svc = Services(load_settings({"home": home, "database_url": database_url}, environ={}),
                   delivery_chunk_rows=MEMORY_CHUNK)
    delivery.deliver(svc, TAX, small, fmt="csv")  # warm-up: imports, analyzer, caches
    done: dict = {}
    chunked = _rss_rise(lambda: done.update(delivery.deliver(svc, TAX, large, fmt="csv")))

    def whole() -> None:
        with svc.reader.connect() as conn:
            grant = workflow.get_grant(conn, large)
            dataset = repository.get_dataset(conn, grant.dataset_id)
        frame = formats.read_table(svc.store.get(dataset.version.sha256), fmt="csv")
        entities = {c["name"]: c["profile"]["entity"] for c in dataset.version.columns}
        masked = mask_table(frame[list(grant.columns)],
                            {c: ColumnRule(op, entities[c]) for c, op in grant.masking.items()},
                            hash_key=svc.master.pseudonym_key("tax"), analyzer=svc.analyzer())
        io.BytesIO(formats.write_table(masked, fmt="csv"))
    print(json.dumps({"rows": done["row_count"], "chunked_mb": chunked,
                      "whole_mb": _rss_rise(whole)}))


if __name__ == "__main__":
    _memory_child(*sys.argv[1:5])


def test_a_sweep_after_a_crash_keeps_every_recorded_payload(instance):
    """What a killed server leaves (a payload stored, its record never committed) is removed
    at the next start; datasets and deliveries still read."""
    import os
    body, delivered = _deliver_api(instance, instance.tax_small, "csv", chunk_rows=50)
    svc = instance.svc
    orphan = svc.store.put("姓名\n未提交的交付\n".encode())
    for path in svc.store.root.rglob("*"):
        if path.is_file():
            os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 7200))
    swept = svc.sweep_payloads(older_than=3600)
    assert (swept.temporary_files, swept.unreferenced_payloads) == (0, 1)
    assert not svc.store.exists(orphan)
    again = svc.sweep_payloads(older_than=3600)
    assert again.unreferenced_payloads == 0
    headers = {"Authorization": f"Bearer {instance.tokens['tax']}"}
    assert instance.app.test_client().get(body["data_url"], headers=headers).data == delivered
    for dataset in (instance.people, instance.large):
        with svc.reader.connect() as conn:
            version = repository.get_version(conn, dataset["id"], 1)
        assert svc.store.exists(version.sha256)
