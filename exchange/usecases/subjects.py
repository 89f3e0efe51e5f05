"""Who received data about this person (个人信息保护法 art. 44-45): every lookup,
verification and file delivery whose data held an identifier value, found without storing the
value anywhere new.

The value is normalized and hashed with the exchange's keyed hash (:mod:`exchange.lookups`);
calls are found by the hash each call's entry holds (indexed in ``exchange_subject_calls``),
deliveries by the subject index of each delivered version (its identifier columns, built by
the worker after the first delivery) and each delivery's row scope, applied to the person's
row. A delivery is listed with the operator each column arrived under: the auditor sees
whether the identifier itself was masked. The search is itself an audit entry (the value's
hash, never the value).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from catalog import repository
from policies import workflow

from .. import events, lookups
from ..auth import Principal
from ..errors import InvalidInput
from ..models import exchanges, query_indexes, query_keys, subject_calls
from ..services import Services

__all__ = ["who_received", "MAX_FOUND"]

MAX_FOUND = 1000  # calls and deliveries listed at most, each


def _keys(svc: Services) -> tuple[bytes, bytes]:
    return svc.master.derive("query-index-rows"), svc.master.derive("subject-pseudonyms")


def who_received(svc: Services, who: Principal, *, value: Any) -> dict[str, Any]:
    """The calls and deliveries whose data held ``value`` (a resident ID, a mobile number, a
    credit code...), oldest first: ``calls``, ``deliveries``, the value's ``key`` (its
    pseudonym), ``indexes_building`` (delivered versions not indexed yet: the answer may miss
    them) and this search's ``audit_index``. An auditor sees every department's; a steward
    its own datasets' (a person's request under PIPL art. 45 goes through the provider).
    Raises Forbidden, InvalidInput."""
    if who.role == "steward":
        svc.require(who, "grant", "list")
        provider: str | None = who.department
    else:
        svc.require(who, "audit", "read")
        provider = None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidInput("give the identifier to search for (1 to 200 characters)",
                           code="subject_value_invalid", field="value")
    seal, hash_key = _keys(svc)
    digest = lookups.key_hash(hash_key, value)
    with svc.reader.connect() as conn:
        calls = _calls(svc, conn, digest, provider)
        delivered = _deliveries(conn, seal, digest, provider)
        building = int(conn.execute(sa.select(sa.func.count()).select_from(query_indexes)
                                    .where(query_indexes.c.state != "ready")).scalar_one())
    with svc.recording() as rec:
        index = rec.append(events.SubjectSearch(
            actor=who.username, actor_department=who.department, key=digest.hex(),
            calls=len(calls), deliveries=len(delivered)))
    return {"key": digest.hex(), "calls": calls, "deliveries": delivered,
            "indexes_building": building, "audit_index": index}


def _calls(svc: Services, conn: sa.Connection, digest: bytes,
           provider: str | None) -> list[dict[str, Any]]:
    indices = conn.execute(sa.select(subject_calls.c.audit_index).where(
        subject_calls.c.key_hash == digest).order_by(subject_calls.c.audit_index)
        .limit(MAX_FOUND)).scalars().all()
    found = []
    for index in indices:
        entry = svc.log_reader.entry(conn, int(index))
        if provider is not None and entry.get("provider") != provider:
            continue
        found.append({"audit_index": int(index), "time": entry["time"],
                      "call": entry.get("call"), "provider": entry.get("provider"),
                      "receiver": entry.get("receiver"), "actor": entry.get("actor"),
                      "grant_id": entry.get("grant_id"), "dataset_id": entry.get("dataset_id"),
                      "dataset_version": entry.get("dataset_version"),
                      "outcome": entry.get("outcome"), "columns": entry.get("columns"),
                      "claims": entry.get("claims")})
    return found


def _deliveries(conn: sa.Connection, seal: bytes, digest: bytes,
                provider: str | None) -> list[dict[str, Any]]:
    rows: dict[tuple[str, int], set[int]] = defaultdict(set)
    for dataset_id, version, number in conn.execute(sa.select(
            query_keys.c.dataset_id, query_keys.c.version, query_keys.c.row_number).where(
            query_keys.c.key_hash == digest).limit(MAX_FOUND)):
        rows[(dataset_id, int(version))].add(int(number))
    found: list[dict[str, Any]] = []
    for (dataset_id, version), numbers in rows.items():
        query = sa.select(exchanges).where(exchanges.c.dataset_id == dataset_id,
                                           exchanges.c.dataset_version == version)
        if provider is not None:
            query = query.where(exchanges.c.provider == provider)
        made = conn.execute(query.order_by(exchanges.c.created_at)).all()
        if not made:
            continue
        stored = repository_columns(conn, dataset_id, version)
        person = [dict(zip(stored, r, strict=True)) for r in lookups.read_rows(
            conn, seal, dataset_id, version, sorted(numbers))]
        grants: dict[str, Any] = {}
        for row in made:
            grant = grants.get(row.grant_id) or workflow.get_grant(conn, row.grant_id)
            grants[row.grant_id] = grant
            if grant.rows and not any(all(p.get(c) in set(v) for c, v in grant.rows.items())
                                      for p in person):
                continue  # the person's row was outside the delivery's scope
            found.append({"exchange_id": row.id, "audit_index": row.audit_index,
                          "time": _utc(row.created_at), "provider": row.provider,
                          "receiver": row.receiver, "grant_id": row.grant_id,
                          "dataset_id": dataset_id, "dataset_version": version,
                          "columns": {c: grant.masking[c] for c in grant.columns}})
    return sorted(found, key=lambda d: d["audit_index"])[:MAX_FOUND]


def repository_columns(conn: sa.Connection, dataset_id: str, version: int) -> list[str]:
    """A version's column names, in order."""
    return [c["name"] for c in repository.get_version(conn, dataset_id, version).columns]


def _utc(moment: dt.datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
