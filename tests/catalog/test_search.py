"""Full-text search of the catalog (catalog.search) on SQLite FTS5 and PostgreSQL: segmented
words, AND of every word, relevance, hostile input, the index kept in the writer's transaction,
facets over the matched set, paging by position."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from catalog import metadata, repository, search
from catalog import models as catalog_models

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)
DIGEST = hashlib.sha256(b"payload").hexdigest()

#: name: (department, sharing, level, title, description, keywords, columns), oldest first
CORPUS: dict[str, tuple[str, str, str, str, str, str, list[str]]] = {
    "beds": ("health", "conditional", "L2", "朝阳区医院病床登记表", "全区医院的病床使用情况",
             "医疗 卫生", ["医院名称", "床位数", "联系电话"]),
    "orgs": ("health", "unconditional", "L1", "海淀区医疗机构名单", "辖区内的医疗机构",
             "", ["机构名称", "地址"]),
    "health_orgs": ("civil", "unconditional", "L1", "医疗卫生机构名单", "", "",
                    ["机构名称"]),
    "schools": ("education", "unconditional", "L1", "中小学学生名单", "各校在册学生", "教育",
                ["学校名称", "学生姓名", "身份证号"]),
    "hospitals": ("health", "conditional", "L3", "医院名录", "", "", ["名称"]),
    "bed_stats": ("civil", "conditional", "L2", "床位统计", "包括医院和养老院", "",
                  ["机构", "数量"]),
    "english": ("market", "unconditional", "L1", "Hospital beds NEAR the river",
                'Quotes " and stars * and AND/OR', "", ["id_card", "Bed_Count"]),
    "gone": ("health", "conditional", "L2", "医院病床旧表", "已撤回", "", ["床位数"]),
}


@pytest.fixture
def engine(tmp_path: Path, database_url) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url(tmp_path))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _add(conn: sa.Connection, name: str, n: int) -> str:
    department, sharing, level, title, description, keywords, columns = CORPUS[name]
    made = repository.add_dataset(
        conn, department=department, title=title, description=description, sharing=sharing,
        level=level, legal_basis=None, keywords=keywords, created_by="bob",
        now=NOW + dt.timedelta(hours=n))
    repository.add_version(
        conn, made, sha256=DIGEST, format="csv", filename="x.csv", row_count=1, byte_size=1,
        columns=[{"name": c} for c in columns], quality=None, quality_passed=True,
        created_by="bob", now=NOW)
    return made


@pytest.fixture
def corpus(engine: sa.Engine) -> dict[str, str]:
    with engine.begin() as conn:
        ids = {name: _add(conn, name, n) for n, name in enumerate(CORPUS)}
        repository.withdraw_dataset(conn, ids["gone"], by="bob", reason="旧", now=NOW)
    return ids


def _found(engine: sa.Engine, corpus: dict[str, str], **filters: Any) -> list[str]:
    names = {v: k for k, v in corpus.items()}
    with engine.connect() as conn:
        return [names[d.id] for d in repository.search_datasets(conn, limit=None, **filters)]


@pytest.mark.parametrize(("q", "expected"), [
    ("医院 病床", {"beds"}),
    ("医院病床", {"beds"}),                            # one phrase: the same words
    ("医疗机构名单", {"orgs", "health_orgs"}),           # 医疗卫生机构 has 医疗 and 机构
    ("医疗机构", {"orgs", "health_orgs"}),
    ("名单", {"orgs", "health_orgs", "schools"}),
    ("床位数", {"beds"}),                               # a column name (gone is withdrawn)
    ("身份证号", {"schools"}),
    ("bed count", {"english"}),                         # Bed_Count, case-insensitive
    ("HOSPITAL", {"english"}),
    ("医院", {"beds", "hospitals", "bed_stats"}),
    ("医疗", {"beds", "orgs", "health_orgs"}),          # keywords of beds
    ("医院 学校", set()),                               # every word must match
    ("学校 病床", set()),
    ("医院旧表", set()),                                # only the withdrawn one has it
    ("医", set()),                                      # words, not substrings
    ("病床医院名单", set()),
])
def test_every_word_matches(engine, corpus, q, expected):
    assert set(_found(engine, corpus, q=q)) == expected


@pytest.mark.parametrize(("phrase", "spaced"), [
    ("医院病床", "医院 病床"), ("医疗机构名单", "医疗 机构 名单"), ("中小学学生", "中小学 学生"),
    ("海淀区医疗机构", "海淀区 医疗机构"),
])
def test_a_phrase_finds_what_its_words_find(engine, corpus, phrase, spaced):
    # the same datasets; the order may differ (医疗机构 as a word also scores its own match)
    assert set(_found(engine, corpus, q=phrase)) == set(_found(engine, corpus, q=spaced)) != set()
    assert _found(engine, corpus, q="医院病床") == _found(engine, corpus, q="医院 病床")


@pytest.mark.parametrize("q", ["", "   ", "？！。", "的", "的 和 与", "__", "*", "、、"])
def test_no_word_is_no_query(engine, corpus, q):
    newest_first = [name for name in reversed(CORPUS) if name != "gone"]
    assert _found(engine, corpus, q=q) == newest_first
    assert not repository.is_ranked(q)


def test_a_title_match_ranks_before_a_description_match(engine, corpus):
    # bed_stats is newer and says 医院 only in its description; hospitals says it in its title
    found = _found(engine, corpus, q="医院")
    assert found.index("hospitals") < found.index("bed_stats")
    assert found.index("beds") < found.index("bed_stats")
    assert _found(engine, corpus, q="医院 名录") == ["hospitals"]


@pytest.mark.parametrize(("hostile", "same_as"), [
    ('"医院"', "医院"), ('医院"', "医院"), ('"', ""), ("'", ""), ("医院*", "医院"),
    ("-医院", "医院"), ("医院 -病床", "医院 病床"), ("^医院", "医院"), ("医院:*", "医院"),
    ("医院 & 病床", "医院 病床"), ("医院 | 病床", "医院 病床"), ("!医院", "医院"),
    ("(医院", "医院"), ("医院)", "医院"), ("{title}: 医院", "title 医院"),
    ("NEAR(医院 病床)", "near 医院 病床"), ("医院 OR 学校", "医院 学校"),
    ("医院 AND NOT 病床", "医院 not 病床"), ("title:医院", "title 医院"),
    ("near", "near"), ("and", ""), ("医院 <-> 病床", "医院 病床"), ("\\医院", "医院"),
    ("医院\x00病床", "医院 病床"), ("' OR 1=1 --", "1 1"),
    ("医院'; DROP TABLE x;--", "医院 drop table x"),
])
def test_hostile_input_is_only_words(engine, corpus, hostile, same_as):
    assert _found(engine, corpus, q=hostile) == _found(engine, corpus, q=same_as)
    with engine.connect() as conn:
        total, _ = repository.count_datasets(conn, q=hostile)
    assert total == len(_found(engine, corpus, q=same_as))


def test_near_is_a_word_like_any_other(engine, corpus):
    assert _found(engine, corpus, q="NEAR river") == ["english"]
    assert _found(engine, corpus, q='"quotes" stars') == ["english"]


@pytest.mark.parametrize("filters", [
    {}, {"q": "名单"}, {"q": "医院"}, {"q": "医院", "department": "health"},
    {"q": "名单", "sharing": "unconditional"}, {"q": "医院", "level": "L3"},
    {"q": "机构", "department": "civil", "sharing": "conditional"}, {"q": "没有的词"},
    {"department": "health", "level": "L2"},
])
def test_total_and_facets_count_the_listed_results(engine, corpus, filters):
    with engine.connect() as conn:
        total, facets = repository.count_datasets(conn, **filters)
        listed = repository.search_datasets(conn, limit=None, **filters)
        assert total == len(listed)
        for facet in repository.FACETS:
            without = repository.search_datasets(conn, limit=None,
                                                 **(filters | {facet: None}))
            assert facets[facet] == dict(sorted(collections.Counter(
                getattr(d, facet) for d in without
                if getattr(d, facet) is not None).items())), facet  # no theme: no facet


@pytest.mark.parametrize("filters", [{}, {"department": "health"}, {"level": "L2"}])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_paging_through_a_ranked_result_visits_each_once(engine, corpus, size, filters):
    # the page is picked from the matches before the versions are joined: same rows, in order
    with engine.connect() as conn:
        everything = [d.id for d in repository.search_datasets(conn, q="医院",
                                                               limit=None, **filters)]
        pages, offset = [], 0
        while True:
            page = repository.search_datasets(conn, q="医院", limit=size,
                                              offset=offset, **filters)
            if not page:
                break
            assert all(d.version is not None and d.version.version == 1 for d in page)
            pages += [d.id for d in page]
            offset += len(page)
        total, _ = repository.count_datasets(conn, q="医院", **filters)
    assert pages == everything and len(set(pages)) == len(pages) == total > 0


def test_equal_scores_break_ties_newest_first(engine):
    with engine.begin() as conn:
        ids = [repository.add_dataset(
            conn, department="civil", title="低保对象名单", description="", sharing="conditional",
            level="L1", legal_basis=None, keywords="", created_by="bob",
            now=NOW + dt.timedelta(minutes=n % 3)) for n in range(7)]
    with engine.connect() as conn:
        found = [d.id for d in repository.search_datasets(conn, q="低保名单", limit=None)]
        paged = [d.id for offset in range(0, 7, 2) for d in repository.search_datasets(
            conn, q="低保名单", limit=2, offset=offset)]
    assert found == paged and set(found) == set(ids)
    times = {i: n % 3 for n, i in enumerate(ids)}
    assert [times[i] for i in found] == sorted(times.values(), reverse=True)


def _indexed(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(search.search_table.c.dataset_id,
                                      search.search_table.c.title))
        return dict(rows.all())


def test_edits_and_withdrawals_update_the_index_in_their_transaction(engine, corpus):
    with engine.begin() as conn:
        repository.update_metadata(conn, corpus["hospitals"], {"title": "诊所名录"}, now=NOW)
        repository.add_version(
            conn, corpus["orgs"], sha256=DIGEST, format="csv", filename="x.csv", row_count=1,
            byte_size=1, columns=[{"name": "统一社会信用代码"}], quality=None,
            quality_passed=True, created_by="bob", now=NOW)
        repository.withdraw_dataset(conn, corpus["schools"], by="bob", reason="旧", now=NOW)
    assert _found(engine, corpus, q="诊所") == ["hospitals"]
    assert "hospitals" not in _found(engine, corpus, q="医院")
    assert _found(engine, corpus, q="信用代码") == ["orgs"]
    assert _found(engine, corpus, q="地址") == []           # the old version's column
    assert _found(engine, corpus, q="学生") == []
    assert set(_indexed(engine)) == set(corpus.values()) - {corpus["gone"], corpus["schools"]}


def test_a_failed_transaction_leaves_the_index_unchanged(engine, corpus):
    before = _indexed(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        repository.update_metadata(conn, corpus["hospitals"], {"title": "诊所名录"}, now=NOW)
        repository.withdraw_dataset(conn, corpus["beds"], by="bob", reason="旧", now=NOW)
        _add(conn, "english", 99)
        assert _found_in(conn, corpus, "诊所") == ["hospitals"]  # seen inside it
        raise RuntimeError("the audit entry failed")
    assert _indexed(engine) == before
    assert _found(engine, corpus, q="诊所") == []
    assert _found(engine, corpus, q="医院 病床") == ["beds"]
    assert _found(engine, corpus, q="river") == ["english"]


def _found_in(conn: sa.Connection, corpus: dict[str, str], q: str) -> list[str]:
    names = {v: k for k, v in corpus.items()}
    return [names.get(d.id, d.id) for d in repository.search_datasets(conn, q=q, limit=None)]


def test_rebuild_indexes_what_the_writes_index(engine, corpus):
    before = _indexed(engine)
    with engine.begin() as conn:
        assert search.rebuild(conn) == len(before)
    assert _indexed(engine) == before
    assert set(_found(engine, corpus, q="医院病床")) == {"beds"}


@pytest.mark.parametrize(("notes", "words"), [
    ({"床位数": "核定床位的数量"}, {"核定", "床位", "数量"}),
    ({"床位数": None, "x": 3}, set()),             # not text: ignored
    (None, set()),
])
def test_column_descriptions_are_indexed_with_the_names(notes, words):
    document = search.document_of(title="t", description="", keywords="",
                                  column_names=["床位数"], column_notes=notes)
    assert set(document["columns"].split()) == {"床位", "位数", "床位数"} | words


@pytest.mark.parametrize(("text", "expected"), [
    ("医院的病床", "医院 病床"), ("ID_Card/Bed-Count", "id card bed count"), ("？！", ""),
    ("C++ 3.5%", "c 3 5"),
])
def test_segmentation_drops_punctuation_and_function_words(text, expected):
    assert search.segment(text) == expected


def _counted(conn: sa.Connection) -> collections.Counter:
    """What the catalog keeps, and what counting the catalog itself gives."""
    return collections.Counter({(d, s, lv, t): n for d, s, lv, t, n in search.counts(conn)})


def _recount(conn: sa.Connection) -> collections.Counter:
    d = catalog_models.datasets_table
    rows = conn.execute(sa.select(d.c.department, d.c.sharing, d.c.level, d.c.theme,
                                  sa.func.count()).where(d.c.withdrawn_at.is_(None))
                        .group_by(d.c.department, d.c.sharing, d.c.level, d.c.theme))
    return collections.Counter({tuple(row[:4]): row[4] for row in rows})


@pytest.mark.parametrize(("name", "change"), [
    ("beds", {"level": "L3"}),                          # one combination down, another up
    ("beds", {"theme": "health"}),
    ("orgs", {"sharing": "conditional", "theme": "public_service"}),
    ("orgs", {"title": "改名"}),                          # no facet moved
    ("hospitals", "withdraw"),
    ("english", "withdraw"),                            # its combination's last dataset
    ("schools", "version"),
])
def test_the_kept_counts_are_the_catalogs_own(engine, corpus, name, change):
    with engine.begin() as conn:
        assert _counted(conn) == _recount(conn) != collections.Counter()
        if change == "withdraw":
            repository.withdraw_dataset(conn, corpus[name], by="bob", reason="旧", now=NOW)
        elif change == "version":
            repository.add_version(
                conn, corpus[name], sha256=DIGEST, format="csv", filename="x.csv", row_count=1,
                byte_size=1, columns=[{"name": "a"}], quality=None, quality_passed=True,
                created_by="bob", now=NOW)
        else:
            repository.update_metadata(conn, corpus[name], change, now=NOW)
        assert _counted(conn) == _recount(conn)
        search.rebuild(conn)
        assert _counted(conn) == _recount(conn)
    with pytest.raises(RuntimeError), engine.begin() as conn:  # undone with its transaction
        before = _counted(conn)
        _add(conn, "english", 99)
        repository.update_metadata(conn, corpus["beds"], {"level": "L4"}, now=NOW)
        assert _counted(conn) != before
        raise RuntimeError("the audit entry failed")
    with engine.connect() as conn:
        assert _counted(conn) == before == _recount(conn)
        assert 0 not in _counted(conn).values()  # a combination gone is not kept at zero


@pytest.mark.parametrize("filters", [{}, {"department": "health"}, {"q": "名单"},
                                     {"q": "医院", "level": "L2"}])
@pytest.mark.parametrize("sort", ["newest", "changed"])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_paging_by_date_visits_each_once_in_order(engine, corpus, sort, size, filters):
    with engine.begin() as conn:  # the oldest edited, the newest given a version: both move
        repository.update_metadata(conn, corpus["beds"], {"description": "改"},
                                   now=NOW + dt.timedelta(days=2))
        repository.add_version(
            conn, corpus["english"], sha256=DIGEST, format="csv", filename="x.csv",
            row_count=1, byte_size=1, columns=[{"name": "bed_count"}], quality=None,
            quality_passed=True, created_by="bob", now=NOW + dt.timedelta(days=1))
    with engine.connect() as conn:
        everything = repository.search_datasets(conn, limit=None, sort=sort, **filters)
        pages, after = [], None
        while True:
            page = repository.search_datasets(conn, limit=size, sort=sort, after=after,
                                              **filters)
            if not page:
                break
            pages += page
            last = page[-1]
            after = (last.created_at if sort == "newest" else last.changed_at, last.id)
        total, _ = repository.count_datasets(conn, **filters)
    assert [d.id for d in pages] == [d.id for d in everything] and len(pages) == total > 0
    keys = [(d.created_at if sort == "newest" else d.changed_at, d.id) for d in everything]
    assert keys == sorted(keys, reverse=True)
    if sort == "changed" and not filters:
        assert [d.id for d in everything[:2]] == [corpus["beds"], corpus["english"]]
    if sort == "newest" and not filters:
        assert everything[-1].id == corpus["beds"]  # published first, edited or not
