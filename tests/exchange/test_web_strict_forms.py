"""Every form refuses a field it does not have (issue 16: strict input), as the API refuses a
body's: 400 ``unknown_field`` naming it, in the page's language, and nothing done."""

from __future__ import annotations

import pytest

from .conftest import text


@pytest.mark.parametrize(("user", "page", "action", "fields"), [
    (None, "/sign-in", "/sign-in", {"username": "civil-steward", "password": "x" * 12}),
    ("civil-requester", "/request/{hotline_tickets}", "/request/{hotline_tickets}",
     {"purpose": "核对", "columns": "受理时间"}),
    ("civil-steward", "/steward/publish", "/steward/publish", {"title": "台账"}),
    ("hotline-steward", "/steward/publish", "/steward/requests/rq_none/deny", {"reason": "无"}),
    ("market-steward", "/steward/datasets/{market_entities}/withdraw",
     "/steward/datasets/{market_entities}/withdraw", {"reason": "旧"}),
])
def test_a_form_with_a_field_it_does_not_have_is_refused(browse, datasets, user, page,
                                                         action, fields):
    ids = {key: d["id"] for key, d in datasets.items()}
    browser = browse(user, "zh")
    refused = browser.submit(page.format(**ids), action.format(**ids),
                             fields | {"row_filter": "510104"})
    assert refused.status_code == 400
    body = text(refused)
    assert "未知字段" in body and "row_filter" in body
    if user == "market-steward":  # not withdrawn
        still = browse("civil-requester", "zh").get(f"/catalog/{ids['market_entities']}")
        assert still.status_code == 200 and "已撤回" not in text(still)
