"""Full-text search of the catalog: an index of jieba-segmented text, kept in the caller's
transaction, queried with SQLite FTS5 or PostgreSQL's full-text search.

The index is the table ``catalog_search``: one row per dataset in the catalog (withdrawn ones
are removed), holding the segmented, lowercased words of its title, keywords, columns (names,
and their descriptions when the catalog records them) and description, each a field of its own
so that a title match ranks above a description match. Words are jieba's ``cut_for_search``
(a long word and its dictionary sub-words: 医疗机构 gives 医疗, 机构, 医疗机构), split into
runs of letters and digits (punctuation dropped), without a few function words (的, 和, ...).

* SQLite: an FTS5 table ``catalog_search_fts`` over that table (external content, kept by
  triggers), ranked by ``bm25`` with field weights.
* PostgreSQL: a ``tsvector`` column (``simple`` configuration: no stemming, the words are
  already segmented; the fields weighted A-D) with a GIN index, ranked by ``ts_rank``.

A query is segmented the same way, precisely (``jieba.cut``): every word must match (AND), so
``医院病床`` and ``医院 病床`` select the same datasets. A word matches a dataset whose index
holds it, or holds all the dictionary sub-words that cover it (``医疗机构`` also finds
``医疗卫生机构``, whose index has 医疗 and 机构). The user's text never reaches FTS5 or tsquery
syntax: the words are runs of letters and digits, quoted (FTS5) or bound as parameters of
``plainto_tsquery`` (PostgreSQL).

Framework-free, like the rest of the catalog: every function takes the caller's connection
and commits nothing. jieba's dictionary is loaded on first use (from its cache); nothing
is downloaded.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .models import (
    FACETS,
    FIELDS,
    FTS_TABLE,
    PG_INDEX,
    PG_WEIGHTS,
    WEIGHTS,
    counts_table,
    create_pg_index,
    create_sqlite_index,
    datasets_table,
    drop_sqlite_index,
    search_table,
    utc,
    versions_table,
)

__all__ = ["search_table", "Query", "parse", "segment", "document_of", "reindex", "rebuild",
           "matching", "counts", "ATTRIBUTES", "FACETS", "FIELDS", "WEIGHTS", "FTS_TABLE",
           "PG_INDEX", "create_sqlite_index", "create_pg_index", "drop_sqlite_index", "insert",
           "STOP_WORDS"]

# -- segmentation ----------------------------------------------------------------------------

#: Function words dropped from the index and from queries (alone they say nothing).
STOP_WORDS = frozenset("的 地 得 了 和 与 及 或 在 是 等 之 其 对 为 于 以 由 从 把 被 将 并 也 而 "
                       "a an and of or the to in on for by".split())
_RUNS = re.compile(r"[^\W_]+")  # letters and digits (any script); punctuation and _ split


def _tokenizer() -> Any:
    """jieba's default tokenizer, its dictionary loaded once (from jieba's own cache; in the
    exchange the masking engine has usually loaded it already). The catalog imports no other
    domain package."""
    import jieba

    jieba.dt.check_initialized()
    return jieba.dt


def _words(pieces: Iterable[str]) -> list[str]:
    return [run for piece in pieces for run in _RUNS.findall(piece) if run not in STOP_WORDS]


@functools.lru_cache(maxsize=1 << 16)
def segment(text: str) -> str:
    """The indexed words of ``text`` (jieba's search mode, lowercased, punctuation and function
    words dropped), separated by spaces."""
    if not text:
        return ""
    return " ".join(_words(_tokenizer().cut_for_search(text.lower())))


def document_of(*, title: str, description: str, keywords: str, column_names: Sequence[str],
                column_notes: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The index fields of a dataset (what ``catalog_search`` holds). Column names and their
    descriptions (``column_notes``: name -> text; what is not text is ignored) are one
    field; each name is segmented on its own (a pool of names repeats: cached)."""
    columns = [segment(name) for name in column_names]
    columns += [segment(note) for note in (column_notes or {}).values() if isinstance(note, str)]
    return {"title": segment(title or ""), "keywords": segment(keywords or ""),
            "columns": " ".join(c for c in columns if c),
            "description": segment(description or "")}


@dataclasses.dataclass(frozen=True)
class Query:
    """A parsed query: every group must match; a group is a word and, if its dictionary
    sub-words cover it, those sub-words (all of them matching also satisfies the group)."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]

    def fts5(self) -> str:
        """The FTS5 MATCH expression (every word a quoted string: no syntax of the user's)."""
        def quoted(word: str) -> str:
            return '"' + word.replace('"', '""') + '"'

        parts = []
        for word, cover in self.groups:
            if cover:
                parts.append(f"({quoted(word)} OR ({' AND '.join(map(quoted, cover))}))")
            else:
                parts.append(quoted(word))
        return " AND ".join(parts)

    def tsquery(self) -> sa.ColumnElement[Any]:
        """The PostgreSQL tsquery (``plainto_tsquery`` of bound words, combined with && and
        ||: no operator of the user's is ever parsed)."""
        def plain(text: str) -> sa.ColumnElement[Any]:
            return sa.func.plainto_tsquery(sa.literal_column("'simple'"), sa.literal(text))

        combined = None
        for word, cover in self.groups:
            group = plain(word)
            if cover:
                group = group.op("||")(plain(" ".join(cover)))
            combined = group if combined is None else combined.op("&&")(group)
        assert combined is not None
        return sa.type_coerce(combined, postgresql.TSQUERY())


@functools.lru_cache(maxsize=1024)
def parse(q: str | None) -> Query | None:
    """``q`` as a :class:`Query`; None when it holds no word (empty, punctuation, function
    words only): no query, the catalog in its usual order. Cached: one catalog request asks
    for its order, its page and its counts, each from the same words (a Query is
    immutable)."""
    if not q or not q.strip():
        return None
    tokenizer = _tokenizer()
    seen: dict[str, tuple[str, ...]] = {}
    for word in _words(tokenizer.cut(q.lower())):
        if word not in seen:
            seen[word] = _cover(word, tokenizer.FREQ)
    return Query(tuple(seen.items())) if seen else None


def _cover(word: str, freq: Mapping[str, int]) -> tuple[str, ...]:
    """The sub-words ``cut_for_search`` indexes with ``word`` (its 2- and 3-character
    dictionary words), if together they cover every character of it; else ()."""
    grams: list[str] = []
    covered = [False] * len(word)
    for n in (2, 3):
        if len(word) <= n:
            continue
        for start in range(len(word) - n + 1):
            gram = word[start:start + n]
            if freq.get(gram):
                grams.append(gram)
                covered[start:start + n] = [True] * n
    return tuple(dict.fromkeys(grams)) if grams and all(covered) else ()


# -- the index -------------------------------------------------------------------------------

_S, _D, _V, _C = search_table, datasets_table, versions_table, counts_table


def reindex(conn: sa.Connection, dataset_id: str) -> None:
    """Bring a dataset's index row up to date with its metadata and current version (removed
    if it is withdrawn or gone), and the catalog's counts with it, in the caller's
    transaction."""
    row = conn.execute(
        sa.select(_D.c.title, _D.c.description, _D.c.keywords, _D.c.withdrawn_at,
                  _D.c.column_notes, _D.c.department, _D.c.sharing, _D.c.level, _D.c.theme,
                  _D.c.created_at, _D.c.updated_at, _V.c.column_names,
                  _V.c.created_at.label("version_at"))
        .select_from(_D.outerjoin(_V, sa.and_(_V.c.dataset_id == _D.c.id,
                                              _V.c.version == _D.c.current_version)))
        .where(_D.c.id == dataset_id)).first()
    old = conn.execute(sa.select(*(_S.c[f] for f in FACETS))
                       .where(_S.c.dataset_id == dataset_id)).first()
    if old is not None:
        conn.execute(_S.delete().where(_S.c.dataset_id == dataset_id))
        _count(conn, {tuple(old): -1})
    if row is None or row.withdrawn_at is not None:
        return
    fields = document_of(title=row.title, description=row.description, keywords=row.keywords,
                         column_names=(row.column_names or "").split("\n"),
                         column_notes=_notes(row.column_notes))
    changed = max(utc(t) for t in (row.created_at, row.updated_at, row.version_at) if t)
    insert(conn, [{"dataset_id": dataset_id, **fields,
                   **{f: getattr(row, f) for f in FACETS},
                   "created_at": row.created_at, "changed_at": changed}])


def _notes(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


#: What an index row holds besides its words.
ATTRIBUTES = ("dataset_id", *FACETS, "created_at", "changed_at")


def insert(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add index rows (:data:`ATTRIBUTES`, each the dataset's own, and the fields of
    :func:`document_of`) and count them; in bulk, e.g. when loading many datasets at once.
    The caller makes sure none is indexed yet."""
    if not rows:
        return
    names = (*ATTRIBUTES, *FIELDS)
    values: dict[str, Any] = {name: sa.bindparam(f"b_{name}", type_=_S.c[name].type)
                              for name in names}
    if conn.dialect.name == "postgresql":
        values["document"] = _pg_document()
    conn.execute(_S.insert().values(values),
                 [{f"b_{name}": row[name] for name in names} for row in rows])
    added: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row[f] for f in FACETS)
        added[key] = added.get(key, 0) + 1
    _count(conn, added)


def _count(conn: sa.Connection, changes: Mapping[tuple[Any, ...], int]) -> None:
    """Add ``changes`` (facet values -> how many datasets more, or fewer) to the counts; a
    combination no dataset has any more is removed."""
    for (department, sharing, level, theme), n in sorted(
            changes.items(), key=lambda item: tuple(v or "" for v in item[0])):
        if not n:
            continue
        key = {"department": department, "sharing": sharing, "level": level,
               "theme": theme or ""}
        dialect = (postgresql if conn.dialect.name == "postgresql" else sqlite)
        statement = dialect.insert(_C).values(**key, n=n)
        conn.execute(statement.on_conflict_do_update(
            index_elements=[_C.c.department, _C.c.sharing, _C.c.level, _C.c.theme],
            set_={"n": _C.c.n + statement.excluded.n}))
        if n < 0:
            conn.execute(_C.delete().where(*(_C.c[k] == v for k, v in key.items()),
                                           _C.c.n <= 0))


def counts(conn: sa.Connection) -> list[tuple[str, str, str, str | None, int]]:
    """The catalog's (department, sharing, level, theme or None, how many datasets)."""
    return [(d, s, lv, t or None, int(n))
            for d, s, lv, t, n in conn.execute(sa.select(_C.c.department, _C.c.sharing,
                                                         _C.c.level, _C.c.theme, _C.c.n)
                                               .where(_C.c.n > 0))]


def _pg_document() -> sa.ColumnElement[Any]:
    parts = [sa.func.setweight(sa.func.to_tsvector(sa.literal_column("'simple'"),
                                                   sa.bindparam(f"b_{field}", type_=sa.Text)),
                               sa.literal_column(f"'{weight}'"))
             for field, weight in zip(FIELDS, PG_WEIGHTS, strict=True)]
    document = parts[0]
    for part in parts[1:]:
        document = document.op("||")(part)
    return document


def rebuild(conn: sa.Connection, *, batch: int = 1000) -> int:
    """Index every dataset in the catalog afresh, and count them (after a migration or a
    restore); returns how many were indexed."""
    conn.execute(_S.delete())
    conn.execute(_C.delete())
    ids = list(conn.execute(sa.select(_D.c.id).where(_D.c.withdrawn_at.is_(None))
                            .order_by(_D.c.id)).scalars())
    for dataset_id in ids:
        reindex(conn, dataset_id)
    return len(ids)


# -- querying --------------------------------------------------------------------------------

def matching(dialect: str, query: Query, *, ranked: bool = True) -> sa.Subquery:
    """A subquery of the index rows ``query`` matches: their :data:`ATTRIBUTES` (the
    dataset's id, facets and times) and, if ``ranked``, ``rank`` (lower is better: FTS5's
    bm25, PostgreSQL's ts_rank negated)."""
    columns: list[Any] = [_S.c[name] for name in ATTRIBUTES]
    if dialect == "sqlite":
        fts = sa.table(FTS_TABLE, sa.column("rowid"))
        fts_name = sa.literal_column(FTS_TABLE)
        if ranked:
            columns.append(sa.func.bm25(fts_name, *WEIGHTS).label("rank"))
        select = (sa.select(*columns).select_from(fts.join(_S, _S.c.id == fts.c.rowid))
                  .where(fts_name.op("MATCH")(query.fts5())))
    else:
        tsquery = query.tsquery()
        if ranked:
            columns.append((-sa.func.ts_rank(_S.c.document, tsquery)).label("rank"))
        select = sa.select(*columns).where(_S.c.document.op("@@")(tsquery))
    return select.subquery("matched")
