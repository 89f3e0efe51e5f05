"""Tables of the catalog (its own MetaData) and the records read from them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = ["metadata", "datasets_table", "versions_table", "Dataset", "DatasetVersion",
           "SHARING_TYPES", "LEVELS", "search_table", "FIELDS", "WEIGHTS", "PG_WEIGHTS",
           "FTS_TABLE", "PG_INDEX", "SQLITE_DDL", "create_pg_index", "create_sqlite_index",
           "drop_sqlite_index", "FACETS", "counts_table"]

SHARING_TYPES = ("unconditional", "conditional", "none")
LEVELS = ("L1", "L2", "L3", "L4")

metadata = sa.MetaData()

datasets_table = sa.Table(
    "catalog_datasets", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("department", sa.String(40), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("sharing", sa.String(16), nullable=False, index=True),
    sa.Column("level", sa.String(4), nullable=False, index=True),
    sa.Column("legal_basis", sa.Text),
    sa.Column("keywords", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", sa.DateTime(timezone=True)),  # metadata last edited
    # the national directory (政务信息资源目录): 信息资源代码, the theme (a facet), the other
    # directory fields (分类, 共享条件/方式, 开放属性, 更新周期, 关联资源, contact, licence,
    # coverage) and each column's description (信息项描述), kept across versions
    sa.Column("resource_code", sa.String(64), unique=True),
    sa.Column("theme", sa.String(40), index=True),
    sa.Column("details", sa.JSON),
    sa.Column("column_notes", sa.JSON),
    # withdrawn from the catalog: out of search, no new requests, its grants ended; kept
    sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
    sa.Column("withdrawn_by", sa.String(80)),
    sa.Column("withdraw_reason", sa.Text),
)

versions_table = sa.Table(
    "catalog_versions", metadata,
    sa.Column("dataset_id", sa.String(40), sa.ForeignKey("catalog_datasets.id"),
              nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("column_names", sa.Text, nullable=False, default=""),  # for search, one a line
    sa.Column("quality", sa.JSON),
    sa.Column("quality_passed", sa.Boolean, nullable=False),
    # an external table (a folder of Parquet files read where it lies): the folder, and the
    # manifest of its files that pins this version (sha256 is the manifest's digest)
    sa.Column("location", sa.Text),
    sa.Column("manifest", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.PrimaryKeyConstraint("dataset_id", "version", name="pk_catalog_versions"),  # unique
)


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` with its zone; SQLite hands back naive datetimes, which were stored as UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


@dataclasses.dataclass(frozen=True)
class DatasetVersion:
    """One published file of a dataset: where its bytes are, its columns and their profiles."""

    dataset_id: str
    version: int
    sha256: str
    format: str
    filename: str
    row_count: int
    byte_size: int
    columns: list[dict[str, Any]]  # each {name, dtype, profile: dict | None}
    quality: dict[str, Any] | None
    quality_passed: bool
    created_at: dt.datetime
    created_by: str
    location: str | None = None  # an external table's folder (None: a payload in the store)
    manifest: dict[str, Any] | None = None  # its files: {"files": [{path, size, sha256}]}

    @property
    def column_names(self) -> list[str]:
        """The names of the columns, in file order."""
        return [c["name"] for c in self.columns]

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> DatasetVersion:
        """The record of a ``catalog_versions`` row, given as a mapping of its columns."""
        return cls(dataset_id=row["dataset_id"], version=row["version"], sha256=row["sha256"],
                   format=row["format"], filename=row["filename"], row_count=row["row_count"],
                   byte_size=row["byte_size"], columns=list(row["columns"]),
                   quality=row["quality"], quality_passed=bool(row["quality_passed"]),
                   created_at=utc(row["created_at"]), created_by=row["created_by"],
                   location=row.get("location"), manifest=row.get("manifest"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self) | {"created_at": self.created_at.isoformat()}


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A catalog entry (DCAT-AP-like metadata) and its current version, if any."""

    id: str
    department: str
    title: str
    description: str
    sharing: str  # unconditional | conditional | none
    level: str  # L1..L4
    legal_basis: str | None
    keywords: str
    created_at: dt.datetime
    created_by: str
    current_version: int  # 0 until a first version is added
    version: DatasetVersion | None = None
    updated_at: dt.datetime | None = None
    withdrawn_at: dt.datetime | None = None
    withdrawn_by: str | None = None
    withdraw_reason: str | None = None
    resource_code: str | None = None
    theme: str | None = None
    details: dict[str, Any] | None = None
    column_notes: dict[str, str] | None = None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def changed_at(self) -> dt.datetime:
        """When it last changed: published, its metadata edited or a version added."""
        return max(t for t in (self.created_at, self.updated_at,
                               self.version.created_at if self.version else None) if t)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any], version: DatasetVersion | None) -> Dataset:
        """The record of a ``catalog_datasets`` row (a mapping) and its current version."""
        return cls(id=row["id"], department=row["department"], title=row["title"],
                   description=row["description"], sharing=row["sharing"], level=row["level"],
                   legal_basis=row["legal_basis"], keywords=row["keywords"],
                   created_at=utc(row["created_at"]), created_by=row["created_by"],
                   current_version=row["current_version"], version=version,
                   updated_at=_utc_or_none(row.get("updated_at")),
                   withdrawn_at=_utc_or_none(row.get("withdrawn_at")),
                   withdrawn_by=row.get("withdrawn_by"),
                   withdraw_reason=row.get("withdraw_reason"),
                   resource_code=row.get("resource_code"), theme=row.get("theme"),
                   details=row.get("details"), column_notes=row.get("column_notes"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the version nested, or None)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return fields | {"created_at": self.created_at.isoformat(),
                         "updated_at": _iso(self.updated_at),
                         "withdrawn_at": _iso(self.withdrawn_at),
                         "version": self.version.to_dict() if self.version else None}


def _utc_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    return utc(moment) if moment is not None else None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# -- the search index's storage (catalog.search fills and queries it) ----------------------

#: The indexed fields, most telling first, and their weights (FTS5 bm25; PostgreSQL A-D).
FIELDS = ("title", "keywords", "columns", "description")
WEIGHTS = (10.0, 5.0, 3.0, 1.0)
PG_WEIGHTS = ("A", "B", "C", "D")
FTS_TABLE = "catalog_search_fts"
#: What the catalog is filtered and counted by (facets); copied into its index rows.
FACETS = ("department", "sharing", "level", "theme")

search_table = sa.Table(
    "catalog_search", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # FTS5's rowid
    sa.Column("dataset_id", sa.String(40), sa.ForeignKey("catalog_datasets.id"),
              nullable=False, unique=True),
    # a copy of the dataset's facets and times, first in the row (read without the words):
    # filtering, counting and ordering a page read this table alone, match by match
    sa.Column("department", sa.String(40), nullable=False),
    sa.Column("sharing", sa.String(16), nullable=False),
    sa.Column("level", sa.String(4), nullable=False),
    sa.Column("theme", sa.String(40)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),  # published
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),  # metadata or version
    *(sa.Column(field, sa.Text, nullable=False, default="") for field in FIELDS),
    # PostgreSQL: the weighted tsvector of the fields (NULL on SQLite, where FTS5 indexes)
    sa.Column("document", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")),
)
#: PostgreSQL: the GIN index of ``document`` (made with the table; no model describes it).
PG_INDEX = "ix_catalog_search_document"

# A catalog page in either order, filtered by any facets: one ordered scan of a covering index.
sa.Index("ix_catalog_search_newest", search_table.c.created_at, search_table.c.dataset_id,
         *(search_table.c[f] for f in FACETS))
sa.Index("ix_catalog_search_changed", search_table.c.changed_at, search_table.c.dataset_id,
         *(search_table.c[f] for f in FACETS))

#: How many datasets of the catalog have each combination of facets (no theme: ""), kept in
#: the same transaction as the index: a page's total and facet counts are sums over these few
#: rows, not a count of the catalog.
counts_table = sa.Table(
    "catalog_counts", metadata,
    sa.Column("department", sa.String(40), nullable=False),
    sa.Column("sharing", sa.String(16), nullable=False),
    sa.Column("level", sa.String(4), nullable=False),
    sa.Column("theme", sa.String(40), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("department", "sharing", "level", "theme",
                            name="pk_catalog_counts"),
)

_FIELD_LIST = ", ".join(FIELDS)
_OLD = ", ".join(f"old.{f}" for f in FIELDS)
_NEW = ", ".join(f"new.{f}" for f in FIELDS)
#: SQLite: the FTS5 table over ``catalog_search`` and the triggers that keep it.
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_FIELD_LIST}, content='catalog_search', "
    "content_rowid='id', tokenize='unicode61')",
    f"CREATE TRIGGER catalog_search_ai AFTER INSERT ON catalog_search BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FIELD_LIST}) VALUES (new.id, {_NEW}); END",
    f"CREATE TRIGGER catalog_search_ad AFTER DELETE ON catalog_search BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FIELD_LIST}) "
    f"VALUES ('delete', old.id, {_OLD}); END",
    f"CREATE TRIGGER catalog_search_au AFTER UPDATE ON catalog_search BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FIELD_LIST}) "
    f"VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FIELD_LIST}) VALUES (new.id, {_NEW}); END",
)


def create_pg_index(conn: sa.Connection) -> None:
    """Create the GIN index of the tsvector column (PostgreSQL)."""
    conn.exec_driver_sql(f"CREATE INDEX {PG_INDEX} ON catalog_search USING gin (document)")


def create_sqlite_index(conn: sa.Connection) -> None:
    """Create the FTS5 table and its triggers (SQLite; ``catalog_search`` exists)."""
    for statement in SQLITE_DDL:
        conn.exec_driver_sql(statement)


def drop_sqlite_index(conn: sa.Connection) -> None:
    """Drop what :func:`create_sqlite_index` made."""
    for name in ("catalog_search_ai", "catalog_search_ad", "catalog_search_au"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")


@sa.event.listens_for(search_table, "after_create")
def _after_create(_table: sa.Table, conn: sa.Connection, **_kw: Any) -> None:
    if conn.dialect.name == "sqlite":
        create_sqlite_index(conn)
    elif conn.dialect.name == "postgresql":
        create_pg_index(conn)


@sa.event.listens_for(search_table, "before_drop")
def _before_drop(_table: sa.Table, conn: sa.Connection, **_kw: Any) -> None:
    if conn.dialect.name == "sqlite":
        drop_sqlite_index(conn)
