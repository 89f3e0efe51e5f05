"""The delivery pipeline: check the grant, mask exactly as granted, sign, log, hand over.

The stored dataset is read in chunks of rows (``Services.delivery_chunk_rows``), each chunk
masked by the grant's plan through the same chunked masker as ``govex mask`` and written at
once into a new encrypted payload, hashed as it is written: memory follows the chunk size,
not the dataset's. The payload becomes visible only in the transaction that records the
exchange, its receipt and its audit entry: if masking, writing or the audit append fails,
nothing is delivered and nothing is left behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any, BinaryIO, NoReturn

import sqlalchemy as sa

from catalog import XLSX_MAX_ROWS, formats, open_sink_writer, repository
from policies import Grant, GrantInactive, rfc3339, workflow

from .. import events, files, lookups, models
from ..auth import Principal
from ..errors import Forbidden, InvalidInput, NotFound
from ..paging import PageRequest, page_of
from ..receipts import sign_receipt, verify_receipt
from ..services import Services
from . import auditing
from .access import logged_purpose
from .masking_plan import masked_chunks, version_for

__all__ = ["deliver", "exchange_data", "DELIVERY_FORMATS", "exchange_receipt", "download_name",
           "signed_manifest", "check_file", "list_exchanges", "authorized_grant",
           "identifier_columns", "IDENTIFIER_ENTITIES"]

#: What a delivery may be written as; a CSV may start with a byte-order mark (``bom``) for
#: Excel. XLSX holds at most ``XLSX_MAX_ROWS - 1`` rows: larger deliveries take another format.
DELIVERY_FORMATS = ("csv", "xlsx", "jsonl", "parquet")
_DOWNLOAD_BLOCK = 1 << 20


def _authorize(svc: Services, who: Principal, grant_id: str) -> Grant:
    """The grant, read once, if Casbin lets ``who`` receive under it and it is active."""
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    return authorized_grant(svc, who, grant)


def authorized_grant(svc: Services, who: Principal, grant: Grant) -> Grant:
    """``grant`` if ``who`` may receive under it now (not throttled, Casbin's decision after
    every committed policy change, the grant's department) and it is active, else refused
    (logged) — also for interface sharing, which keeps the grant it read between calls and
    checks it again in each call's own transaction."""
    svc.check_throttle(who)
    if not svc.allowed(who.username, who.domain, f"grant:{grant.id}", "receive") \
            or grant.receiver != who.department:
        _refuse(svc, who, grant)
    return workflow.check_active(grant, now=svc.clock())


def _refuse(svc: Services, who: Principal, grant: Grant) -> NoReturn:
    svc.refuse(who, obj=f"grant:{grant.id}", act="receive", dom=grant.provider)
    raise Forbidden("no active grant of your department covers this", code="no_active_grant")


def deliver(svc: Services, who: Principal, grant_id: str, *, fmt: Any = "csv",
            bom: Any = False) -> dict:
    """Deliver the masked dataset under an active grant of the caller's department.

    Authorize (the grant read once), plan and mask into the store (the grant's operators over
    the columns profiled at publication), record (the grant checked again under lock, the
    audit entry, the signed receipt and the exchange row commit together, one signing key
    for all), then the evidence (the checkpoint signed over it, its inclusion proof): each
    step once. Returns the exchange with its receipt and that evidence: the audit entry and
    its ``audit_index``, the signed ``checkpoint`` that covers it and the ``inclusion_proof``
    (``size`` of that checkpoint, base64 ``hashes``).

    Raises Forbidden (not the grant's department; revoked or expired, also while the data
    was being masked), GrantNotFound, InvalidInput (format; a grant that drops every column;
    a query grant, which answers lookups only),
    InvalidMaskingPlan, PayloadMissing, PayloadCorrupt, and for an external table
    TableChanged (its folder no longer matches the version: 409) and SparkJobFailed; after any
    of them nothing is delivered or stored.
    """
    if fmt not in DELIVERY_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(DELIVERY_FORMATS)}",
                           code="format_unknown", field="format", formats=DELIVERY_FORMATS)
    if not isinstance(bom, bool) or (bom and fmt != "csv"):
        raise InvalidInput("bom is true or false, and only for CSV", code="bom_only_csv",
                           field="bom")
    grant = _authorize(svc, who, grant_id)
    if grant.mode == "query":  # minimum necessity: one record at a time, never the table
        raise InvalidInput("a query grant answers lookups and verifications; it delivers no "
                           "file", code="query_grant_no_file")
    with svc.reader.connect() as conn:
        version = version_for(conn, grant)  # what the receipt and the entry name
        dataset = dataclasses.replace(repository.get_dataset(conn, grant.dataset_id),
                                      version=version)
    rows_held = version.row_count
    if fmt == "xlsx" and rows_held > XLSX_MAX_ROWS - 1:
        raise InvalidInput(f"an XLSX sheet holds at most {XLSX_MAX_ROWS - 1:,} rows and this "
                           f"dataset has {rows_held:,}: choose CSV, Parquet or JSON Lines",
                           code="xlsx_too_many_rows", field="format", max=XLSX_MAX_ROWS - 1,
                           rows=rows_held)
    purpose = logged_purpose(svc, grant)
    exchange_id = "ex_" + secrets.token_hex(8)
    with svc.store.create() as out:  # removed on any failure below, the commit's included
        rows = _write_masked(svc, grant, dataset, out, fmt=fmt, bom=bom)
        digest = out.finish()
        try:
            with svc.recording() as rec:
                # revoked or expired meanwhile? The row lock makes a revocation wait for this
                # record, or this record see it (SQLite: the writer holds the database).
                workflow.active_grant(rec.conn, grant.id, now=svc.clock(), lock=True)
                index = rec.append(events.Exchange(
                    actor=who.username, actor_department=who.department,
                    provider=grant.provider, receiver=grant.receiver,
                    dataset_id=grant.dataset_id, dataset_version=version.version,
                    request_id=grant.request_id, grant_id=grant.id, exchange_id=exchange_id,
                    purpose=purpose, columns=grant.masking, row_count=rows, sha256=digest,
                    rows=grant.rows))
                manifest = _manifest(svc, who, grant, exchange_id, fmt, rows, digest, index,
                                     version=version.version)
                if bom:
                    manifest["bom"] = True  # the bytes start with EF BB BF, hashed with them
                receipt = sign_receipt(manifest, kid=rec.key.kid,
                                       private_key=rec.key.private_key)
                rec.conn.execute(models.exchanges.insert().values(
                    id=exchange_id, grant_id=grant.id, dataset_id=grant.dataset_id,
                    dataset_version=version.version, provider=grant.provider,
                    receiver=grant.receiver, format=fmt, sha256=digest, row_count=rows,
                    byte_size=out.size, receipt=receipt, audit_index=index,
                    created_by=who.username, created_at=svc.clock()))
                _index_subjects(rec.conn, grant, version, now=svc.clock())
                out.commit()  # after the append (which serializes deliveries), before COMMIT
        except GrantInactive:
            _refuse(svc, who, grant)
    signed = rec.checkpoint
    return {"id": exchange_id, "receipt": receipt, "audit_index": index, "sha256": digest,
            "row_count": rows, "format": fmt, "checkpoint": signed.note,
            "audit_entry": rec.entries[index],
            "inclusion_proof": auditing.inclusion_evidence(svc, rec.log, index, signed),
            "data_url": f"/api/v1/exchanges/{exchange_id}/data"}


#: Columns whose values name a person or an organisation: a delivered version is indexed by
#: them (keyed hashes), to answer who received data about a person.
IDENTIFIER_ENTITIES = frozenset({"CN_RESIDENT_ID", "CN_MOBILE", "CN_USCC", "PASSPORT",
                                 "EMAIL_ADDRESS", "BANK_CARD"})


def identifier_columns(version: Any) -> list[str]:
    """The columns of a version profiled as holding identifiers."""
    return [c["name"] for c in version.columns
            if ((c.get("profile") or {}).get("entity")) in IDENTIFIER_ENTITIES]


def _index_subjects(conn: Any, grant: Grant, version: Any, *, now: Any) -> None:
    """Queue the subject index of a delivered version (once per version and column): who
    received data about a person is answered from it. External tables are not indexed."""
    columns = identifier_columns(version)
    if columns and not version.location:
        lookups.schedule_build(conn, grant.dataset_id, version.version, columns, now=now)


def _write_masked(svc: Services, grant: Grant, dataset: Any, out: BinaryIO, *,
                  fmt: str, bom: bool = False) -> int:
    """Mask the granted columns (of the rows in the grant's scope) chunk by chunk into
    ``out`` as a ``fmt`` table; the rows."""
    with masked_chunks(svc, dataset, {c: grant.masking[c] for c in grant.columns},
                       receiver=grant.receiver, chunk_rows=svc.delivery_chunk_rows,
                       rows=grant.rows) as (columns, chunks):
        if not columns:
            raise InvalidInput("the grant drops every column: there is nothing to deliver",
                               code="grant_drops_every_column")
        with open_sink_writer(out, fmt=fmt, columns=columns, bom=bom) as writer:
            for chunk in chunks:
                writer.write(chunk)
    return writer.rows


def _manifest(svc: Services, who: Principal, grant: Grant, exchange_id: str, fmt: str,
              rows: int, digest: str, index: int, *, version: int) -> dict[str, Any]:
    return {"exchange_id": exchange_id, "dataset_id": grant.dataset_id,
            "dataset_version": version, "grant_id": grant.id,
            "provider": grant.provider, "receiver": grant.receiver, "recipient": who.username,
            "columns": [{"name": c, "operator": grant.masking[c]} for c in grant.columns],
            "format": fmt, "row_count": rows, "sha256": digest,
            "time": rfc3339(svc.clock()), "audit_index": index,
            "log_origin": svc.settings.log_origin} | ({"rows": grant.rows} if grant.rows else {})


def exchange_data(svc: Services, who: Principal,
                  exchange_id: str) -> tuple[Iterator[bytes], str, str, int]:
    """The delivered bytes (in blocks, read from the store as they are sent), their media type,
    a file name (:func:`download_name`) and their length — to the receiving department,
    while its grant is active.

    Raises NotFound, Forbidden, PayloadMissing, PayloadCorrupt (a payload moved, truncated or
    sealed under another key is found before the first block; a segment altered further on
    stops the blocks there, and the receipt's SHA-256 no longer matches what was received).
    """
    row = _received(svc, who, exchange_id)
    source = svc.store.open(row.sha256)
    return (_blocks(source), formats.media_type(row.format), download_name(svc, row),
            row.byte_size)


def _blocks(source: BinaryIO) -> Iterator[bytes]:
    with source:
        while block := source.read(_DOWNLOAD_BLOCK):
            yield block


def exchange_receipt(svc: Services, who: Principal, exchange_id: str) -> tuple[str, str]:
    """The signed receipt (compact JWS) of a delivery and a file name for it — to the
    receiving department, also after its grant ended: a receipt is evidence of what was
    delivered, and holds no data. Raises NotFound, Forbidden."""
    row = _evidence(svc, who, exchange_id)
    return row.receipt, download_name(svc, row) + ".receipt.jws"


def signed_manifest(svc: Services, who: Principal, exchange_id: str) -> dict[str, Any]:
    """The delivery's receipt, verified against the exchange's published keys: its manifest.
    Raises NotFound, Forbidden, ReceiptInvalid."""
    receipt, _ = exchange_receipt(svc, who, exchange_id)
    with svc.reader.connect() as conn:
        return verify_receipt(receipt, jwks=svc.keys.jwks(conn))


def check_file(svc: Services, who: Principal, exchange_id: str,
               stream: BinaryIO) -> dict[str, Any]:
    """Whether the bytes of ``stream`` are exactly what the delivery's signed receipt covers:
    ``matches``, their ``sha256`` and ``size``, and the receipt's ``expected`` hash. The bytes
    are hashed as they are read and kept nowhere. Raises NotFound, Forbidden."""
    manifest = signed_manifest(svc, who, exchange_id)
    digest, size = hashlib.sha256(), 0
    while block := stream.read(_DOWNLOAD_BLOCK):
        digest.update(block)
        size += len(block)
    return {"matches": digest.hexdigest() == manifest["sha256"], "sha256": digest.hexdigest(),
            "size": size, "expected": manifest["sha256"], "manifest": manifest}


def download_name(svc: Services, row: Any) -> str:
    """A delivery's file name: its dataset's title, the receiving department and the day."""
    with svc.reader.connect() as conn:
        title = repository.get_dataset(conn, row.dataset_id).title
    return files.download_name(title, row.receiver, row.created_at, row.format)


def _evidence(svc: Services, who: Principal, exchange_id: str) -> Any:
    """The exchange's record, if ``who`` is of its receiving department and may list its
    grants (whether or not the grant is still active). Raises NotFound, Forbidden."""
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(models.exchanges).where(
            models.exchanges.c.id == exchange_id)).first()
    if row is None:
        raise NotFound(f"no exchange {exchange_id}", code="exchange_not_found")
    svc.require(who, "grant", "list", target=row.grant_id)
    if who.role != "requester" or row.receiver != who.department:
        raise Forbidden("this delivery is another department's", code="not_your_delivery")
    return row


def _received(svc: Services, who: Principal, exchange_id: str) -> Any:
    """The exchange's record, if ``who`` may receive under its grant now. Raises NotFound,
    Forbidden."""
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(models.exchanges).where(
            models.exchanges.c.id == exchange_id)).first()
    if row is None:
        raise NotFound(f"no exchange {exchange_id}", code="exchange_not_found")
    _authorize(svc, who, row.grant_id)
    return row


def list_exchanges(svc: Services, who: Principal, *,
                   page: PageRequest = PageRequest()) -> dict[str, Any]:
    """A page of the deliveries the department received (requester) or whose data it
    provided (steward), newest first: ``exchanges`` (what each was: grant, dataset version,
    format, rows, bytes, SHA-256, audit index, who and when — no data), ``next_page_token``,
    ``total``. Raises Forbidden."""
    svc.require(who, "grant", "list")
    table = models.exchanges
    side = table.c.receiver if who.role == "requester" else table.c.provider
    query = sa.select(table).where(side == who.department)
    if page.after is not None:
        moment, last = page.after
        query = query.where(sa.or_(table.c.created_at < moment, sa.and_(
            table.c.created_at == moment, table.c.id > last)))
    with svc.reader.connect() as conn:
        rows = conn.execute(query.order_by(table.c.created_at.desc(), table.c.id)
                            .limit(page.size + 1)).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(table)
                             .where(side == who.department)).scalar_one()
    shown, token = page_of(rows, page, key=lambda r: (_aware(r.created_at), r.id))
    return {"exchanges": [_exchange_view(r) for r in shown], "next_page_token": token,
            "total": int(total)}


def _aware(moment: Any) -> Any:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def _exchange_view(row: Any) -> dict[str, Any]:
    return {"id": row.id, "grant_id": row.grant_id, "dataset_id": row.dataset_id,
            "dataset_version": row.dataset_version, "provider": row.provider,
            "receiver": row.receiver, "format": row.format, "row_count": row.row_count,
            "byte_size": row.byte_size, "sha256": row.sha256, "audit_index": row.audit_index,
            "created_by": row.created_by, "created_at": rfc3339(_aware(row.created_at)),
            "data_url": f"/api/v1/exchanges/{row.id}/data"}
