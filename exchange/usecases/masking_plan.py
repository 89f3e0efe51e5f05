"""The masking plan: which operator each delivered column gets, and applying it to a dataset.

Requests, decisions (:mod:`.access`), deliveries (:mod:`.delivery`) and the pages'
previews all ask this module; it asks none of them.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from catalog import (
    TableManifest,
    as_text_chunk,
    check_manifest,
    first_rows,
    open_table_source,
    repository,
    scoped_text_chunk,
    select_rows,
)
from masking import (
    OPERATORS,
    ChunkedMasker,
    ColumnProfile,
    ColumnRule,
    MaskContext,
    default_rules,
    get_operator,
    mask_parquet,
    operators_for,
)
from policies import DatasetFacts, rules, workflow

from .. import departments
from ..auth import Principal
from ..errors import InvalidInput, NotFound
from ..services import Services

__all__ = ["sample", "version_for", "OPERATOR_NAMES", "EXAMPLE_VALUES", "example",
           "check_operators",
           "check_plan", "dataset_facts", "default_masking", "masked_chunks", "operator_names",
           "planned_masking", "preview", "profiles_of"]


#: Every masking operator a grant may name, in the registry's order.
OPERATOR_NAMES: tuple[str, ...] = tuple(OPERATORS)


def operator_names(entity: str | None = None, *, keep: str | None = None) -> list[str]:
    """The masking operators a steward may choose for a column of ``entity``, in the
    registry's order (``keep``: one already chosen stays listed, so the form shows it)."""
    names = operators_for(entity)
    return [n for n in OPERATORS if n in names or n == keep]


#: An invented value of each kind of personal data, to show what an operator makes of it.
EXAMPLE_VALUES = {
    "PERSON": "张伟", "CN_MOBILE": "13812345678", "CN_LANDLINE": "028-86123456",
    "CN_RESIDENT_ID": "11010519491231002X", "CN_USCC": "91510104MA6CXXXX0E",
    "BANK_CARD": "6222020200112233445", "EMAIL_ADDRESS": "zhang.wei@example.cn",
    "IP_ADDRESS": "192.168.10.23", "CN_LICENSE_PLATE": "川A12345", "PASSPORT": "E12345678",
    "LOCATION": "成都市锦江区红星路二段88号3栋2单元501室", "BIRTH_DATE": "1985-03-07",
    "PHONE_NUMBER": "+44 20 7946 0958",
}
_EXAMPLE_KEY = b"govex example key, not a real one"


@functools.lru_cache(maxsize=256)
def example(entity: str | None, operator: str) -> tuple[str, str] | None:
    """What ``operator`` makes of an invented value of ``entity``, by the real operator:
    ``(before, after)``; None when there is no such value or the operator does not apply."""
    value = EXAMPLE_VALUES.get(entity or "")
    if value is None or operator in ("drop", "scrub") or operator not in OPERATORS:
        return None
    try:
        masked = get_operator(operator).apply(
            pa.array([value]), entity=entity, params={},
            context=MaskContext(hash_key=_EXAMPLE_KEY))
    except Exception:  # noqa: BLE001 - an operator that does not fit this entity: no example
        return None
    shown = masked.to_pylist()[0] if hasattr(masked, "to_pylist") else None
    return (value, "" if shown is None else str(shown))


def dataset_facts(dataset: Any) -> DatasetFacts:
    """What the policy workflow needs to know of a catalog dataset."""
    columns = dataset.version.columns if dataset.version else []
    personal = {c["name"] for c in columns
                if (c.get("profile") or {}).get("kind") in ("identifier", "free_text")}
    names = tuple(c["name"] for c in columns)
    public = frozenset((dataset.details or {}).get("public_columns") or []) & set(names)
    return DatasetFacts(id=dataset.id, version=dataset.current_version,
                        provider=dataset.department, sharing=dataset.sharing,
                        level=dataset.level, columns=names,
                        personal_columns=frozenset(personal), legal_basis=dataset.legal_basis,
                        public_columns=public)


def default_masking(dataset: Any) -> dict[str, str]:
    """The operator each column gets unless the steward says otherwise (from its profile;
    ``keep`` for a column its steward marked public by law, 依法公示)."""
    columns = dataset.version.columns if dataset.version else []
    profiles = [ColumnProfile.from_dict(c["profile"]) for c in columns if c.get("profile")]
    public = set((dataset.details or {}).get("public_columns") or [])
    return {col: "keep" if col in public else rule.operator
            for col, rule in default_rules(profiles).items()}


def check_operators(masking: Any) -> dict[str, str]:
    """Validate a {column: operator} mapping against the masking registry."""
    if masking is None:
        return {}
    if not isinstance(masking, dict) or not all(isinstance(v, str) for v in masking.values()):
        raise InvalidInput("masking must map column names to operator names",
                           code="masking_not_a_mapping", field="masking")
    unknown = sorted({op for op in masking.values() if op not in OPERATORS})
    if unknown:
        raise InvalidInput(f"unknown masking operator(s): {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(OPERATORS))}", code="operator_unknown",
                           field="masking", operators=unknown)
    return dict(masking)


@contextlib.contextmanager
def masked_chunks(svc: Services, dataset: Any, plan: dict[str, str], *, receiver: str,
                  chunk_rows: int, first_only: bool = False,
                  rows: Mapping[str, Sequence[str]] | None = None
                  ) -> Iterator[tuple[list[str], Iterator[Any]]]:
    """The delivered column names and the dataset's rows masked by ``plan`` ({column:
    operator}), chunk by chunk (``pyarrow`` tables of at most ``chunk_rows`` rows), read from
    the encrypted store as they are needed; with a row scope (``rows``, a grant's
    ``{column: [values]}``) only the rows in it, chosen before masking (the scope's columns
    need not be delivered).

    Each column's entity is the one in the dataset's profile (a steward's correction
    included), never one guessed from the first chunk; pseudonyms are keyed for ``receiver``.
    An external table is masked by Spark (the same plan, kernels, key and scope; see
    ``masking.spark``) into a spool folder read back chunk by chunk, after its folder is
    checked against the version's manifest; ``first_only`` masks its first ``chunk_rows``
    rows here instead (a preview, a check of the plan; scoped, the first rows in the scope of
    its first rows read).
    Raises InvalidMaskingPlan, UnknownOperator, PayloadMissing, PayloadCorrupt (also while
    iterating), TableChanged, SparkJobFailed.
    """
    columns = list(plan)
    policy = {c: ColumnRule(op) for c, op in plan.items()}
    key = svc.master.pseudonym_key(receiver)
    if dataset.version.location and not first_only:
        with _masked_by_spark(svc, dataset, policy, key, columns, chunk_rows, rows) as found:
            yield found
        return
    masker = ChunkedMasker(policy=policy, hash_key=key, analyzer=svc.analyzer())
    masker.adopt(_profiles(dataset, columns))  # the entities as profiled at publication
    # a preview of a scope reads more than it shows: the scope's rows may be few and far
    read_rows = max(chunk_rows, _SCOPED_PREVIEW_READ) if rows and first_only else chunk_rows
    limit = chunk_rows if first_only else None
    if dataset.version.location:
        folder, manifest = _external(dataset)
        first = first_rows(manifest.paths(folder), read_rows)
        scoped = _in_scope([first], rows, limit)
        yield masker.output_columns(columns), (masker.mask(c.select(columns)) for c in scoped)
        return
    digest = dataset.version.sha256
    with open_table_source(lambda: svc.store.open(digest), fmt=dataset.version.format,
                           chunk_rows=read_rows) as reader:
        chunks = (masker.mask(chunk.select(columns))
                  for chunk in _in_scope(reader, rows, limit))
        yield masker.output_columns(columns), chunks


#: A preview of a scoped grant reads this many rows at a time to find its first ones.
_SCOPED_PREVIEW_READ = 10_000


def _in_scope(chunks: Iterable[Any], rows: Mapping[str, Sequence[str]] | None,
              limit: int | None) -> Iterator[Any]:
    """The rows of ``chunks`` in the scope ``rows`` (every row without one), chunks left
    empty skipped (but one, so that a scope matching nothing still gives its columns), each
    cut to ``limit`` rows if given."""
    if not rows:
        yield from chunks
        return
    empty = None
    for chunk in chunks:
        chunk = select_rows(chunk, rows)
        if chunk.num_rows:
            yield chunk if limit is None else chunk.slice(0, limit)
        elif empty is None:
            empty = chunk
    if empty is not None:
        yield empty


@contextlib.contextmanager
def _masked_by_spark(svc: Services, dataset: Any, policy: dict[str, ColumnRule], key: bytes,
                     columns: list[str], chunk_rows: int,
                     rows: Mapping[str, Sequence[str]] | None = None
                     ) -> Iterator[tuple[list[str], Iterator[Any]]]:
    folder, manifest = _external(dataset)
    check_manifest(folder, manifest)  # the version it names, or nothing is delivered
    spool = svc.settings.spool_dir  # on a cluster: a folder its executors share
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spool, prefix="spark-") as work:
        out = Path(work) / "masked"
        result = mask_parquet(svc.spark(), manifest.paths(folder), out, policy=policy,
                              hash_key=key, profiles=_profiles(dataset, columns),
                              prepare=functools.partial(scoped_text_chunk, rows=rows)
                              if rows else as_text_chunk)
        yield result.output_columns, _parquet_chunks(out, result.output_columns, chunk_rows)


def _external(dataset: Any) -> tuple[Path, Any]:
    version = dataset.version
    return Path(version.location), TableManifest.from_dict(version.manifest)


def _parquet_chunks(folder: Path, columns: list[str], rows: int) -> Iterator[Any]:
    """The Parquet files Spark wrote in ``folder``, as chunks of at most ``rows`` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for part in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=rows, columns=columns):
            yield pa.Table.from_batches([batch])


def _profiles(dataset: Any, columns: list[str]) -> list[ColumnProfile]:
    return profiles_of(dataset.version, columns)


def profiles_of(version: Any, columns: list[str]) -> list[ColumnProfile]:
    """A version's profile of each of ``columns`` as published (a steward's correction
    included); a column stored without one counts as holding nothing personal."""
    stored = {c["name"]: c.get("profile") for c in version.columns}
    return [ColumnProfile.from_dict(stored[c]) if stored.get(c)
            else ColumnProfile(c, "none", None, 0.0, 0, 0) for c in columns]


def check_plan(svc: Services, dataset: Any, plan: dict[str, str], *, receiver: str,
               rows: int = 50) -> None:
    """Apply ``plan`` to the dataset's first rows, so that a grant is never issued with an
    operator that cannot mask its column (e.g. ``generalize`` on a phone column).
    Raises InvalidMaskingPlan (422) naming what does not fit."""
    with masked_chunks(svc, dataset, plan, receiver=receiver, chunk_rows=rows,
                       first_only=True) as (_, chunks):
        next(chunks, None)


def version_for(conn: Any, grant: Any) -> Any:
    """The version a delivery under ``grant`` reads: a pinned grant's own; for a grant that
    follows the latest, the newest version its conditions still fit
    (:func:`policies.rules.version_fits`; the approved one if none does — a version that
    makes a granted column personal waits for a steward's decision)."""
    approved = repository.get_version(conn, grant.dataset_id, grant.dataset_version)
    if grant.follows == "pinned":
        return approved
    for newer in repository.list_versions(conn, grant.dataset_id):  # newest first
        if newer.version <= approved.version:
            break
        if rules.version_fits(grant.columns, grant.masking, approved.columns, newer.columns):
            return newer
    return approved



# -- for the web pages: what a request would receive, before anyone decides ---------------


def planned_masking(svc: Services, who: Principal, dataset_id: str, columns: Any = None, *,
                    explicit: Any = None) -> dict[str, str]:
    """The operator each of ``columns`` (default: all) would get: ``explicit`` choices, else
    the dataset's defaults, with the sharing rules applied (L3+ never keeps a personal column
    by default). Raises Forbidden, DatasetNotFound, InvalidInput, InvalidRequest."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, dataset_id)
    facts = dataset_facts(dataset)
    wanted = list(facts.columns) if columns is None else rules.check_columns(columns, facts)
    return rules.resolve_masking(wanted, defaults=default_masking(dataset),
                                 explicit=check_operators(explicit), facts=facts)


def preview(svc: Services, who: Principal, request_id: str, *, masking: Any = None,
            rows: int = 5, scope: Any = None) -> dict[str, Any]:
    """The first ``rows`` rows of a request's dataset exactly as approving it with ``masking``
    and the row ``scope`` would deliver them (same operators, same receiver's pseudonym key,
    only rows in the scope), for a steward of the providing department; with the request,
    the plan, the scope and the scope proposed for its receiver (:func:`proposed_rows`).
    Raises Forbidden, RequestNotFound, DatasetNotFound, InvalidInput, InvalidRequest."""
    with svc.reader.connect() as conn:
        request = workflow.get_request(conn, request_id)
        dataset = repository.get_dataset(conn, request.dataset_id)
        proposed = proposed_rows(conn, dataset, request.receiver)
    svc.require(who, "request", "decide", dom=request.provider, target=request.id)
    plan = planned_masking(svc, who, dataset.id, request.columns, explicit=masking)
    scope = rules.check_rows(proposed if scope is PROPOSED else scope, dataset_facts(dataset))
    with masked_chunks(svc, dataset, plan, receiver=request.receiver, chunk_rows=rows,
                       first_only=True, rows=scope) as (columns, chunks):
        first = next(chunks, None)
    cells = [first.column(c).to_pylist() for c in columns] if first is not None else []
    return {"request": request.to_dict(), "masking": plan, "columns": columns,
            "rows": [["" if v is None else str(v) for v in row] for row in zip(*cells)],
            "scope": scope, "proposed_rows": proposed}


#: ``preview(scope=PROPOSED)``: the scope proposed for the request's receiver.
PROPOSED = "proposed"


def region_column(dataset: Any) -> str | None:
    """The column of the dataset's version that holds GB/T 2260 region codes (found at
    publication, or named by its steward), if any."""
    version = dataset.version
    return next((c["name"] for c in (version.columns if version else []) if c.get("region")),
                None)


def proposed_rows(conn: Any, dataset: Any, receiver: str) -> dict[str, list[str]] | None:
    """The row scope proposed for a request by ``receiver``: a district (or street)
    department with a region asking for a dataset with a region column gets its own
    region's rows, ``{column: [region]}``; None otherwise (every row)."""
    column = region_column(dataset)
    if column is None:
        return None
    try:
        department = departments.get(conn, receiver)
    except NotFound:
        return None
    if department.level not in ("district", "street") or not department.region:
        return None
    return {column: [department.region]}


def sample(svc: Services, who: Principal, dataset_id: str, *,
           rows: int = 5) -> dict[str, Any] | None:
    """The first ``rows`` rows of an unconditionally shared dataset exactly as ``who``'s
    department would receive them with the default masking (its own pseudonym key) — what a
    request would be granted at once anyway. None for any other dataset: a conditional one
    waits for a steward's decision and shows per-column examples instead, one of one's own
    department needs no sample. Raises Forbidden, DatasetNotFound."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, dataset_id)
    if (dataset.sharing != "unconditional" or dataset.withdrawn or dataset.version is None
            or dataset.department == who.department or not who.department):
        return None
    plan = planned_masking(svc, who, dataset_id)
    with masked_chunks(svc, dataset, plan, receiver=who.department, chunk_rows=rows,
                       first_only=True) as (columns, chunks):
        first = next(chunks, None)
    cells = [first.column(c).to_pylist() for c in columns] if first is not None else []
    return {"columns": columns,
            "rows": [["" if v is None else str(v) for v in row] for row in zip(*cells)]}
