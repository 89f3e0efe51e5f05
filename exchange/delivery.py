"""The delivery pipeline: check the grant, mask exactly as granted, sign, log, hand over.

The stored dataset is read in chunks of rows (``Services.delivery_chunk_rows``), each chunk
masked by the grant's plan through the same chunked masker as ``govex mask`` and written at
once into a new encrypted payload, hashed as it is written: memory follows the chunk size,
not the dataset's. The payload becomes visible only in the transaction that records the
exchange, its receipt and its audit entry: if masking, writing or the audit append fails,
nothing is delivered and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any, BinaryIO

import sqlalchemy as sa

from catalog import formats, repository
from catalog.streaming import open_sink_writer, open_table_source
from masking import loggable_text
from policies import workflow

from . import auditing, models
from .auth import Principal
from .errors import Forbidden, InvalidInput, NotFound
from .receipts import sign_receipt
from .services import Services

__all__ = ["deliver", "exchange_data", "masked_chunks", "DELIVERY_FORMATS", "planned_masking",
           "check_plan",
           "preview", "exchange_receipt"]

DELIVERY_FORMATS = ("csv", "jsonl", "parquet")
_DOWNLOAD_BLOCK = 1 << 20


def _authorize(svc: Services, who: Principal, grant_id: str) -> Any:
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    now = svc.clock()
    svc.check_throttle(who)
    if not svc.allowed(who.username, who.domain, f"grant:{grant_id}", "receive") \
            or grant.receiver != who.department:
        svc.refuse(who, obj=f"grant:{grant_id}", act="receive", dom=grant.provider)
        raise Forbidden("no active grant of your department covers this")
    with svc.reader.connect() as conn:
        return workflow.active_grant(conn, grant_id, now=now)


@contextlib.contextmanager
def masked_chunks(svc: Services, dataset: Any, plan: dict[str, str], *, receiver: str,
                  chunk_rows: int) -> Iterator[tuple[list[str], Iterator[Any]]]:
    """The delivered column names and the dataset's rows masked by ``plan`` ({column:
    operator}), chunk by chunk (``pyarrow`` tables of at most ``chunk_rows`` rows), read from
    the encrypted store as they are needed.

    Each column's entity is the one in the dataset's profile (a steward's correction
    included), never one guessed from the first chunk; pseudonyms are keyed for ``receiver``.
    Raises InvalidMaskingPlan, UnknownOperator, PayloadMissing, PayloadCorrupt (also while
    iterating).
    """
    from masking import ChunkedMasker

    columns, rules = list(plan), _rules(dataset, plan)
    digest = dataset.version.sha256
    with open_table_source(lambda: svc.store.open(digest), fmt=dataset.version.format,
                           chunk_rows=chunk_rows) as reader:
        chunks = (chunk.select(columns) for chunk in reader)
        first = next(chunks, None)
        if first is None:
            first = reader.empty().select(columns)
        # the plan is the grant's: profiling one cell is the masker's price for a plan
        masker = ChunkedMasker(policy=rules, hash_key=svc.master.pseudonym_key(receiver),
                               analyzer=svc.analyzer(), sample_size=1)
        masker.plan(first)
        masker.rules.update(rules)  # entities as profiled at publication, None included
        yield masker.output_columns(columns), (masker.mask(c) for c in _with_first(first, chunks))


def _rules(dataset: Any, plan: dict[str, str]) -> dict[str, Any]:
    from masking import ColumnRule
    entities = {c["name"]: (c.get("profile") or {}).get("entity")
                for c in dataset.version.columns}
    return {col: ColumnRule(op, entities.get(col)) for col, op in plan.items()}


def _with_first(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first.num_rows:
        yield first
    yield from rest


def check_plan(svc: Services, dataset: Any, plan: dict[str, str], *, receiver: str,
               rows: int = 50) -> None:
    """Apply ``plan`` to the dataset's first rows, so that a grant is never issued with an
    operator that cannot mask its column (e.g. ``generalize`` on a phone column).
    Raises InvalidMaskingPlan (422) naming what does not fit."""
    with masked_chunks(svc, dataset, plan, receiver=receiver, chunk_rows=rows) as (_, chunks):
        next(chunks, None)


def deliver(svc: Services, who: Principal, grant_id: str, *, fmt: Any = "csv") -> dict:
    """Deliver the masked dataset under an active grant of the caller's department.

    Returns the exchange with its receipt and the evidence that it was logged: the audit
    entry and its ``audit_index``, the signed ``checkpoint`` that covers it and the
    ``inclusion_proof`` (``size`` of that checkpoint, base64 ``hashes``).

    Raises Forbidden (not the grant's department, revoked, expired), GrantNotFound,
    InvalidInput (format; a grant that drops every column), InvalidMaskingPlan,
    PayloadMissing, PayloadCorrupt; after any of them nothing is delivered or stored.
    """
    if fmt not in DELIVERY_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(DELIVERY_FORMATS)}")
    grant = _authorize(svc, who, grant_id)
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, grant.dataset_id)
    exchange_id = "ex_" + secrets.token_hex(8)
    with svc.store.create() as out:  # removed on any failure below, the commit's included
        rows = _write_masked(svc, grant, dataset, out, fmt=fmt)
        digest = out.finish()
        entry = svc.event(_event(who, grant, exchange_id, rows, digest,
                                 purpose=loggable_text(grant.purpose, analyzer=svc.analyzer())))
        with svc.engine.begin() as conn:
            index = svc.append(conn, entry)
            manifest = _manifest(svc, who, grant, exchange_id, fmt, rows, digest, index)
            active = svc.keys.active(svc.reader)
            receipt = sign_receipt(manifest, kid=active.kid, private_key=active.private_key)
            conn.execute(models.exchanges.insert().values(
                id=exchange_id, grant_id=grant.id, dataset_id=grant.dataset_id,
                dataset_version=grant.dataset_version, provider=grant.provider,
                receiver=grant.receiver, format=fmt, sha256=digest, row_count=rows,
                byte_size=out.size, receipt=receipt, audit_index=index,
                created_by=who.username, created_at=svc.clock()))
            out.commit()  # after the append (which serializes deliveries), before COMMIT
    checkpoint = svc.checkpoint()
    proof = auditing.inclusion_evidence(svc, index, checkpoint)
    return {"id": exchange_id, "receipt": receipt, "audit_index": index, "sha256": digest,
            "row_count": rows, "format": fmt, "checkpoint": checkpoint,
            "audit_entry": entry, "inclusion_proof": proof,
            "data_url": f"/api/v1/exchanges/{exchange_id}/data"}


def _write_masked(svc: Services, grant: Any, dataset: Any, out: BinaryIO, *, fmt: str) -> int:
    """Mask the granted columns chunk by chunk into ``out`` as a ``fmt`` table; the rows."""
    with masked_chunks(svc, dataset, {c: grant.masking[c] for c in grant.columns},
                       receiver=grant.receiver,
                       chunk_rows=svc.delivery_chunk_rows) as (columns, chunks):
        if not columns:
            raise InvalidInput("the grant drops every column: there is nothing to deliver")
        with open_sink_writer(out, fmt=fmt, columns=columns) as writer:
            for chunk in chunks:
                writer.write(chunk)
    return writer.rows


def _event(who: Principal, grant: Any, exchange_id: str, rows: int, digest: str, *,
           purpose: str) -> dict:
    return {"type": "exchange", "actor": who.username, "actor_department": who.department,
            "provider": grant.provider, "receiver": grant.receiver,
            "dataset_id": grant.dataset_id, "dataset_version": grant.dataset_version,
            "request_id": grant.request_id, "grant_id": grant.id, "exchange_id": exchange_id,
            "purpose": purpose, "columns": dict(grant.masking),
            "row_count": rows, "sha256": digest, "outcome": "delivered"}


def _manifest(svc: Services, who: Principal, grant: Any, exchange_id: str, fmt: str,
              rows: int, digest: str, index: int) -> dict[str, Any]:
    return {"exchange_id": exchange_id, "dataset_id": grant.dataset_id,
            "dataset_version": grant.dataset_version, "grant_id": grant.id,
            "provider": grant.provider, "receiver": grant.receiver, "recipient": who.username,
            "columns": [{"name": c, "operator": grant.masking[c]} for c in grant.columns],
            "format": fmt, "row_count": rows, "sha256": digest,
            "time": svc.clock().strftime("%Y-%m-%dT%H:%M:%SZ"), "audit_index": index,
            "log_origin": svc.settings.log_origin}


def exchange_data(svc: Services, who: Principal,
                  exchange_id: str) -> tuple[Iterator[bytes], str, str, int]:
    """The delivered bytes (in blocks, read from the store as they are sent), their media type,
    a file name and their length — to the receiving department, while its grant is active.

    Raises NotFound, Forbidden, PayloadMissing, PayloadCorrupt (a payload moved, truncated or
    sealed under another key is found before the first block; a segment altered further on
    stops the blocks there, and the receipt's SHA-256 no longer matches what was received).
    """
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(models.exchanges).where(
            models.exchanges.c.id == exchange_id)).first()
    if row is None:
        raise NotFound(f"no exchange {exchange_id}")
    _authorize(svc, who, row.grant_id)
    source = svc.store.open(row.sha256)
    return (_blocks(source), formats.media_type(row.format), f"{exchange_id}.{row.format}",
            row.byte_size)


def _blocks(source: BinaryIO) -> Iterator[bytes]:
    with source:
        while block := source.read(_DOWNLOAD_BLOCK):
            yield block


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
    svc.require(who, "request", "decide", dom=request.provider, target=request.id)
    plan = planned_masking(svc, who, dataset.id, request.columns, explicit=masking)
    with masked_chunks(svc, dataset, plan, receiver=request.receiver,
                       chunk_rows=rows) as (columns, chunks):
        first = next(chunks, None)
    cells = [first.column(c).to_pylist() for c in columns] if first is not None else []
    return {"request": request.to_dict(), "masking": plan, "columns": columns,
            "rows": [["" if v is None else str(v) for v in row] for row in zip(*cells)]}


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
