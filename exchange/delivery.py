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

__all__ = ["deliver", "exchange_data", "mask_for_grant", "DELIVERY_FORMATS"]

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
    from masking import ColumnRule, mask_table
    raw = svc.store.get(dataset.version.sha256)
    frame = formats.read_table(raw, fmt=dataset.version.format)
    entities = {c["name"]: (c.get("profile") or {}).get("entity")
                for c in dataset.version.columns}
    rules = {col: ColumnRule(op, entities.get(col)) for col, op in grant.masking.items()}
    return mask_table(frame[list(grant.columns)], rules,
                      hash_key=svc.master.pseudonym_key(grant.receiver),
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
