"""Use cases of auditors: read entries with filters, the signed checkpoint, proofs, evidence."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from audit import (
    AuditError,
    AuditLog,
    Checkpoint,
    EvidenceBundle,
    InvalidFormat,
    NoteVerifier,
    SignatureInvalid,
    SignedCheckpoint,
    canonical_bytes,
    leaf_hash,
    open_checkpoint,
    parse_bound,
    pick_verifier,
    verify_inclusion,
)
from catalog.models import datasets_table
from policies import workflow

from .. import events
from ..auth import Principal
from ..errors import InvalidInput
from ..models import departments, users
from ..services import Services

__all__ = ["entries", "checkpoint", "inclusion", "consistency", "verifier_key",
           "inclusion_evidence", "check_inclusion", "evidence_bundle", "verify_bundle",
           "LogCheck", "EVENT_TYPES", "FILTERS", "EntryQuery", "whole_number", "ENTRY_FORMS",
           "MAX_PAGE", "SavedCheck", "check_saved_checkpoint", "MAX_CHECKPOINT_BYTES", "Match",
           "MAX_MATCHES", "SYSTEM_ACTORS", "resolve", "Selection", "selection",
           "selected_entries", "EXPORT_MAX"]

#: The kinds of entry the log holds (one builder each in :mod:`exchange.events`).
EVENT_TYPES = events.EVENT_TYPES

FILTERS = ("type", "since", "until", "department", "dataset_id", "actor")
#: ``object``: each entry as JSON; ``logged``: the exact text the log hashed (RFC 8785), which
#: a verifier hashes as it is instead of canonicalizing it again.
ENTRY_FORMS = ("object", "logged")
MAX_PAGE = 1000
#: The most departments, users or datasets the text of one filter stands for.
MAX_MATCHES = 200
#: Actors the log names that are no user: the exchange itself, granting unconditional data.
SYSTEM_ACTORS = (workflow.AUTO_APPROVER,)
#: The most entries one export holds (an XLSX sheet holds 1,048,575).
EXPORT_MAX = 100_000
_EXPORT_BATCH = 1000
MAX_INT = 2**62  # what every database stores in an integer column


def whole_number(value: Any, name: str, *, default: int | None = None, low: int = 0,
                 high: int = MAX_INT) -> int:
    """A query parameter as a whole number in ``low..high``. Raises InvalidInput."""
    if value in (None, "") and default is not None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}")
    return number


@dataclasses.dataclass(frozen=True)
class EntryQuery:
    """Which entries to read: a page (``offset``, ``limit`` ≤ 1000) in log order, filtered;
    ``logged`` gives each entry as the exact text the log hashed."""

    offset: int = 0
    limit: int = 100
    logged: bool = False
    newest_first: bool = False
    type: str | None = None
    since: str | None = None
    until: str | None = None
    department: str | None = None
    dataset_id: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        whole_number(self.offset, "offset")
        whole_number(self.limit, "limit", low=1, high=MAX_PAGE)
        for bound in ("since", "until"):  # not a time at all: malformed (400)
            try:
                parse_bound(getattr(self, bound), bound)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> EntryQuery:
        """From query parameters (text): ``offset``, ``limit``, ``form`` (object or
        logged) and the filters. Raises InvalidInput."""
        form = args.get("form") or "object"
        if form not in ENTRY_FORMS:
            raise InvalidInput(f"form must be one of {', '.join(ENTRY_FORMS)}")
        return cls(offset=whole_number(args.get("offset"), "offset", default=0),
                   limit=whole_number(args.get("limit"), "limit", default=100, low=1,
                                      high=MAX_PAGE),
                   logged=form == "logged", newest_first=_order(args.get("order")),
                   **{k: args[k] for k in FILTERS if args.get(k)})

    def filters(self) -> dict[str, str]:
        """The filters that are set."""
        return {k: getattr(self, k) for k in FILTERS if getattr(self, k)}


@dataclasses.dataclass(frozen=True)
class Match:
    """What the ``text`` of a filter stands for: the ``values`` the log holds (department
    codes, usernames, dataset ids), ``exact`` when the text is one of them, ``more`` when
    more than :data:`MAX_MATCHES` matched (only the first, in order, are searched)."""

    text: str
    values: tuple[str, ...]
    exact: bool = False
    more: bool = False

    def as_filter(self) -> str | tuple[str, ...]:
        """What the log's filter takes: the text itself when exact, else the values and the
        text itself — a code the log holds that no table knows any more (a department
        renamed away, a user removed, a test's own id) is still found by its exact value."""
        return self.text if self.exact else tuple(dict.fromkeys((*self.values, self.text)))

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"values": list(self.values)}


def resolve(conn: sa.Connection, query: EntryQuery) -> dict[str, Match]:
    """What the text of the ``department``, ``actor`` and ``dataset_id`` filters that are set
    stands for. An exact code, username or dataset id is itself; any other text stands for
    every department whose code, Chinese or English name contains it, every user whose
    username or display name contains it (and the system actors that do), every dataset
    whose id or title contains it — case-insensitively. Only the small tables are searched;
    the log is then filtered on its indexed columns. Raises nothing."""
    found: dict[str, Match] = {}
    d, u, ds = departments.c, users.c, datasets_table.c
    if query.department:
        found["department"] = _lookup(conn, query.department, d.code, (d.name, d.name_en))
    if query.actor:
        found["actor"] = _lookup(conn, query.actor, u.username, (u.display_name,),
                                 extra=SYSTEM_ACTORS)
    if query.dataset_id:
        found["dataset_id"] = _lookup(conn, query.dataset_id, ds.id, (ds.title,))
    return found


def _lookup(conn: sa.Connection, text: str, key: Any, names: tuple[Any, ...], *,
            extra: tuple[str, ...] = ()) -> Match:
    """The ``key`` values of the rows whose key is ``text`` (exact), else whose key or one
    of ``names`` contains it, plus the ``extra`` values that do."""
    if text in extra or conn.execute(sa.select(key).where(key == text)).first() is not None:
        return Match(text, (text,), exact=True)
    contains = sa.or_(*(column.icontains(text, autoescape=True) for column in (key, *names)))
    values = list(conn.execute(sa.select(key).where(contains).order_by(key)
                               .limit(MAX_MATCHES + 1)).scalars())
    values += [v for v in extra if text.casefold() in v.casefold()]
    values = sorted(dict.fromkeys(values))
    return Match(text, tuple(values[:MAX_MATCHES]), more=len(values) > MAX_MATCHES)


def _log_filters(query: EntryQuery, matched: Mapping[str, Match]) -> dict[str, Any]:
    """The log's filters for ``query`` with the text resolved (:meth:`Match.as_filter`)."""
    return query.filters() | {name: m.as_filter() for name, m in matched.items()}


def entries(svc: Services, who: Principal, query: EntryQuery = EntryQuery()) -> dict[str, Any]:
    """A page of entries: ``size`` of the log, ``total`` the filters select, the page, and
    in ``matched`` what the text of each name filter stood for (:func:`resolve`; no value:
    no table knows it, and only entries holding exactly that text match). Raises Forbidden."""
    svc.require(who, "audit", "read")
    key = "logged" if query.logged else "entry"
    with svc.reader.connect() as conn:
        log = svc.log_reader
        matched = resolve(conn, query)
        filters = _log_filters(query, matched)
        rows = log.entries(conn, offset=query.offset, limit=query.limit, logged=query.logged,
                           newest_first=query.newest_first, **filters)
        size = log.size(conn)
        total = log.count(conn, **filters) if filters else size
    return {"size": size, "total": total, "offset": query.offset, "limit": query.limit,
            "order": "desc" if query.newest_first else "asc",
            "matched": {name: m.as_json() for name, m in matched.items()},
            "entries": [{"index": i, key: e} for i, e in rows]}


@dataclasses.dataclass(frozen=True)
class Selection:
    """The entries a query's filters select from the log as it stood (its first ``size``
    entries): ``total`` of them, of which an export holds the first ``exported`` in the
    query's order; ``matched`` as in :func:`entries`."""

    query: EntryQuery
    size: int
    total: int
    matched: Mapping[str, Match]
    filters: Mapping[str, Any]

    @property
    def exported(self) -> int:
        return min(self.total, EXPORT_MAX)


def selection(svc: Services, who: Principal, query: EntryQuery) -> Selection:
    """What an export of ``query`` (its filters and order; not its page) holds: the entries
    of the log as it stands now, so that entries appended while it is read are left out.
    Raises Forbidden."""
    svc.require(who, "audit", "read")
    with svc.reader.connect() as conn:
        matched = resolve(conn, query)
        filters = _log_filters(query, matched)
        size = svc.log_reader.size(conn)
        total = svc.log_reader.count(conn, before=size, **filters)
    return Selection(query=query, size=size, total=total, matched=matched, filters=filters)


def selected_entries(svc: Services, chosen: Selection) -> Iterator[tuple[int, str]]:
    """The first :attr:`Selection.exported` entries of ``chosen`` in its order, each as
    ``(index, the exact text logged)``, read a batch at a time (each batch on a connection
    of its own, and by index rather than by offset: a long export holds no connection while
    it is sent and never re-reads what it skipped)."""
    newest_first, left = chosen.query.newest_first, chosen.exported
    bound: int | None = chosen.size if newest_first else -1
    while left > 0:
        stretch = {"before": bound} if newest_first else {"after": bound,
                                                          "before": chosen.size}
        with svc.reader.connect() as conn:
            batch = svc.log_reader.entries(conn, limit=min(_EXPORT_BATCH, left), logged=True,
                                           newest_first=newest_first, **stretch,
                                           **chosen.filters)
        if not batch:
            return
        yield from batch
        left -= len(batch)
        bound = batch[-1][0]


def _order(value: Any) -> bool:
    """``order``: asc (log order, what verifiers read) or desc (newest first, for pages)."""
    if value in (None, "", "asc"):
        return False
    if value == "desc":
        return True
    raise InvalidInput("order must be asc or desc", field="order")


def checkpoint(svc: Services, who: Principal) -> str:
    """The latest signed checkpoint (C2SP signed note)."""
    svc.require(who, "audit", "read")
    return svc.checkpoint()


def inclusion(svc: Services, who: Principal, *, index: int, size: int) -> dict[str, Any]:
    """Inclusion proof of entry ``index`` in the tree of ``size`` entries. Raises Forbidden,
    InvalidRange."""
    svc.require(who, "audit", "read")
    with svc.reader.connect() as conn:
        proof = svc.log_reader.inclusion_proof(conn, index, size)
    return {"index": index, "size": size, "hashes": [_b64(h) for h in proof]}


def consistency(svc: Services, who: Principal, *, old: int, new: int) -> dict[str, Any]:
    """Consistency proof between the trees of ``old`` and ``new`` entries. Raises Forbidden,
    InvalidRange."""
    svc.require(who, "audit", "read")
    with svc.reader.connect() as conn:
        proof = svc.log_reader.consistency_proof(conn, old, new)
    return {"old": old, "new": new, "hashes": [_b64(h) for h in proof]}


def inclusion_evidence(svc: Services, log: AuditLog, index: int,
                       signed: SignedCheckpoint) -> dict[str, Any]:
    """The proof that entry ``index`` is in the tree the ``signed`` checkpoint of ``log``
    covers (the evidence a delivery hands over). Raises InvalidRange if it does not."""
    with svc.reader.connect() as conn:
        proof = log.inclusion_proof(conn, index, signed.size)
    return {"index": index, "size": signed.size, "hashes": [_b64(h) for h in proof]}


def verifier_key(svc: Services) -> dict[str, Any]:
    """The C2SP verifier key of the checkpoint signer (public), and in ``keys`` every key the
    exchange has signed with, active first, so checkpoints saved before a rotation still
    verify (``status`` active or retired; ``kid`` the key's JWK thumbprint, as in the JWKS).

    ``vkey`` is the key this process signs with: after ``govex keys rotate`` a running server
    changes to the new one with its next signature."""
    origin = svc.settings.log_origin
    in_use = svc.audit_log().signer.verifier_key
    with svc.reader.connect() as conn:
        published = svc.keys.public_keys(conn)
    keys = [{"kid": k.kid, "status": k.status,
             "vkey": NoteVerifier.from_public_bytes(origin, k.raw).verifier_key}
            for k in published]
    return {"origin": origin, "vkey": in_use, "keys": keys}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def check_inclusion(svc: Services, who: Principal, index: int,
                    record: Mapping[str, Any]) -> dict[str, Any]:
    """Check entry ``index`` (``record``) against the current signed checkpoint with an
    inclusion proof: ``ok``, the checkpoint's ``size``, the ``problem`` if any, the number
    of proof ``hashes``, the ``proof`` itself (hex, leaf side first) and the checkpoint's
    ``root`` (hex). Raises Forbidden."""
    key = verifier_key(svc)
    signed = open_checkpoint(checkpoint(svc, who), NoteVerifier.from_vkey(key["vkey"]))
    proof = inclusion(svc, who, index=index, size=signed.size)
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    shown = {"size": signed.size, "hashes": len(hashes), "proof": [h.hex() for h in hashes],
             "root": signed.root_hash.hex()}
    try:
        verify_inclusion(index=index, size=signed.size, proof=hashes, root=signed.root_hash,
                         leaf_hash=leaf_hash(canonical_bytes(dict(record))))
    except AuditError as exc:
        return shown | {"ok": False, "problem": str(exc)}
    return shown | {"ok": True, "problem": None}


@dataclasses.dataclass(frozen=True)
class LogCheck:
    """The outcome of verifying the whole log: ``problem`` is None when it verified."""

    size: int
    root_hex: str
    uncovered: int
    problem: str | None


def evidence_bundle(svc: Services, who: Principal) -> EvidenceBundle:
    """The signed checkpoint, the verifier key and exactly the entries it covers, as
    ``govex audit export`` assembles them over the API. Raises Forbidden."""
    def covered(size: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < size:
            limit = min(MAX_PAGE, size - len(found))
            page = entries(svc, who, EntryQuery(offset=len(found), limit=limit, logged=True))
            found += page["entries"]
            if len(page["entries"]) < limit:
                break
        return found

    return EvidenceBundle.collect(checkpoint=checkpoint(svc, who), key=verifier_key(svc),
                                  entries=covered)


def verify_bundle(bundle: EvidenceBundle, *, log_size: int | None = None) -> LogCheck:
    """Recompute the tree from every entry and check it against the signed checkpoint;
    ``uncovered`` counts the entries of a log of ``log_size`` the checkpoint does not cover
    yet."""
    uncovered = max(0, (log_size or 0) - len(bundle))
    try:
        done = bundle.verify(verifier=NoteVerifier.from_vkey(bundle.vkey))
    except AuditError as exc:
        return LogCheck(size=len(bundle), root_hex="", uncovered=uncovered, problem=str(exc))
    return LogCheck(size=done.size, root_hex=done.root_hash.hex(), uncovered=uncovered,
                    problem=None)


#: A signed checkpoint is a few hundred bytes; anything much larger is not one.
MAX_CHECKPOINT_BYTES = 16 * 1024


@dataclasses.dataclass(frozen=True)
class SavedCheck:
    """What checking a checkpoint saved earlier found. ``outcome``: ``consistent`` (signed by
    one of the exchange's keys, and today's log holds exactly what it covered and only grew
    since), or the problem: ``not_a_checkpoint``, ``other_log`` (another exchange's),
    ``unknown_signer`` (none of the keys this exchange has ever signed with),
    ``rolled_back`` (the log is now shorter than it was), ``rewritten`` (entries it covered
    changed), ``log_fails`` (today's log does not verify at all)."""

    outcome: str
    saved_size: int | None = None
    saved_root: str = ""
    signer_kid: str = ""
    signer_status: str = ""
    size: int = 0
    root: str = ""
    proof: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome == "consistent"


def check_saved_checkpoint(svc: Services, who: Principal, note: bytes) -> SavedCheck:
    """Check a checkpoint an auditor saved earlier (``note``: the signed note's bytes) against
    today's log: its signature against every key the exchange has signed with (retired ones
    too), then that the log only grew since — the first ``saved_size`` entries of today's log
    hash to the saved root, and the consistency proof from the saved tree to today's signed
    tree verifies (its hashes are returned, hex). Nothing is kept. Raises Forbidden."""
    svc.require(who, "audit", "read")
    origin = svc.settings.log_origin
    if len(note) > MAX_CHECKPOINT_BYTES:
        return SavedCheck("not_a_checkpoint")
    try:
        text = note.decode("utf-8")
        claimed = Checkpoint.unverified(text)
    except (UnicodeDecodeError, InvalidFormat, SignatureInvalid):
        return SavedCheck("not_a_checkpoint")
    if claimed.origin != origin:
        return SavedCheck("other_log", saved_size=claimed.size)
    with svc.reader.connect() as conn:
        published = {k.kid: (NoteVerifier.from_public_bytes(origin, k.raw), k.status)
                     for k in svc.keys.public_keys(conn)}
    try:
        signer = pick_verifier(text, [v for v, _ in published.values()])
        saved = open_checkpoint(text, signer, origin=origin)
    except (SignatureInvalid, InvalidFormat):
        return SavedCheck("unknown_signer", saved_size=claimed.size)
    kid, status = next((k, s) for k, (v, s) in published.items()
                       if v.key_id == signer.key_id)
    current = evidence_bundle(svc, who)
    active = NoteVerifier.from_vkey(current.vkey)
    now = open_checkpoint(current.checkpoint, active, origin=origin)
    found = dict(saved_size=saved.size, saved_root=saved.root_hash.hex(), signer_kid=kid,
                 signer_status=status, size=now.size, root=now.root_hash.hex())
    if saved.size > now.size:
        return SavedCheck("rolled_back", **found)
    proof: list[bytes] = []
    if 0 < saved.size < now.size:
        with svc.reader.connect() as conn:
            proof = svc.log_reader.consistency_proof(conn, saved.size, now.size)
    try:
        current.verify(verifier=active, old_checkpoint=text, old_consistency_proof=proof,
                       old_verifier=signer)
    except AuditError:
        return SavedCheck("rewritten" if _verifies(current, active) else "log_fails", **found)
    return SavedCheck("consistent", proof=tuple(h.hex() for h in proof), **found)


def _verifies(bundle: EvidenceBundle, verifier: NoteVerifier) -> bool:
    """Whether the log verifies on its own (to tell a rewritten past from a broken log)."""
    try:
        bundle.verify(verifier=verifier)
    except AuditError:
        return False
    return True
