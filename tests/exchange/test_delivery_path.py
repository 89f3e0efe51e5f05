"""A delivery's path, counted: authorize → plan → mask into the store → record → evidence,
each step once; the purpose scrubbed once, when the request is made; a grant revoked while its
data is being masked delivers nothing.

The counters wrap the real functions (they still run); a fresh instance of its own.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from exchange import models
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.errors import Forbidden
from exchange.services import Services
from exchange.usecases import access, delivery
from exchange.usecases.publishing import publish
from policies import models as policy_models

from .conftest import new_instance

STEWARD = Principal("civil-steward", "", "civil", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
PURPOSE = "核查低保申请人张伟（手机13812345678）的家庭收入"
ROWS = [["姓名", "身份证号", "联系电话", "金额"],
        ["王伟", "11010519491231002X", "13812345678", "120"],
        ["李娜", "110105194912310037", "13912345678", "300"]]
PLAN = {"姓名": "mask", "身份证号": "hash", "联系电话": "mask", "金额": "keep"}


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, settings_for) -> SimpleNamespace:
    settings = load_settings(settings_for(tmp_path_factory.mktemp("path-home")), environ={})
    svc, _ = new_instance(settings, STEWARD, TAX)
    data = "\n".join(",".join(row) for row in ROWS).encode()
    dataset = publish(svc, STEWARD, filename="名单.csv", data=data,
                      metadata={"title": "名单", "sharing": "conditional", "level": "L2",
                                "confirm_personal_data": True})
    return SimpleNamespace(svc=svc, dataset=dataset["id"])


def _grant(instance: SimpleNamespace) -> str:
    request = access.create_request(instance.svc, TAX, dataset_id=instance.dataset,
                                    purpose=PURPOSE, columns=list(PLAN))
    return access.approve(instance.svc, STEWARD, request["id"], masking=PLAN)["grant_id"]


class Calls:
    """Counts calls of real functions, by name (each still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count: collections.Counter[str] = collections.Counter()
        self._patch = monkeypatch

    def watch(self, owner: Any, name: str, label: str | None = None) -> None:
        real: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(real)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count[label or name] += 1
            return real(*args, **kwargs)
        self._patch.setattr(owner, name, counted)


def _watch_delivery(instance: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> Calls:
    import exchange.services
    import masking.stream
    import policies.workflow

    svc = instance.svc
    calls = Calls(monkeypatch)
    calls.watch(svc.keys, "active", "signing key lookups")
    calls.watch(exchange.services, "AuditLog", "audit logs built")
    calls.watch(policies.workflow, "get_grant", "grant reads")
    calls.watch(masking.stream, "profile_table", "columns profiled")
    calls.watch(access, "loggable_text", "purposes scrubbed")
    calls.watch(svc, "_sign_checkpoint", "checkpoints signed")
    return calls


def test_a_delivery_takes_each_step_once(instance: SimpleNamespace,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    grant = _grant(instance)
    delivery.deliver(instance.svc, TAX, grant)  # warm-up: caches of a first delivery
    calls = _watch_delivery(instance, monkeypatch)

    done = delivery.deliver(instance.svc, TAX, grant)

    assert dict(calls.count) == {
        "signing key lookups": 1,  # audit entry, receipt and checkpoint: one key
        "audit logs built": 1,  # append, checkpoint and the inclusion proof: one log
        "grant reads": 2,  # authorize, then again under lock as the delivery is recorded
        "checkpoints signed": 1,
    }, "nothing profiled, nothing scrubbed again"
    # the evidence it hands over is the one it recorded
    assert done["inclusion_proof"]["size"] >= done["audit_index"] + 1
    assert done["audit_entry"]["exchange_id"] == done["id"]


def test_the_purpose_is_scrubbed_once_when_the_request_is_made(
        instance: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    import exchange.usecases.access

    calls = Calls(monkeypatch)
    calls.watch(exchange.usecases.access, "loggable_text", "purposes scrubbed")
    grant = _grant(instance)
    done = delivery.deliver(instance.svc, TAX, grant)

    assert calls.count["purposes scrubbed"] == 1  # request, approval and delivery share it
    svc = instance.svc
    with svc.reader.connect() as conn:
        stored = conn.execute(sa.select(policy_models.grants_table.c.logged_purpose).where(
            policy_models.grants_table.c.id == grant)).scalar_one()
        logged = [e for _, e in svc.audit_log().entries(conn, offset=0, limit=1000)
                  if e.get("grant_id") == grant or e.get("request_id") == done["audit_entry"][
                      "request_id"]]
    assert "13812345678" not in stored and "张伟" not in stored and "低保" in stored
    assert {e["type"] for e in logged} == {"request", "approve", "exchange"}
    assert all(e["purpose"] == stored for e in logged)


def test_a_grant_from_before_the_purpose_was_kept_is_scrubbed_at_delivery(
        instance: SimpleNamespace) -> None:
    svc = instance.svc
    grant = _grant(instance)
    with svc.engine.begin() as conn:  # as a grant made before migration 0004 looks
        conn.execute(policy_models.grants_table.update().where(
            policy_models.grants_table.c.id == grant).values(logged_purpose=None))

    entry = delivery.deliver(svc, TAX, grant)["audit_entry"]

    assert "13812345678" not in entry["purpose"] and "低保" in entry["purpose"]


@pytest.mark.parametrize("moment", ["while masking", "after masking, before recording"])
def test_a_grant_revoked_during_a_delivery_delivers_nothing(
        instance: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    svc = instance.svc
    grant = _grant(instance)
    with svc.reader.connect() as conn:
        before = _footprint(svc, conn)

    def revoke() -> None:
        access.revoke(svc, STEWARD, grant, reason="撤销测试")

    if moment == "while masking":
        real_write = delivery._write_masked

        def write_then_revoke(*args: Any, **kwargs: Any) -> int:
            rows = real_write(*args, **kwargs)
            revoke()
            return rows
        monkeypatch.setattr(delivery, "_write_masked", write_then_revoke)
    else:
        real_recording = svc.recording

        def revoke_then_record() -> Any:
            monkeypatch.setattr(svc, "recording", real_recording)  # the revoke records too
            revoke()
            return real_recording()
        monkeypatch.setattr(svc, "recording", revoke_then_record)

    with pytest.raises(Forbidden):
        delivery.deliver(svc, TAX, grant)

    with svc.reader.connect() as conn:
        after = _footprint(svc, conn)
        refused = [e for _, e in svc.audit_log().entries(conn, offset=before["entries"],
                                                          limit=100)]
    assert after["exchanges"] == before["exchanges"], "no exchange recorded"
    assert after["payloads"] == before["payloads"], "no payload left in the store"
    assert [e["type"] for e in refused] == ["revoke", "authz_denied"]
    assert refused[-1]["target"] == grant and refused[-1]["action"] == "receive"


def _footprint(svc: Services, conn: sa.Connection) -> dict[str, Any]:
    return {"exchanges": conn.execute(sa.select(sa.func.count()).select_from(
                models.exchanges)).scalar_one(),
            "entries": svc.audit_log().size(conn),
            "payloads": sorted(p.name for p in (svc.settings.home / "payloads").rglob("*")
                               if p.is_file())}
