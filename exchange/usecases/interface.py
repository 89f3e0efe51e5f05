"""Use cases of interface sharing (接口共享): one-record lookups and yes/no verifications under
a query grant, each its own audit entry with its own signed receipt.

A service window checks one citizen's record ("is this 身份证号 registered at this address?")
instead of receiving the whole register: the grant names the key columns the requesting
department looks up by, the columns it may receive (masked as approved) and a daily limit. A
lookup reads its rows from the version's lookup index (:mod:`exchange.lookups`: built once by
the worker, encrypted, keyed hashes of the keys), applies the grant's row scope and masking,
and answers only once its entry — the grant, the requester, the columns returned and the keyed
pseudonym of the key, never the key — is durable (the batching writer, :meth:`Services.submit`).
A verification compares claims with the record and answers only ``match``: no data leaves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from catalog import open_table_source, repository
from masking import ChunkedMasker, ColumnRule, resident_id_check_char
from policies import workflow

from .. import departments, events, lookups, workdays
from ..auth import Principal
from ..errors import Conflict, InvalidInput, TooManyAttempts
from ..models import query_calls, subject_calls
from ..receipts import sign_receipt
from ..services import Services
from .delivery import authorized_grant
from .masking_plan import profiles_of, version_for

__all__ = ["build_index", "lookup", "verify", "successor", "suspend", "resume",
           "IndexNotReady", "MAX_KEY_CHARS", "MISS_ALERT_AT", "SCAN_RUN"]

MAX_KEY_CHARS = 200
#: A day's misses that raise an alert, when half or more of the day's calls found nothing.
MISS_ALERT_AT = 20
#: Keys looked up one after another (a resident ID's base + 1, a number + 1) that suspend the
#: grant: nobody at a service window checks ten consecutive citizens.
SCAN_RUN = 10
ALERTER = "system:alert"
MAX_ROWS = 20  # rows one lookup returns at most (a key shared by more is not a lookup)
ROWS = lookups.ROWS


class IndexNotReady(Exception):
    """The rows a key column's index needs are still being stored by another build."""


def build_index(svc: Services, dataset_id: str, version: int, columns: list[str]) -> int:
    """Build the lookup index of a dataset version: its rows (``""`` in ``columns``) and the
    key columns named, a batch of rows per transaction (a register of millions never holds
    the database's writer for long). What an interrupted build left is removed first.
    Returns the rows indexed. Raises IndexNotReady (the rows are not stored yet), and what
    reading the version raises (the index is then marked failed)."""
    keys = [c for c in columns if c != ROWS]
    with svc.engine.begin() as conn:
        if ROWS not in columns and lookups.state(conn, dataset_id, version, ROWS) != "ready":
            raise IndexNotReady(f"{dataset_id} v{version}")
        lookups.clear(conn, dataset_id, version, keys, rows=ROWS in columns)
        stored = repository.get_version(conn, dataset_id, version)
    names = [c["name"] for c in stored.columns]
    seal, hash_key = _keys(svc)
    number = 1
    try:
        with open_table_source(lambda: svc.store.open(stored.sha256), fmt=stored.format,
                               chunk_rows=lookups.BATCH_ROWS) as reader:
            for chunk in reader:
                values = zip(*(chunk.column(c).to_pylist() for c in names), strict=True)
                with svc.engine.begin() as conn:
                    number = lookups.add_rows(
                        conn, seal=seal, hash_key=hash_key, dataset_id=dataset_id,
                        version=version, columns=names, key_columns=keys, first=number,
                        rows=values, store_rows=ROWS in columns)
    except Exception:
        with svc.engine.begin() as conn:
            lookups.finish(conn, dataset_id, version, columns, rows=number - 1,
                           now=svc.clock(), failed=True)
        raise
    with svc.engine.begin() as conn:
        lookups.finish(conn, dataset_id, version, columns, rows=number - 1, now=svc.clock())
    return number - 1


def _keys(svc: Services) -> tuple[bytes, bytes]:
    """The key the index rows are sealed with and the key of the keyed hashes."""
    return svc.master.derive("query-index-rows"), svc.master.derive("subject-pseudonyms")


def _query_grant(svc: Services, who: Principal, grant_id: str) -> Any:
    grant = authorized_grant(svc, who, grant_id)
    if grant.mode != "query":
        raise InvalidInput("this grant delivers files: look up under a query grant",
                           code="not_a_query_grant")
    return grant


def _key(key: Any, grant: Any, field: str) -> tuple[str, str]:
    if not isinstance(key, Mapping) or len(key) != 1:
        raise InvalidInput(f"name one key column and its value: one of "
                           f"{', '.join(grant.key_columns)}", code="key_invalid", field=field,
                           columns="、".join(grant.key_columns))
    (column, value), = key.items()
    if column not in grant.key_columns:
        raise InvalidInput(f"{column!r} is not a key column of the grant", code="key_invalid",
                           field=field, columns="、".join(grant.key_columns))
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_CHARS:
        raise InvalidInput("the key's value must be text of 1 to 200 characters",
                           code="key_value_invalid", field=field, max=MAX_KEY_CHARS)
    return column, value


_maskers: dict[tuple[str, int, str], ChunkedMasker] = {}
_maskers_lock = threading.Lock()


def _masker(svc: Services, grant: Any, version: Any) -> ChunkedMasker:
    """The grant's masker for a version (its plan fixed by the profiles of publication),
    kept for the process: a lookup masks one row, not a table to profile."""
    plan_key = json.dumps(grant.masking, sort_keys=True, ensure_ascii=False)
    cache = (grant.id, version.version, plan_key)
    with _maskers_lock:
        found = _maskers.get(cache)
    if found is not None:
        return found
    policy = {c: ColumnRule(grant.masking[c]) for c in grant.columns}
    masker = ChunkedMasker(policy=policy, hash_key=svc.master.pseudonym_key(grant.receiver),
                           analyzer=svc.analyzer() if "scrub" in grant.masking.values()
                           else None)
    masker.adopt(profiles_of(version, list(grant.columns)))
    with _maskers_lock:
        _maskers[cache] = masker
    return masker


def _found(svc: Services, grant: Any, column: str, value: str) -> tuple[Any, list[dict]]:
    """The version a call under ``grant`` reads and the rows of it whose ``column`` holds
    ``value``, in the grant's row scope, unmasked. Raises Conflict (index not ready)."""
    seal, hash_key = _keys(svc)
    with svc.reader.connect() as conn:
        version = version_for(conn, grant)
        if lookups.state(conn, grant.dataset_id, version.version, column) != "ready":
            raise Conflict("the lookup index of this version is being built: try again "
                           "shortly", code="index_not_ready")
        numbers = lookups.find(conn, grant.dataset_id, version.version, column,
                               lookups.key_hash(hash_key, value), limit=MAX_ROWS)
        raw = lookups.read_rows(conn, seal, grant.dataset_id, version.version, numbers)
    names = [c["name"] for c in version.columns]
    rows = [dict(zip(names, r, strict=True)) for r in raw]
    if grant.rows:
        rows = [r for r in rows if all(r.get(c) in set(v) for c, v in grant.rows.items())]
    return version, rows


def _count(conn: sa.Connection, grant: Any, *, day: dt.date, missed: bool,
           now: dt.datetime) -> None:
    """Count the call (and a miss) against the grant's daily limit, in the call's
    transaction. Raises TooManyAttempts when the day's calls are spent."""
    t = query_calls
    done = conn.execute(t.update().where(t.c.grant_id == grant.id, t.c.day == day,
                                         t.c.calls < grant.daily_limit).values(
        calls=t.c.calls + 1, misses=t.c.misses + int(missed)))
    if done.rowcount == 1:
        return
    if conn.execute(sa.select(t.c.calls).where(t.c.grant_id == grant.id,
                                               t.c.day == day)).first() is not None:
        raise _limit(grant, now)
    conn.execute(t.insert().values(grant_id=grant.id, day=day, calls=1, misses=int(missed),
                                   run=0))


def successor(value: str) -> str | None:
    """The key that comes right after ``value`` in a scan: a resident ID's next base with its
    check character, a number plus one; None for other keys."""
    key = lookups.normalize(value)
    if len(key) == 18 and key[:17].isdigit():
        base = f"{int(key[:17]) + 1:017d}"
        return base + resident_id_check_char(base)
    if key.isdigit():
        return f"{int(key) + 1:0{len(key)}d}"
    return None


def _watch(rec: Any, grant: Any, *, day: dt.date, digest: bytes,
           following: bytes | None, now: dt.datetime) -> None:
    """After a call is counted: a scan of consecutive keys suspends the grant; a day of
    mostly misses raises an alert once. Each alert is a ``query_alert`` entry, told to the
    provider's stewards, the data authority and the receiving department."""
    t = query_calls
    row = rec.conn.execute(sa.select(t).where(t.c.grant_id == grant.id, t.c.day == day)).one()
    run = row.run + 1 if row.next_key is not None and bytes(row.next_key) == digest else 1
    rec.conn.execute(t.update().where(t.c.grant_id == grant.id, t.c.day == day).values(
        run=run, next_key=following))
    reason = None
    if run >= SCAN_RUN:
        reason = "key_scan"
    elif not row.alerted and row.misses >= MISS_ALERT_AT and row.misses * 2 >= row.calls:
        reason = "miss_burst"
        rec.conn.execute(t.update().where(t.c.grant_id == grant.id, t.c.day == day)
                         .values(alerted=True))
    if reason is None:
        return
    suspended = reason == "key_scan" and workflow.suspend(rec.conn, grant.id, reason=reason,
                                                          now=now)
    if reason == "key_scan" and not suspended:
        return  # suspended already: told once
    rec.append(events.QueryAlert(
        actor=ALERTER, provider=grant.provider, receiver=grant.receiver,
        dataset_id=grant.dataset_id, grant_id=grant.id, reason=reason, calls=row.calls,
        misses=row.misses, suspended=bool(suspended),
        authorities=departments.authorities_of(rec.conn, grant.provider)))


def _limit(grant: Any, now: dt.datetime) -> TooManyAttempts:
    """429 until midnight in Shanghai, when the next day's calls begin."""
    local = now.astimezone(workdays.TZ)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                   workdays.TZ)
    return TooManyAttempts(f"the grant's {grant.daily_limit} calls of today are spent",
                           code="daily_limit_reached", limit=grant.daily_limit,
                           until=midnight.astimezone(dt.timezone.utc))


def _spent(svc: Services, grant: Any, day: dt.date) -> bool:
    with svc.reader.connect() as conn:
        calls = conn.execute(sa.select(query_calls.c.calls).where(
            query_calls.c.grant_id == grant.id, query_calls.c.day == day)).scalar()
    return calls is not None and calls >= grant.daily_limit


def _call(svc: Services, who: Principal, grant: Any, version: Any, *, call: str,
          column: str, value: str, rows: int, outcome: str,
          columns: Mapping[str, str] | None, claims: list[str] | None,
          digest: str | None) -> tuple[int, str, str]:
    """Record one call (its entry, its count, its receipt) through the batching writer; its
    audit index, the receipt and the key's pseudonym, once durable."""
    _, hash_key = _keys(svc)
    hashed = lookups.key_hash(hash_key, value)
    key = hashed.hex()
    after = successor(value)
    following = lookups.key_hash(hash_key, after) if after is not None else None
    now = svc.clock()
    day = now.astimezone(workdays.TZ).date()

    def work(rec: Any) -> tuple[int, str]:
        current = workflow.active_grant(rec.conn, grant.id, now=now, lock=True)
        index = rec.append(events.Lookup(
            actor=who.username, actor_department=who.department, provider=grant.provider,
            receiver=grant.receiver, dataset_id=grant.dataset_id,
            dataset_version=version.version, grant_id=grant.id, call=call, key_column=column,
            key=key, rows=rows, outcome=outcome, columns=columns, claims=claims))
        _count(rec.conn, current, day=day, missed=outcome in ("not_found", "no_match"),
               now=now)
        _watch(rec, current, day=day, digest=hashed, following=following, now=now)
        rec.conn.execute(subject_calls.insert().values(key_hash=hashed, audit_index=index))
        manifest = {"call": call, "grant_id": grant.id, "dataset_id": grant.dataset_id,
                    "dataset_version": version.version, "provider": grant.provider,
                    "receiver": grant.receiver, "recipient": who.username,
                    "key_column": column, "key": key, "outcome": outcome, "rows": rows,
                    "time": workflow_time(now), "audit_index": index,
                    "log_origin": svc.settings.log_origin}
        if digest is not None:
            manifest["sha256"] = digest
        if columns is not None:
            manifest["columns"] = [{"name": c, "operator": op} for c, op in columns.items()]
        return index, sign_receipt(manifest, kid=rec.key.kid, private_key=rec.key.private_key)

    (index, receipt), _rec = svc.submit(work)
    return index, receipt, key


def workflow_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lookup(svc: Services, who: Principal, grant_id: str, *, key: Any) -> dict[str, Any]:
    """The rows of the grant's dataset whose key column holds the key's value (after
    normalization), in its row scope, masked as granted: ``rows``, ``audit_index`` and the
    signed ``receipt`` (its ``sha256`` covers the rows as canonical JSON). Raises Forbidden,
    GrantInactive (revoked, expired, suspended), InvalidInput, Conflict (the index is being
    built), TooManyAttempts (the day's calls are spent)."""
    grant = _query_grant(svc, who, grant_id)
    column, value = _key(key, grant, "key")
    if _spent(svc, grant, svc.clock().astimezone(workdays.TZ).date()):
        raise _limit(grant, svc.clock())
    version, found = _found(svc, grant, column, value)
    rows: list[dict[str, Any]] = []
    if found:
        masker = _masker(svc, grant, version)
        table = pa.table({c: pa.array([r.get(c) for r in found], pa.string())
                          for c in grant.columns})
        rows = masker.mask(table).to_pylist()
    data = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(data.encode()).hexdigest()
    delivered = {c: grant.masking[c] for c in grant.columns if grant.masking[c] != "drop"}
    index, receipt, pseudonym = _call(
        svc, who, grant, version, call="lookup", column=column, value=value, rows=len(rows),
        outcome="found" if rows else "not_found", columns=delivered, claims=None,
        digest=digest)
    return {"rows": rows, "audit_index": index, "receipt": receipt, "key": pseudonym}


def verify(svc: Services, who: Principal, grant_id: str, *, claims: Any) -> dict[str, Any]:
    """Whether a record holds every claimed value (核验): the claims name one key column and
    any of the grant's columns; each value is compared after normalization. Only ``match``
    is answered, with the call's ``audit_index`` and ``receipt``. Raises as :func:`lookup`."""
    grant = _query_grant(svc, who, grant_id)
    if not isinstance(claims, Mapping) or not claims or len(claims) > 10:
        raise InvalidInput("claims map columns to the values to check", code="claims_invalid",
                           field="claims")
    keyed = [c for c in claims if c in grant.key_columns]
    allowed = set(grant.key_columns) | set(grant.columns)
    outside = [c for c in claims if c not in allowed]
    if not keyed or outside:
        raise InvalidInput("claims name a key column and only columns of the grant",
                           code="claims_invalid", field="claims",
                           columns="、".join(outside or grant.key_columns))
    for v in claims.values():
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_KEY_CHARS:
            raise InvalidInput("each claimed value must be text of 1 to 200 characters",
                               code="key_value_invalid", field="claims", max=MAX_KEY_CHARS)
    column = keyed[0]
    if _spent(svc, grant, svc.clock().astimezone(workdays.TZ).date()):
        raise _limit(grant, svc.clock())
    version, found = _found(svc, grant, column, claims[column])
    wanted = {c: lookups.normalize(v) for c, v in claims.items()}
    match = any(all(lookups.normalize(r.get(c) or "") == v for c, v in wanted.items())
                for r in found)
    index, receipt, pseudonym = _call(
        svc, who, grant, version, call="verify", column=column, value=claims[column],
        rows=len(found), outcome="match" if match else "no_match", columns=None,
        claims=sorted(claims), digest=None)
    return {"match": match, "audit_index": index, "receipt": receipt, "key": pseudonym}


def suspend(svc: Services, who: Principal, grant_id: str) -> dict[str, Any]:
    """A steward of the provider suspends a query grant (until resumed). Raises Forbidden,
    GrantNotFound, Conflict (not a query grant, revoked, or suspended already)."""
    return _suspension(svc, who, grant_id, suspend=True)


def resume(svc: Services, who: Principal, grant_id: str) -> dict[str, Any]:
    """A steward of the provider resumes a suspended grant (after an alert: once the
    receiving department has explained its calls). Raises Forbidden, GrantNotFound,
    AlreadyDecided (not suspended)."""
    return _suspension(svc, who, grant_id, suspend=False)


def _suspension(svc: Services, who: Principal, grant_id: str, *,
                suspend: bool) -> dict[str, Any]:
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    svc.require(who, "grant", "revoke", dom=grant.provider, target=grant_id)
    now = svc.clock()
    with svc.recording() as rec:
        if suspend:
            if not workflow.suspend(rec.conn, grant_id, reason="steward", now=now):
                raise Conflict("only an active query grant can be suspended",
                               code="grant_not_suspendable")
        else:
            workflow.resume(rec.conn, grant_id)
        rec.append(events.GrantSuspend(
            actor=who.username, actor_department=who.department, provider=grant.provider,
            receiver=grant.receiver, grant_id=grant_id,
            change="suspended" if suspend else "resumed"))
        changed = workflow.get_grant(rec.conn, grant_id)
    return changed.to_dict(now=now)
