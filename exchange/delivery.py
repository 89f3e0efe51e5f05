"""The delivery pipeline: check the grant, mask exactly as granted, sign, log, hand over.

The exchange record, its receipt and its audit entry commit in one transaction: if the audit
append fails, nothing is delivered.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from catalog import formats, repository
from policies import workflow

from . import auditing, models
from .auth import Principal
from .errors import Forbidden, InvalidInput, NotFound
from .receipts import sign_receipt
from .services import Services

import sqlalchemy as sa

__all__ = ["deliver", "exchange_data", "mask_for_grant", "DELIVERY_FORMATS", "planned_masking",
           "check_plan",
           "preview", "exchange_receipt"]

DELIVERY_FORMATS = ("csv", "jsonl", "parquet")


def _authorize(svc: Services, who: Principal, grant_id: str) -> Any:
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    now = svc.clock()
    if not svc.allowed(who.username, who.domain, f"grant:{grant_id}", "receive") \
            or grant.receiver != who.department:
        svc.record_refusal(who, obj=f"grant:{grant_id}", act="receive", dom=who.domain)
        raise Forbidden("no active grant of your department covers this")
    with svc.reader.connect() as conn:
        return workflow.active_grant(conn, grant_id, now=now)


def mask_for_grant(svc: Services, grant: Any, dataset: Any) -> Any:
    """The dataset's rows, only the granted columns, masked as the grant says."""
    frame = formats.read_table(svc.store.get(dataset.version.sha256),
                               fmt=dataset.version.format)
    return _mask(svc, dataset, frame[list(grant.columns)], grant.masking,
                 receiver=grant.receiver)


def check_plan(svc: Services, dataset: Any, plan: dict[str, str], *, receiver: str,
               rows: int = 50) -> None:
    """Apply ``plan`` to the dataset's first rows, so that a grant is never issued with an
    operator that cannot mask its column (e.g. ``generalize`` on a phone column).
    Raises InvalidMaskingPlan (422) naming what does not fit."""
    frame = formats.read_table(svc.store.get(dataset.version.sha256),
                               fmt=dataset.version.format).head(rows)
    _mask(svc, dataset, frame[list(plan)], plan, receiver=receiver)


def _mask(svc: Services, dataset: Any, frame: Any, plan: dict[str, str], *,
          receiver: str) -> Any:
    """Mask ``frame`` with ``plan`` ({column: operator}), the entity of each column taken from
    the dataset's profile, pseudonyms keyed for ``receiver``."""
    from masking import ColumnRule, mask_table
    entities = {c["name"]: (c.get("profile") or {}).get("entity")
                for c in dataset.version.columns}
    rules = {col: ColumnRule(op, entities.get(col)) for col, op in plan.items()}
    return mask_table(frame, rules, hash_key=svc.master.pseudonym_key(receiver),
                      analyzer=svc.analyzer())


def deliver(svc: Services, who: Principal, grant_id: str, *, fmt: Any = "csv") -> dict:
    """Deliver the masked dataset under an active grant of the caller's department.

    Returns the exchange with its receipt and the evidence that it was logged: the audit
    entry and its ``audit_index``, the signed ``checkpoint`` that covers it and the
    ``inclusion_proof`` (``size`` of that checkpoint, base64 ``hashes``).

    Raises Forbidden (not the grant's department, revoked, expired), GrantNotFound,
    InvalidInput (format).
    """
    if fmt not in DELIVERY_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(DELIVERY_FORMATS)}")
    grant = _authorize(svc, who, grant_id)
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, grant.dataset_id)
    masked = mask_for_grant(svc, grant, dataset)
    data = formats.write_table(masked, fmt=fmt)
    digest = svc.store.put(data)
    exchange_id = "ex_" + secrets.token_hex(8)
    entry = svc.event(_event(who, grant, exchange_id, masked, digest))
    with svc.engine.begin() as conn:
        index = svc.append(conn, entry)
        manifest = _manifest(svc, who, grant, exchange_id, fmt, len(masked), digest, index)
        active = svc.keys.active(svc.reader)
        receipt = sign_receipt(manifest, kid=active.kid, private_key=active.private_key)
        conn.execute(models.exchanges.insert().values(
            id=exchange_id, grant_id=grant.id, dataset_id=grant.dataset_id,
            dataset_version=grant.dataset_version, provider=grant.provider,
            receiver=grant.receiver, format=fmt, sha256=digest, row_count=len(masked),
            byte_size=len(data), receipt=receipt, audit_index=index, created_by=who.username,
            created_at=svc.clock()))
    checkpoint = svc.checkpoint()
    proof = auditing.inclusion_evidence(svc, index, checkpoint)
    return {"id": exchange_id, "receipt": receipt, "audit_index": index, "sha256": digest,
            "row_count": len(masked), "format": fmt, "checkpoint": checkpoint,
            "audit_entry": entry, "inclusion_proof": proof,
            "data_url": f"/api/v1/exchanges/{exchange_id}/data"}


def _event(who: Principal, grant: Any, exchange_id: str, masked: Any, digest: str) -> dict:
    return {"type": "exchange", "actor": who.username, "actor_department": who.department,
            "provider": grant.provider, "receiver": grant.receiver,
            "dataset_id": grant.dataset_id, "dataset_version": grant.dataset_version,
            "request_id": grant.request_id, "grant_id": grant.id, "exchange_id": exchange_id,
            "purpose": grant.purpose, "columns": dict(grant.masking),
            "row_count": len(masked), "sha256": digest, "outcome": "delivered"}


def _manifest(svc: Services, who: Principal, grant: Any, exchange_id: str, fmt: str,
              rows: int, digest: str, index: int) -> dict[str, Any]:
    return {"exchange_id": exchange_id, "dataset_id": grant.dataset_id,
            "dataset_version": grant.dataset_version, "grant_id": grant.id,
            "provider": grant.provider, "receiver": grant.receiver, "recipient": who.username,
            "columns": [{"name": c, "operator": grant.masking[c]} for c in grant.columns],
            "format": fmt, "row_count": rows, "sha256": digest,
            "time": svc.clock().strftime("%Y-%m-%dT%H:%M:%SZ"), "audit_index": index,
            "log_origin": svc.settings.log_origin}


def exchange_data(svc: Services, who: Principal, exchange_id: str) -> tuple[bytes, str, str]:
    """The delivered bytes, their media type and a file name — to the receiving department,
    while its grant is active. Raises NotFound, Forbidden, PayloadCorrupt."""
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(models.exchanges).where(
            models.exchanges.c.id == exchange_id)).first()
    if row is None:
        raise NotFound(f"no exchange {exchange_id}")
    _authorize(svc, who, row.grant_id)
    data = svc.store.get(row.sha256)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise RuntimeError("stored delivery does not match its digest")
    return data, formats.media_type(row.format), f"{exchange_id}.{row.format}"


# -- for the web pages: what a request would receive, before anyone decides ---------------


def planned_masking(svc: Services, who: Principal, dataset_id: str, columns: Any = None, *,
                    explicit: Any = None) -> dict[str, str]:
    """The operator each of ``columns`` (default: all) would get: ``explicit`` choices, else
    the dataset's defaults, with the sharing rules applied (L3+ never keeps a personal column
    by default). Raises Forbidden, DatasetNotFound, InvalidInput, InvalidRequest."""
    from policies import rules

    from .access import check_operators, dataset_facts, default_masking
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, dataset_id)
    facts = dataset_facts(dataset)
    wanted = list(facts.columns) if columns is None else rules.check_columns(columns, facts)
    return rules.resolve_masking(wanted, defaults=default_masking(dataset),
                                 explicit=check_operators(explicit), facts=facts)


def preview(svc: Services, who: Principal, request_id: str, *, masking: Any = None,
            rows: int = 5) -> dict[str, Any]:
    """The first ``rows`` rows of a request's dataset exactly as approving it with ``masking``
    would deliver them (same operators, same receiver's pseudonym key), for a steward of the
    providing department; with the request and the plan. Raises Forbidden, RequestNotFound,
    DatasetNotFound, InvalidInput, InvalidRequest."""
    with svc.reader.connect() as conn:
        request = workflow.get_request(conn, request_id)
        dataset = repository.get_dataset(conn, request.dataset_id)
    svc.require(who, "request", "decide", dom=request.provider)
    plan = planned_masking(svc, who, dataset.id, request.columns, explicit=masking)
    frame = formats.read_table(svc.store.get(dataset.version.sha256),
                               fmt=dataset.version.format).head(rows)
    masked = _mask(svc, dataset, frame[list(plan)], plan, receiver=request.receiver)
    cells = masked.astype(object).where(masked.notna(), "")
    return {"request": request.to_dict(), "masking": plan,
            "columns": [str(c) for c in masked.columns],
            "rows": [[str(v) for v in row] for row in cells.itertuples(index=False, name=None)]}


def exchange_receipt(svc: Services, who: Principal, exchange_id: str) -> tuple[str, str]:
    """The signed receipt (compact JWS) of a delivery and a file name for it — to the
    receiving department, while its grant is active. Raises NotFound, Forbidden."""
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(models.exchanges).where(
            models.exchanges.c.id == exchange_id)).first()
    if row is None:
        raise NotFound(f"no exchange {exchange_id}")
    _authorize(svc, who, row.grant_id)
    return row.receipt, f"{exchange_id}.{row.format}.receipt.jws"
