"""Every list of the API pages the same way (``page_size``, ``page_token``, ``next_page_token``,
``total``) and none silently stops: a catalog of more datasets than a page, requests and
grants, on an instance of its own."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog import repository
from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings

from .conftest import new_instance

STEWARD = Principal("civil-steward", "", "civil", "steward")
HOTLINE = Principal("hotline-steward", "", "hotline", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
DATASETS = 130  # more than two pages of 50, more than the 100 the catalog once stopped at


@pytest.fixture(scope="module")
def city(tmp_path_factory, settings_for):
    config = settings_for(tmp_path_factory.mktemp("paging"))
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, HOTLINE, REQUESTER)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with svc.engine.begin() as conn:
        for n in range(DATASETS):
            owner = "civil" if n % 3 else "hotline"
            made = repository.add_dataset(
                conn, department=owner, title=f"台账{n:03d}", description="",
                sharing="unconditional" if n % 2 else "conditional", level="L1",
                legal_basis=None, keywords="", created_by="x",
                now=start + dt.timedelta(minutes=n // 2))  # pairs share a time: ids break ties
            repository.add_version(conn, made, sha256="0" * 64, format="csv", filename="x.csv",
                                   row_count=1, byte_size=4, columns=[{"name": "x"}],
                                   quality=None, quality_passed=True, created_by="x",
                                   now=start)  # never delivered: only asked for
    svc.engine.dispose()
    app = create_app(config)
    client = app.test_client()

    def get(who: Principal, path: str, **params):
        return client.get("/api/v1" + path, query_string=params, headers={
            "Authorization": f"Bearer {tokens[who.username]}", "Accept-Language": "en"})

    def post(who: Principal, path: str, body: dict):
        return client.post("/api/v1" + path, json=body, headers={
            "Authorization": f"Bearer {tokens[who.username]}"})
    post.svc = app.extensions["govex"]
    return get, post


def _all(get, who, path, key, **params) -> tuple[list[dict], list[int]]:
    found, sizes, token = [], [], None
    while True:
        page = get(who, path, **params, **({"page_token": token} if token else {}))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        found += body[key]
        sizes.append(len(body[key]))
        token = body["next_page_token"]
        if token is None:
            return found, sizes


def test_the_catalog_pages_through_every_dataset_newest_first(city):
    get, _post = city
    found, sizes = _all(get, REQUESTER, "/datasets", "datasets", page_size=50)
    assert sizes == [50, 50, 30]
    titles = [d["title"] for d in found]
    assert len(set(titles)) == DATASETS  # none twice, none left out
    times = [d["created_at"] for d in found]
    assert times == sorted(times, reverse=True)
    first = get(REQUESTER, "/datasets").get_json()
    assert first["total"] == DATASETS and len(first["datasets"]) == 50  # the default size


def test_facets_count_what_each_choice_would_find(city):
    get, _post = city
    body = get(REQUESTER, "/datasets", department="civil", page_size=1).get_json()
    civil = sum(1 for n in range(DATASETS) if n % 3)
    assert body["total"] == civil
    assert body["facets"]["department"] == {"civil": civil, "hotline": DATASETS - civil}
    assert body["facets"]["sharing"] == {
        "conditional": sum(1 for n in range(DATASETS) if n % 3 and not n % 2),
        "unconditional": sum(1 for n in range(DATASETS) if n % 3 and n % 2)}
    assert body["facets"]["level"] == {"L1": civil}


def test_a_dataset_published_between_pages_moves_nothing(city):
    get, post = city
    page = get(REQUESTER, "/datasets", page_size=40).get_json()
    with post.svc.engine.begin() as conn:  # published while the reader looks at page 1
        repository.add_dataset(conn, department="civil", title="新台账", description="",
                               sharing="conditional", level="L1", legal_basis=None,
                               keywords="", created_by="x",
                               now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    later = get(REQUESTER, "/datasets", page_size=40,
                page_token=page["next_page_token"]).get_json()
    shown = [d["id"] for d in page["datasets"]] + [d["id"] for d in later["datasets"]]
    assert len(set(shown)) == 80 and "新台账" not in [d["title"] for d in later["datasets"]]
    assert later["datasets"][0]["created_at"] <= page["datasets"][-1]["created_at"]


def test_a_search_pages_by_position_through_every_match_once(city):
    get, _post = city
    found, sizes = _all(get, REQUESTER, "/datasets", "datasets", q="台账", page_size=50)
    first = get(REQUESTER, "/datasets", q="台账", page_size=50).get_json()
    assert first["total"] >= DATASETS  # and 新台账, if published by the test above
    assert sizes[:2] == [50, 50] and len({d["id"] for d in found}) == first["total"] == len(found)
    # a search's token is not a newest-first list's, nor the other way round
    newest = get(REQUESTER, "/datasets", page_size=50).get_json()["next_page_token"]
    for params in ({"q": "台账", "page_token": newest},
                   {"page_token": first["next_page_token"]}):
        refused = get(REQUESTER, "/datasets", **params)
        assert refused.status_code == 400
        assert refused.get_json()["error"]["code"] == "page_token_invalid"


def test_last_changed_first_pages_through_every_dataset_once(city):
    get, post = city
    before = [d["id"] for d in _all(get, REQUESTER, "/datasets", "datasets",
                                    sort="changed", page_size=1000)[0]]
    oldest = before[-1]
    with post.svc.engine.begin() as conn:  # the oldest one edited: first by last change
        repository.update_metadata(conn, oldest, {"description": "改"},
                                   now=dt.datetime(2026, 12, 5, tzinfo=dt.timezone.utc))
    for size in (7, 50):
        found, _sizes = _all(get, REQUESTER, "/datasets", "datasets", sort="changed",
                             page_size=size)
        assert [d["id"] for d in found][0] == oldest
        assert sorted(d["id"] for d in found) == sorted(before)  # each once, none left out
        changed = [d["changed_at"] for d in found]
        assert changed == sorted(changed, reverse=True)
        assert {d["sort"] for d in [get(REQUESTER, "/datasets", sort="changed").get_json()]} \
            == {"changed"}
    newest = _all(get, REQUESTER, "/datasets", "datasets", sort="newest", page_size=1000)[0]
    assert newest[-1]["id"] == oldest  # its publication did not move
    # searching, by last change: keyset pages too
    matched, _ = _all(get, REQUESTER, "/datasets", "datasets", q="台账", sort="changed",
                      page_size=9)
    assert matched[0]["id"] == oldest and len({d["id"] for d in matched}) == len(matched)


def test_a_token_of_one_order_is_refused_in_another(city):
    get, _post = city
    tokens = {sort: get(REQUESTER, "/datasets", sort=sort, page_size=5).get_json()
              ["next_page_token"] for sort in ("newest", "changed")}
    for sort, other in (("newest", "changed"), ("changed", "newest")):
        refused = get(REQUESTER, "/datasets", sort=sort, page_token=tokens[other])
        assert refused.status_code == 400
        assert refused.get_json()["error"]["code"] == "page_token_invalid"


@pytest.mark.parametrize("params,code", [
    ({"sort": "oldest"}, "sort_unknown"), ({"sort": "RELEVANCE", "q": "台账"}, "sort_unknown"),
    ({"sort": "relevance"}, "sort_relevance_without_q"),
    ({"sort": "relevance", "q": "的"}, "sort_relevance_without_q"),  # a function word only
])
def test_an_order_that_does_not_exist_is_a_clear_400(city, params, code):
    get, _post = city
    refused = get(REQUESTER, "/datasets", **params)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == code
    assert refused.get_json()["error"]["fields"][0]["name"] == "sort"


@pytest.mark.parametrize("params,code", [
    ({"page_size": 0}, "page_size_range"), ({"page_size": 1001}, "page_size_range"),
    ({"page_size": "ten"}, "page_size_range"), ({"page_token": "not-a-token"},
                                                "page_token_invalid"),
    ({"page_token": "WyJ5ZXN0ZXJkYXkiLCJ4Il0"}, "page_token_invalid"),  # ["yesterday","x"]
    ({"page_token": "Wy0xXQ"}, "page_token_invalid"),  # [-1]
    ({"page_token": "WzEuNV0"}, "page_token_invalid"),  # [1.5]
])
def test_a_bad_page_is_a_clear_400(city, params, code):
    get, _post = city
    for path in ("/datasets", "/requests", "/grants"):
        refused = get(REQUESTER, path, **params)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == code


def test_requests_and_grants_page_too(city):
    get, post = city
    found, _ = _all(get, REQUESTER, "/datasets", "datasets", page_size=1000)
    open_ = [d["id"] for d in found if d["sharing"] == "unconditional"][:7]
    for dataset_id in open_:  # unconditional: granted at once
        post(REQUESTER, "/requests", {"dataset_id": dataset_id, "purpose": "核对",
                                      "columns": ["x"]})
    for path, key in (("/requests", "requests"), ("/grants", "grants")):
        listed, sizes = _all(get, REQUESTER, path, key, page_size=3)
        assert sizes == [3, 3, 1] and len({item["id"] for item in listed}) == 7
        assert get(REQUESTER, path, page_size=3).get_json()["total"] == 7
        made = [item["created_at"] for item in listed]
        assert made == sorted(made, reverse=True)  # newest first for the requester
