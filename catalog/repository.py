"""Reading and writing the catalog over SQLAlchemy Core.

Every function takes a :class:`sqlalchemy.Connection` that the caller owns: nothing here commits,
so a dataset, its version and the caller's audit entry can commit together. Times are passed in.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from . import search
from .errors import (
    CatalogError,
    ColumnNotFound,
    DatasetNotFound,
    DatasetWithdrawn,
    InvalidUpload,
    ResourceCodeTaken,
)
from .formats import FORMATS
from .models import LEVELS, SHARING_TYPES, Dataset, DatasetVersion, datasets_table, versions_table

__all__ = ["add_dataset", "add_version", "get_dataset", "get_version", "list_versions",
           "latest_version", "search_datasets", "count_datasets", "FACETS", "SORTS", "default_sort",
           "update_metadata", "withdraw_dataset", "EDITABLE", "titles", "is_ranked",
           "update_column_profile", "list_departments_datasets", "payload_digests",
           "payload_in_use"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_D, _V = datasets_table, versions_table
_VERSION_COLUMNS = [c for c in _V.c if c.name != "column_names"]


def add_dataset(conn: sa.Connection, *, department: str, title: str, description: str,
                sharing: str, level: str, legal_basis: str | None, keywords: str,
                created_by: str, now: dt.datetime, resource_code: str | None = None,
                theme: str | None = None, details: Mapping[str, Any] | None = None,
                column_notes: Mapping[str, str] | None = None) -> str:
    """Record a new dataset (no version yet); returns its id, ``"ds_"`` + 12 hex characters.
    Without a ``resource_code`` (信息资源代码) it gets ``DEPARTMENT/`` + its id's hex part.

    Raises InvalidUpload (no department or title, unknown sharing type or level, no legal
    basis for a dataset that is not shareable), ResourceCodeTaken.
    """
    _check_metadata(department=department, title=title, sharing=sharing, level=level,
                    legal_basis=legal_basis)
    dataset_id = "ds_" + secrets.token_hex(6)
    code = resource_code or f"{department}/{dataset_id[3:]}"
    _check_code_free(conn, code)
    conn.execute(_D.insert().values(
        id=dataset_id, department=department, title=title.strip(),
        description=description or "", sharing=sharing, level=level,
        legal_basis=(legal_basis or "").strip() or None, keywords=keywords or "",
        created_at=now, created_by=created_by, current_version=0, resource_code=code,
        theme=theme, details=dict(details) if details is not None else None,
        column_notes=dict(column_notes) if column_notes else None))
    search.reindex(conn, dataset_id)
    return dataset_id


def _check_code_free(conn: sa.Connection, code: str, *, other_than: str | None = None) -> None:
    """Raises ResourceCodeTaken if another dataset has the resource code ``code``."""
    query = sa.select(_D.c.id).where(_D.c.resource_code == code)
    if other_than is not None:
        query = query.where(_D.c.id != other_than)
    if conn.execute(query.limit(1)).first() is not None:
        raise ResourceCodeTaken(f"another dataset has the resource code {code}",
                                code="resource_code_taken", field="resource_code")


def _check_metadata(*, department: str, title: str, sharing: str, level: str,
                    legal_basis: str | None) -> None:
    if not (department or "").strip():
        raise InvalidUpload("a dataset needs a department")
    if not (title or "").strip():
        raise InvalidUpload("a dataset needs a title")
    if sharing not in SHARING_TYPES:
        raise InvalidUpload(f"sharing must be one of {', '.join(SHARING_TYPES)}")
    if level not in LEVELS:
        raise InvalidUpload(f"level must be one of {', '.join(LEVELS)}")
    if sharing == "none" and not (legal_basis or "").strip():
        raise InvalidUpload("a dataset that is not shareable needs its legal basis")


def add_version(conn: sa.Connection, dataset_id: str, *, sha256: str, format: str,
                filename: str, row_count: int, byte_size: int,
                columns: Sequence[Mapping[str, Any]], quality: Mapping[str, Any] | None,
                quality_passed: bool, created_by: str, now: dt.datetime,
                location: str | None = None,
                manifest: Mapping[str, Any] | None = None) -> int:
    """Record a new version of a dataset and make it current; returns its number (1, 2, ...).
    An external table's version names its ``location`` and the ``manifest`` of its files
    (``sha256`` then being the manifest's digest).

    Raises DatasetNotFound, DatasetWithdrawn, InvalidUpload (bad digest, format, counts or
    columns), CatalogError (another version was added concurrently; retry the transaction).
    """
    cols = _check_version(sha256=sha256, format=format, row_count=row_count,
                          byte_size=byte_size, columns=columns)
    current = _current_version(conn, dataset_id)
    number = current + 1
    conn.execute(_V.insert().values(
        dataset_id=dataset_id, version=number, sha256=sha256, format=format, filename=filename,
        row_count=row_count, byte_size=byte_size, columns=cols,
        column_names="\n".join(c["name"] for c in cols),
        quality=dict(quality) if quality is not None else None,
        quality_passed=bool(quality_passed), created_at=now, created_by=created_by,
        location=location, manifest=dict(manifest) if manifest is not None else None))
    moved = conn.execute(_D.update().where(_D.c.id == dataset_id,
                                           _D.c.current_version == current)
                         .values(current_version=number))
    if moved.rowcount != 1:
        raise CatalogError(f"dataset {dataset_id} changed meanwhile; retry")
    search.reindex(conn, dataset_id)  # its column names
    return number


def _check_version(*, sha256: str, format: str, row_count: int, byte_size: int,
                   columns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidUpload("sha256 must be a lowercase SHA-256 hex digest")
    if format not in FORMATS:
        raise InvalidUpload(f"format must be one of {', '.join(FORMATS)}")
    if row_count < 0 or byte_size < 0:
        raise InvalidUpload("row_count and byte_size cannot be negative")
    return _check_columns(columns)


def _check_columns(columns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    names = [c.get("name") if isinstance(c, Mapping) else None for c in columns]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidUpload("columns must be a non-empty list of {name, dtype, profile}")
    if len(set(names)) != len(names):
        raise InvalidUpload("column names must be distinct")
    return [{"name": c["name"], "dtype": c.get("dtype") or "string", "length": c.get("length"),
             "profile": copy.deepcopy(c.get("profile"))}
            | ({"region": True} if c.get("region") is True else {}) for c in columns]


def _current_version(conn: sa.Connection, dataset_id: str) -> int:
    found = conn.execute(sa.select(_D.c.current_version, _D.c.withdrawn_at)
                         .where(_D.c.id == dataset_id)).first()
    if found is None:
        raise DatasetNotFound(f"no dataset {dataset_id}", code="dataset_not_found")
    if found.withdrawn_at is not None:
        raise DatasetWithdrawn(f"dataset {dataset_id} is withdrawn", code="dataset_withdrawn")
    return int(found.current_version)


_LATEST = sa.select(_D.c.current_version).where(_D.c.id == sa.bindparam("dataset_id"))


def latest_version(conn: sa.Connection, dataset_id: str) -> int | None:
    """The number of a dataset's newest version (withdrawn or not); None if no such dataset.
    One prebuilt statement: asked on every call of interface sharing."""
    found = conn.execute(_LATEST, {"dataset_id": dataset_id}).scalar()
    return None if found is None else int(found)


def get_dataset(conn: sa.Connection, dataset_id: str) -> Dataset:
    """A dataset with its current version. Raises DatasetNotFound."""
    found = _select_datasets(conn, _D.c.id == dataset_id, limit=1)
    if not found:
        raise DatasetNotFound(f"no dataset {dataset_id}", code="dataset_not_found")
    return found[0]


#: The metadata a steward may edit after publication.
EDITABLE = ("title", "description", "sharing", "level", "legal_basis", "keywords",
            "resource_code", "theme", "details", "column_notes")


def update_metadata(conn: sa.Connection, dataset_id: str, changes: Mapping[str, Any], *,
                    now: dt.datetime) -> list[str]:
    """Edit a dataset's metadata (the fields of :data:`EDITABLE`); returns the names of the
    fields that changed (none: nothing written). Raises DatasetNotFound, InvalidUpload (an
    unknown field, or metadata a dataset cannot have, e.g. not shareable without a legal
    basis), DatasetWithdrawn."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidUpload(f"metadata that cannot be edited: {', '.join(unknown)}")
    current = get_dataset(conn, dataset_id)
    if current.withdrawn:
        raise DatasetWithdrawn(f"dataset {dataset_id} is withdrawn", code="dataset_withdrawn")
    merged = {name: getattr(current, name) for name in EDITABLE} | dict(changes)
    _check_metadata(department=current.department, title=merged["title"],
                    sharing=merged["sharing"], level=merged["level"],
                    legal_basis=merged["legal_basis"])
    if merged["resource_code"] and merged["resource_code"] != current.resource_code:
        _check_code_free(conn, merged["resource_code"], other_than=dataset_id)
    merged = merged | {"title": merged["title"].strip(),
                       "description": merged["description"] or "",
                       "keywords": merged["keywords"] or "",
                       "legal_basis": (merged["legal_basis"] or "").strip() or None}
    changed = [name for name in EDITABLE if merged[name] != getattr(current, name)]
    if changed:
        conn.execute(_D.update().where(_D.c.id == dataset_id).values(
            updated_at=now, **{name: merged[name] for name in changed}))
        search.reindex(conn, dataset_id)
    return changed


def withdraw_dataset(conn: sa.Connection, dataset_id: str, *, by: str, reason: str,
                     now: dt.datetime) -> Dataset:
    """Take a dataset out of the catalog: out of search, no new versions or requests; its
    record and versions stay for the history. Raises DatasetNotFound, DatasetWithdrawn
    (already)."""
    moved = conn.execute(_D.update().where(_D.c.id == dataset_id, _D.c.withdrawn_at.is_(None))
                         .values(withdrawn_at=now, withdrawn_by=by, withdraw_reason=reason))
    if moved.rowcount != 1:
        get_dataset(conn, dataset_id)  # DatasetNotFound if there is none
        raise DatasetWithdrawn(f"dataset {dataset_id} is already withdrawn",
                               code="dataset_withdrawn")
    search.reindex(conn, dataset_id)  # out of the index
    return get_dataset(conn, dataset_id)


def list_versions(conn: sa.Connection, dataset_id: str) -> list[DatasetVersion]:
    """Every version of a dataset, newest first. Raises DatasetNotFound."""
    rows = conn.execute(sa.select(*_VERSION_COLUMNS).where(_V.c.dataset_id == dataset_id)
                        .order_by(_V.c.version.desc())).all()
    if not rows:
        get_dataset(conn, dataset_id)
    return [DatasetVersion.from_mapping(row._mapping) for row in rows]


def get_version(conn: sa.Connection, dataset_id: str, version: int) -> DatasetVersion:
    """One version of a dataset (a grant names the version it covers). Raises DatasetNotFound."""
    row = conn.execute(sa.select(_V).where(_V.c.dataset_id == dataset_id,
                                           _V.c.version == version)).first()
    if row is None:
        raise DatasetNotFound(f"no version {version} of dataset {dataset_id}",
                              code="dataset_not_found")
    return DatasetVersion.from_mapping(row._mapping)


#: The orders of the catalog: newest published first, most recently changed first (its
#: metadata or a new version), best match first (a search only).
SORTS = ("newest", "changed", "relevance")


def default_sort(q: str | None) -> str:
    """The order :func:`search_datasets` uses unless told: best match first when ``q`` holds
    a word to search for, else newest first."""
    return "relevance" if search.parse(q) is not None else "newest"


def search_datasets(conn: sa.Connection, *, q: str | None = None, department: str | None = None,
                    sharing: str | None = None, level: str | None = None,
                    theme: str | None = None, sort: str | None = None,
                    limit: int | None = 100, after: tuple[dt.datetime, str] | None = None,
                    offset: int = 0) -> list[Dataset]:
    """Datasets in the catalog (not withdrawn) matching ``q`` and every filter, at most
    ``limit`` of them, in the order ``sort`` names (:data:`SORTS`; default
    :func:`default_sort`).

    With ``q`` (one holding a word: see :func:`catalog.search.parse`) every word of it must
    match the title, keywords, columns or description (full text, segmented by jieba:
    :mod:`catalog.search`). By newest or last change: after the one at ``after`` (its time in
    that order and its id: keyset paging). By relevance (best first, then newest): skipping
    ``offset`` of them (relevance depends on the whole index, so these pages go by position);
    without ``q`` there is no relevance, and the order is newest first. Raises nothing.

    The page is chosen from the search index alone (its rows copy each dataset's facets and
    times; without ``q``, one ordered scan of a covering index), then joined with the
    datasets and their versions (wide rows): a broad query matches thousands, a page shows
    50.
    """
    query = search.parse(q)
    sort = sort or default_sort(q)
    if sort == "relevance" and query is None:
        sort = "newest"
    if query is None:
        source: Any = search.search_table
    else:
        source = search.matching(conn.dialect.name, query, ranked=sort == "relevance")
    chosen = {"department": department, "sharing": sharing, "level": level, "theme": theme}
    conditions = [source.c[facet] == value for facet, value in chosen.items()
                  if value is not None]
    if sort == "relevance":  # (column, descending)
        spec = [("rank", False), ("created_at", True), ("dataset_id", True)]
    else:
        key = "created_at" if sort == "newest" else "changed_at"
        spec = [(key, True), ("dataset_id", True)]
        if after is not None:
            moment, last = after
            conditions.append(sa.tuple_(source.c[key], source.c.dataset_id) < sa.tuple_(
                sa.literal(moment, source.c[key].type), sa.literal(last, _D.c.id.type)))
        offset = 0

    def ordered(table: Any) -> list[Any]:
        return [table.c[name].desc() if down else table.c[name] for name, down in spec]

    page = (sa.select(*(source.c[name] for name, _down in spec)).where(*conditions)
            .order_by(*ordered(source)).limit(limit).offset(offset or None).subquery("page"))
    labelled = [c.label(f"v_{c.name}") for c in _VERSION_COLUMNS]
    rows = conn.execute(sa.select(_D, *labelled)
                        .select_from(page.join(_joined(), _D.c.id == page.c.dataset_id))
                        .order_by(*ordered(page)))
    return [Dataset.from_mapping(row._mapping, _version_of(row)) for row in rows]


def is_ranked(q: str | None, sort: str | None = None) -> bool:
    """Whether :func:`search_datasets` orders by relevance (pages by position) for ``q`` and
    ``sort``."""
    return (sort or default_sort(q)) == "relevance" and search.parse(q) is not None


#: What the catalog counts its datasets by (facets).
FACETS = search.FACETS


def count_datasets(conn: sa.Connection, *, q: str | None = None, department: str | None = None,
                   sharing: str | None = None, level: str | None = None,
                   theme: str | None = None) -> tuple[int, dict[str, dict[str, int]]]:
    """How many datasets :func:`search_datasets` selects, and per facet (department, sharing
    type, level, theme) how many each value would select with that facet's own filter left
    out — what a reader choosing another value would find. Raises nothing.

    Both are sums over the counts per (department, sharing, level, theme): without ``q`` the
    catalog keeps them (:func:`catalog.search.counts`, a few hundred rows whatever its size);
    a search counts its matches in one grouped query over the index."""
    chosen = {"department": department, "sharing": sharing, "level": level, "theme": theme}
    query = search.parse(q)
    if query is None:
        rows: Any = search.counts(conn)
    else:
        matched = search.matching(conn.dialect.name, query, ranked=False)
        columns = [matched.c[facet] for facet in FACETS]
        rows = conn.execute(sa.select(*columns, sa.func.count()).group_by(*columns))
    total = 0
    facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for *values, n in rows:
        fits = {facet: chosen[facet] is None or chosen[facet] == value
                for facet, value in zip(FACETS, values, strict=True)}
        if all(fits.values()):
            total += n
        for facet, value in zip(FACETS, values, strict=True):
            if value is not None and all(fit for other, fit in fits.items() if other != facet):
                facets[facet][value] = facets[facet].get(value, 0) + int(n)
    return int(total), {facet: dict(sorted(counts.items())) for facet, counts in facets.items()}


def titles(conn: sa.Connection, dataset_ids: Any) -> dict[str, str]:
    """The title of each of ``dataset_ids`` that exists (withdrawn ones too)."""
    wanted = sorted(set(dataset_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        query = sa.select(_D.c.id, _D.c.title).where(_D.c.id.in_(wanted[start:start + 500]))
        found.update({ident: title for ident, title in conn.execute(query)})
    return found


def list_departments_datasets(conn: sa.Connection, department: str) -> list[Dataset]:
    """Every dataset of ``department`` (any sharing type), newest first. Raises nothing."""
    return _select_datasets(conn, _D.c.department == department, limit=None)


def _joined() -> Any:
    """Each dataset with its current version."""
    return _D.outerjoin(_V, sa.and_(_V.c.dataset_id == _D.c.id,
                                    _V.c.version == _D.c.current_version))


def _select_datasets(conn: sa.Connection, *conditions: Any,
                     limit: int | None) -> list[Dataset]:
    labelled = [c.label(f"v_{c.name}") for c in _VERSION_COLUMNS]
    query = (sa.select(_D, *labelled).select_from(_joined()).where(*conditions)
             .order_by(_D.c.created_at.desc(), _D.c.id.desc()).limit(limit))
    return [Dataset.from_mapping(row._mapping, _version_of(row)) for row in conn.execute(query)]


def _version_of(row: sa.Row[Any]) -> DatasetVersion | None:
    mapping = row._mapping
    if mapping["v_version"] is None:
        return None
    return DatasetVersion.from_mapping({c.name: mapping[f"v_{c.name}"] for c in _VERSION_COLUMNS})


def payload_digests(conn: sa.Connection) -> set[str]:
    """The SHA-256 of every payload a dataset version refers to."""
    return set(conn.execute(sa.select(_V.c.sha256)).scalars())


def payload_in_use(conn: sa.Connection, digest: str) -> bool:
    """Whether a dataset version refers to the payload ``digest``."""
    return conn.execute(sa.select(_V.c.sha256).where(_V.c.sha256 == digest).limit(1)).first() \
        is not None


def update_column_profile(conn: sa.Connection, dataset_id: str, version: int, column: str,
                          profile: Mapping[str, Any] | None) -> DatasetVersion:
    """Replace one column's profile (a steward correcting the detected personal data).

    Returns the updated version. Raises DatasetNotFound (dataset or version), ColumnNotFound.
    """
    current = get_version(conn, dataset_id, version)
    if column not in current.column_names:
        raise ColumnNotFound(f"dataset {dataset_id} version {version} has no column {column!r}")
    conn.execute(_V.update().where(_V.c.dataset_id == dataset_id, _V.c.version == version)
                 .values(columns=_with_profile(current.columns, column, profile)))
    return get_version(conn, dataset_id, version)


def _with_profile(columns: list[dict[str, Any]], name: str,
                  profile: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    new = copy.deepcopy(dict(profile)) if profile is not None else None
    return [dict(c, profile=new) if c["name"] == name else c for c in columns]
