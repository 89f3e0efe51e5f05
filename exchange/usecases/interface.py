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

At rate, a process keeps what every call under a grant reads alike (:class:`_Plan`) and checks
it again in each call's own transaction; it masks the rows of concurrent lookups together
(:class:`_MaskingLane`). A query grant delivers no file (:func:`exchange.usecases.delivery.
deliver` refuses it): the table never leaves through it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from catalog import DatasetVersion, open_table_source, repository
from masking import ChunkedMasker, ColumnRule, resident_id_check_char
from policies import Grant, GrantInactive, GrantNotFound, workflow

from .. import departments, events, lookups, workdays
from ..auth import Principal
from ..errors import Conflict, InvalidInput, TooManyAttempts
from ..models import query_calls, subject_calls
from ..receipts import sign_receipt
from ..services import Services
from .delivery import authorized_grant
from .masking_plan import profiles_of, version_for

__all__ = ["build_index", "lookup", "verify", "query_grant", "successor", "suspend", "resume",
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


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What every call under a query grant reads alike until the grant or its dataset
    changes, kept for the process: the grant as read, the version its calls read, the
    dataset's newest version number then (for a grant that follows the latest) and the key
    columns whose index is ready. Each call's transaction reads the grant again under lock
    and the newest version number, and a call whose plan no longer holds is made again on a
    fresh one (:class:`_Stale`): a revocation, a suspension, a grant moved or a new version
    counts at once, in every process."""

    grant: Grant
    version: DatasetVersion | None  # None: not a query grant
    latest: int | None
    ready: frozenset[str]


class _Stale(Exception):
    """The grant or its dataset changed since the call's plan was read."""


class _Kept:
    """A process's plans of query grants, their maskers, the grants whose day of calls is
    spent and the masking lane."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.plans: dict[str, _Plan] = {}
        self.maskers: dict[tuple[str, int, str], ChunkedMasker] = {}
        self.spent: dict[str, dt.date] = {}  # the limit is fixed at approval: spent till midnight
        self.lane = _MaskingLane()

    def forget(self, grant_id: str) -> None:
        with self.lock:
            self.plans.pop(grant_id, None)


MAX_PLANS = 4096  # grants whose plans a process keeps (all of them, in any real city)


def _kept(svc: Services) -> _Kept:
    found = svc.kept.get("interface")
    if found is None:
        found = svc.kept.setdefault("interface", _Kept())
    return found


def _plan(svc: Services, who: Principal, grant_id: str, *, fresh: bool) -> _Plan:
    """The plan of a query grant ``who`` may call now (authorized on every call: throttle,
    Casbin after every committed policy change, the grant's department, not expired).
    Raises Forbidden, GrantNotFound, GrantInactive, InvalidInput (a file grant)."""
    kept = _kept(svc)
    plan = None if fresh else kept.plans.get(grant_id)
    if plan is None or plan.grant.status(svc.clock()) != "active":  # kept: active ones only
        plan = _read_plan(svc, grant_id)
        if plan.version is not None and plan.grant.status(svc.clock()) == "active":
            with kept.lock:
                if len(kept.plans) >= MAX_PLANS:
                    kept.plans.clear()
                kept.plans[grant_id] = plan
    authorized_grant(svc, who, plan.grant)
    if plan.version is None:
        raise InvalidInput("this grant delivers files: look up under a query grant",
                           code="not_a_query_grant")
    return plan


def _read_plan(svc: Services, grant_id: str) -> _Plan:
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
        if grant.mode != "query":
            return _Plan(grant, None, None, frozenset())
        latest = (repository.latest_version(conn, grant.dataset_id)
                  if grant.follows == "latest" else None)  # read first: a race makes it stale
        version = version_for(conn, grant)
        ready = frozenset(c for c in grant.key_columns or ()
                          if lookups.state(conn, grant.dataset_id, version.version, c)
                          == "ready")
    return _Plan(grant, version, latest, ready)


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


def _masker(svc: Services, grant: Any, version: Any) -> ChunkedMasker:
    """The grant's masker for a version (its plan fixed by the profiles of publication),
    kept for the process: a lookup masks one row, not a table to profile."""
    plan_key = json.dumps(grant.masking, sort_keys=True, ensure_ascii=False)
    cache = (grant.id, version.version, plan_key)
    kept = _kept(svc)
    found = kept.maskers.get(cache)
    if found is not None:
        return found
    policy = {c: ColumnRule(grant.masking[c]) for c in grant.columns}
    masker = ChunkedMasker(policy=policy, hash_key=svc.master.pseudonym_key(grant.receiver),
                           analyzer=svc.analyzer() if "scrub" in grant.masking.values()
                           else None)
    masker.adopt(profiles_of(version, list(grant.columns)))
    with kept.lock:
        if len(kept.maskers) >= MAX_PLANS:
            kept.maskers.clear()
        kept.maskers[cache] = masker
    return masker


class _MaskJob:
    def __init__(self, masker: ChunkedMasker, columns: list[str], rows: list[dict]) -> None:
        self.masker, self.columns, self.rows = masker, columns, rows
        self.done = threading.Event()
        self.result: list[dict[str, Any]] = []
        self.error: BaseException | None = None


class _MaskingLane:
    """Masks the rows of the lookups made at the same time together, on one thread.

    Masking is columnar (pyarrow kernels, the same as for a file): one row costs as many
    kernel calls as a million, and each call lets go of the interpreter's lock, so eight
    threads masking one row each spent more time handing the lock around than masking.
    Here the rows of every lookup waiting meanwhile under the same masker are masked as one
    table, and each caller gets its own rows back (a value's mask does not depend on the
    rows beside it)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_MaskJob] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def mask(self, masker: ChunkedMasker, columns: list[str],
             rows: list[dict]) -> list[dict[str, Any]]:
        """``rows`` (only ``columns`` of them) masked; raises what masking raised."""
        job = _MaskJob(masker, columns, rows)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="govex-masking",
                                                daemon=True)
                self._thread.start()
        self._queue.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            while len(jobs) < MAX_MASKED_TOGETHER:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            together: dict[int, list[_MaskJob]] = {}
            for job in jobs:
                together.setdefault(id(job.masker), []).append(job)
            for group in together.values():
                self._mask(group)

    @classmethod
    def _mask(cls, group: list[_MaskJob]) -> None:
        """Mask the group's rows in one pass; if that fails, each job alone, so that only a
        job whose own rows fail gets the error (its own exception)."""
        try:
            first = group[0]
            rows = [r for job in group for r in job.rows]
            table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string())
                              for c in first.columns})
            masked = first.masker.mask(table, count=False).to_pylist()
            start = 0
            for job in group:
                job.result = masked[start:start + len(job.rows)]
                start += len(job.rows)
        except BaseException as exc:  # noqa: BLE001 (handed to its caller)
            if len(group) > 1:
                for job in group:
                    cls._mask([job])
                return
            group[0].error = exc
        for job in group:
            job.done.set()


MAX_MASKED_TOGETHER = 256  # lookups whose rows one pass masks at most


def _found(svc: Services, who: Principal, plan: _Plan, column: str,
           value: str) -> tuple[_Plan, list[dict]]:
    """The rows of the plan's version whose ``column`` holds ``value``, in the grant's row
    scope, unmasked (one statement), with the plan they were read under (planned again once
    if the column's index was not ready). Raises Conflict (the index is being built)."""
    if column not in plan.ready:
        plan = _plan(svc, who, plan.grant.id, fresh=True)
        if column not in plan.ready:
            raise Conflict("the lookup index of this version is being built: try again "
                           "shortly", code="index_not_ready")
    grant, version = plan.grant, plan.version
    seal, hash_key = _keys(svc)
    with svc.reader.connect() as conn:
        raw = lookups.find_rows(conn, seal, grant.dataset_id, version.version, column,
                                lookups.key_hash(hash_key, value), limit=MAX_ROWS)
        # a miss is a miss only in a ready index (a build run again clears it first)
        rebuilt = not raw and lookups.state(conn, grant.dataset_id, version.version,
                                            column) != "ready"
    if rebuilt:
        _kept(svc).forget(grant.id)
        raise Conflict("the lookup index of this version is being built: try again "
                       "shortly", code="index_not_ready")
    names = [c["name"] for c in version.columns]
    rows = [dict(zip(names, r, strict=True)) for r in raw]
    if grant.rows:
        rows = [r for r in rows if all(r.get(c) in set(v) for c, v in grant.rows.items())]
    return plan, rows


# a day's tally of a grant's calls, read and written once per call (built once)
_T = query_calls.c
_TALLY = sa.select(query_calls).where(_T.grant_id == sa.bindparam("grant_id"),
                                      _T.day == sa.bindparam("day"))
_TALLY_UPDATE = query_calls.update().where(  # the other columns' values are named after them
    _T.grant_id == sa.bindparam("of_grant"), _T.day == sa.bindparam("of_day"))
_SUBJECT = subject_calls.insert().values(key_hash=sa.bindparam("key_hash"),
                                         audit_index=sa.bindparam("audit_index"))


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


def _tally(rec: Any, grant: Any, *, day: dt.date, missed: bool, digest: bytes,
           following: bytes | None, now: dt.datetime) -> None:
    """Count the call (and a miss) against the grant's daily limit, in the call's
    transaction (the grant's row is locked: one call at a time per grant, in any process),
    then watch: a scan of consecutive keys suspends the grant; a day of mostly misses raises
    an alert once. Each alert is a ``query_alert`` entry, told to the provider's stewards,
    the data authority and the receiving department. Raises TooManyAttempts when the day's
    calls are spent (nothing written)."""
    found = rec.conn.execute(_TALLY, {"grant_id": grant.id, "day": day}).first()
    if found is not None and found.calls >= grant.daily_limit:
        raise _limit(grant, now)
    calls = (found.calls if found else 0) + 1
    misses = (found.misses if found else 0) + int(missed)
    scanning = found is not None and found.next_key is not None \
        and bytes(found.next_key) == digest
    run = found.run + 1 if scanning else 1
    alerted = bool(found.alerted) if found is not None else False
    reason = None
    if run >= SCAN_RUN:
        reason = "key_scan"
    elif not alerted and misses >= MISS_ALERT_AT and misses * 2 >= calls:
        reason, alerted = "miss_burst", True
    values = {"grant_id": grant.id, "day": day, "calls": calls, "misses": misses, "run": run,
              "next_key": following, "alerted": alerted}
    if found is None:
        rec.conn.execute(query_calls.insert().values(**values))
    else:
        rec.conn.execute(_TALLY_UPDATE, {**values, "of_grant": grant.id, "of_day": day})
    if reason is None:
        return
    suspended = reason == "key_scan" and workflow.suspend(rec.conn, grant.id, reason=reason,
                                                          now=now)
    if reason == "key_scan" and not suspended:
        return  # suspended already: told once
    rec.append(events.QueryAlert(
        actor=ALERTER, provider=grant.provider, receiver=grant.receiver,
        dataset_id=grant.dataset_id, grant_id=grant.id, reason=reason, calls=calls,
        misses=misses, suspended=bool(suspended),
        authorities=departments.authorities_of(rec.conn, grant.provider)))


def _limit(grant: Any, now: dt.datetime) -> TooManyAttempts:
    """429 until midnight in Shanghai, when the next day's calls begin."""
    local = now.astimezone(workdays.TZ)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                   workdays.TZ)
    return TooManyAttempts(f"the grant's {grant.daily_limit} calls of today are spent",
                           code="daily_limit_reached", limit=grant.daily_limit,
                           until=midnight.astimezone(dt.timezone.utc))


def _check_spent(svc: Services, plan: _Plan) -> dt.date:
    """Today (Shanghai); raises TooManyAttempts if this process saw today's calls spent
    (GrantInactive first if the grant was suspended or revoked since)."""
    now = svc.clock()
    day = now.astimezone(workdays.TZ).date()
    if _kept(svc).spent.get(plan.grant.id) == day:
        with svc.reader.connect() as conn:
            try:
                workflow.active_grant(conn, plan.grant.id, now=now)
            except GrantInactive:
                _kept(svc).forget(plan.grant.id)
                raise
        raise _limit(plan.grant, now)
    return day


def _call(svc: Services, who: Principal, plan: _Plan, *, call: str, column: str, value: str,
          rows: int, outcome: str, columns: Mapping[str, str] | None,
          claims: list[str] | None, digest: str | None) -> tuple[int, str, str]:
    """Record one call (its entry, its count, its receipt) through the batching writer; its
    audit index, the receipt and the key's pseudonym, once durable. Raises _Stale (the plan
    no longer holds: nothing written), GrantInactive, TooManyAttempts."""
    grant, version = plan.grant, plan.version
    _, hash_key = _keys(svc)
    hashed = lookups.key_hash(hash_key, value)
    key = hashed.hex()
    after = successor(value)
    following = lookups.key_hash(hash_key, after) if after is not None else None
    now = svc.clock()
    day = now.astimezone(workdays.TZ).date()

    def work(rec: Any) -> tuple[int, str]:
        current = workflow.active_grant(rec.conn, grant.id, now=now, lock=True)
        if current != grant or (plan.latest is not None and repository.latest_version(
                rec.conn, grant.dataset_id) != plan.latest):
            raise _Stale(grant.id)
        index = rec.append(events.Lookup(
            actor=who.username, actor_department=who.department, provider=grant.provider,
            receiver=grant.receiver, dataset_id=grant.dataset_id,
            dataset_version=version.version, grant_id=grant.id, call=call, key_column=column,
            key=key, rows=rows, outcome=outcome, columns=columns, claims=claims))
        _tally(rec, current, day=day, missed=outcome in ("not_found", "no_match"),
               digest=hashed, following=following, now=now)
        rec.conn.execute(_SUBJECT, {"key_hash": hashed, "audit_index": index})
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

    kept = _kept(svc)
    try:
        (index, receipt), _rec = svc.submit(work)
    except (_Stale, GrantInactive):
        kept.forget(grant.id)
        raise
    except TooManyAttempts:
        kept.spent[grant.id] = day
        raise
    return index, receipt, key


def workflow_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _twice(svc: Services, who: Principal, grant_id: str,
           answer: Callable[[_Plan], dict[str, Any]]) -> dict[str, Any]:
    """``answer(plan)`` on the kept plan; once more on a fresh one if the grant or its
    dataset changed meanwhile. Raises Conflict if it changed again."""
    for fresh in (False, True):
        plan = _plan(svc, who, grant_id, fresh=fresh)
        try:
            return answer(plan)
        except _Stale:
            continue
    raise Conflict("the grant changed while the call was made: try again",
                   code="grant_changed")


def lookup(svc: Services, who: Principal, grant_id: str, *, key: Any) -> dict[str, Any]:
    """The rows of the grant's dataset whose key column holds the key's value (after
    normalization), in its row scope, masked as granted: ``rows``, ``audit_index`` and the
    signed ``receipt`` (its ``sha256`` covers the rows as canonical JSON). Raises Forbidden,
    GrantInactive (revoked, expired, suspended), InvalidInput, Conflict (the index is being
    built), TooManyAttempts (the day's calls are spent)."""

    def answer(plan: _Plan) -> dict[str, Any]:
        grant = plan.grant
        column, value = _key(key, grant, "key")
        _check_spent(svc, plan)
        plan, found = _found(svc, who, plan, column, value)
        grant = plan.grant  # the plan it was read under (a fresh one if the index was not)
        rows: list[dict[str, Any]] = []
        if found:
            rows = _kept(svc).lane.mask(_masker(svc, grant, plan.version),
                                        list(grant.columns), found)
        data = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(data.encode()).hexdigest()
        delivered = {c: grant.masking[c] for c in grant.columns if grant.masking[c] != "drop"}
        index, receipt, pseudonym = _call(
            svc, who, plan, call="lookup", column=column, value=value, rows=len(rows),
            outcome="found" if rows else "not_found", columns=delivered, claims=None,
            digest=digest)
        return {"rows": rows, "audit_index": index, "receipt": receipt, "key": pseudonym}

    return _twice(svc, who, grant_id, answer)


def verify(svc: Services, who: Principal, grant_id: str, *, claims: Any) -> dict[str, Any]:
    """Whether a record holds every claimed value (核验): the claims name one key column and
    any of the grant's columns; each value is compared after normalization. Only ``match``
    is answered, with the call's ``audit_index`` and ``receipt``. Raises as :func:`lookup`."""

    def answer(plan: _Plan) -> dict[str, Any]:
        grant = plan.grant
        if not isinstance(claims, Mapping) or not claims or len(claims) > 10:
            raise InvalidInput("claims map columns to the values to check",
                               code="claims_invalid", field="claims")
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
                                   code="key_value_invalid", field="claims",
                                   max=MAX_KEY_CHARS)
        column = keyed[0]
        _check_spent(svc, plan)
        plan, found = _found(svc, who, plan, column, claims[column])
        wanted = {c: lookups.normalize(v) for c, v in claims.items()}
        match = any(all(lookups.normalize(r.get(c) or "") == v for c, v in wanted.items())
                    for r in found)
        index, receipt, pseudonym = _call(
            svc, who, plan, call="verify", column=column, value=claims[column],
            rows=len(found), outcome="match" if match else "no_match", columns=None,
            claims=sorted(claims), digest=None)
        return {"match": match, "audit_index": index, "receipt": receipt, "key": pseudonym}

    return _twice(svc, who, grant_id, answer)


def query_grant(svc: Services, who: Principal, grant_id: str) -> dict[str, Any]:
    """A query grant as its receiving department sees it before a call (the lookup page):
    the grant with its status now, and today's ``calls_today`` (Shanghai day). Raises
    Forbidden, GrantNotFound (also another department's grant), InvalidInput (a file
    grant)."""
    svc.require(who, "grant", "list")
    now = svc.clock()
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
        tally = conn.execute(_TALLY, {"grant_id": grant.id,
                                      "day": now.astimezone(workdays.TZ).date()}).first()
    if grant.receiver != who.department:
        raise GrantNotFound(f"no grant {grant_id}", code="grant_not_found")
    if grant.mode != "query":
        raise InvalidInput("this grant delivers files: look records up under a query grant",
                           code="not_a_query_grant")
    return grant.to_dict(now=now) | {"calls_today": tally.calls if tally else 0}


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
