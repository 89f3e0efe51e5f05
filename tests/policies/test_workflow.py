from __future__ import annotations

import datetime as dt

import pytest

from policies import (
    AlreadyDecided,
    DatasetFacts,
    GrantInactive,
    GrantNotFound,
    InvalidRequest,
    RequestNotFound,
    workflow,
)

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.timezone.utc)

COLUMNS = ("工单编号", "来电人", "联系电话", "诉求内容")
DEFAULTS = {"来电人": "mask", "联系电话": "mask", "诉求内容": "scrub", "工单编号": "keep"}


def facts(sharing="conditional", level="L3", **kw):
    return DatasetFacts(id="ds_1", version=1, provider="hotline", sharing=sharing, level=level,
                        columns=COLUMNS, personal_columns=frozenset({"来电人", "联系电话",
                                                                     "诉求内容"}),
                        legal_basis=kw.get("legal_basis"))


def new_request(conn, f=None, columns=("来电人", "诉求内容"), purpose="核查低保申请"):
    return workflow.create_request(conn, facts=f or facts(), requester="cv-requester",
                                   receiver="civil", purpose=purpose, columns=list(columns),
                                   default_masking=DEFAULTS, now=NOW)


@pytest.mark.parametrize(("sharing", "status", "has_grant"), [
    ("unconditional", "granted", True),
    ("conditional", "pending", False),
    ("none", "refused", False),
])
def test_initial_status_follows_the_sharing_type(engine, sharing, status, has_grant):
    with engine.begin() as conn:
        d = new_request(conn, facts(sharing=sharing, legal_basis="《刑事诉讼法》第152条"))
    assert d.request.status == status
    assert (d.grant is not None) is has_grant
    if sharing == "none":
        assert "刑事诉讼法" in d.request.reason


@pytest.mark.parametrize(("columns", "purpose", "message"), [
    ([], "x", "at least one column"),
    (["身份证号"], "x", "unknown column"),
    (["来电人", "来电人"], "x", "named twice"),
    (["来电人"], "   ", "purpose"),
])
def test_bad_requests_are_refused(engine, columns, purpose, message):
    with engine.begin() as conn, pytest.raises(InvalidRequest, match=message):
        new_request(conn, columns=columns, purpose=purpose)


def test_approve_issues_a_grant_with_defaults_and_explicit_operators(engine):
    with engine.begin() as conn:
        req = new_request(conn).request
        d = workflow.approve(conn, req.id, steward="hl-steward", facts=facts(),
                             default_masking=DEFAULTS, masking={"来电人": "hash"},
                             expires_in_days=30, now=NOW)
    assert d.request.status == "granted"
    assert d.grant.masking == {"来电人": "hash", "诉求内容": "scrub"}
    assert d.grant.expires_at == NOW + dt.timedelta(days=30)
    assert d.grant.status(NOW) == "active"
    assert d.grant.status(NOW + dt.timedelta(days=31)) == "expired"


def test_l3_personal_column_never_defaults_to_keep(engine):
    with engine.begin() as conn:
        req = new_request(conn).request
        d = workflow.approve(conn, req.id, steward="hl-steward", facts=facts(),
                             default_masking={}, now=NOW)
    assert d.grant.masking == {"来电人": "mask", "诉求内容": "mask"}


def test_l3_keep_only_when_the_steward_says_so(engine):
    with engine.begin() as conn:
        req = new_request(conn).request
        d = workflow.approve(conn, req.id, steward="hl-steward", facts=facts(),
                             default_masking=DEFAULTS, masking={"来电人": "keep"}, now=NOW)
    assert d.grant.masking["来电人"] == "keep"


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"columns": ["联系电话"]}, InvalidRequest, "not requested"),
    ({"masking": {"联系电话": "mask"}}, InvalidRequest, "outside the grant"),
    ({"expires_in_days": 0}, InvalidRequest, "expires_in_days"),
    ({"expires_in_days": 366}, InvalidRequest, "expires_in_days"),
])
def test_bad_approvals_write_nothing(engine, kwargs, error, message):
    with engine.begin() as conn:
        req = new_request(conn).request
    with engine.begin() as conn, pytest.raises(error, match=message):
        workflow.approve(conn, req.id, steward="hl-steward", facts=facts(),
                         default_masking=DEFAULTS, now=NOW, **kwargs)
    with engine.connect() as conn:
        assert workflow.get_request(conn, req.id).status == "pending"
        assert workflow.list_grants(conn) == []


def test_second_decision_conflicts(engine):
    with engine.begin() as conn:
        req = new_request(conn).request
        workflow.approve(conn, req.id, steward="hl-steward", facts=facts(),
                         default_masking=DEFAULTS, now=NOW)
        with pytest.raises(AlreadyDecided):
            workflow.approve(conn, req.id, steward="hl-steward", facts=facts(),
                             default_masking=DEFAULTS, now=NOW)
        with pytest.raises(AlreadyDecided):
            workflow.deny(conn, req.id, steward="hl-steward", reason="no", now=NOW)


def test_l4_needs_two_distinct_stewards(engine):
    l4 = facts(level="L4")
    with engine.begin() as conn:
        req = new_request(conn, l4).request
        first = workflow.approve(conn, req.id, steward="s1", facts=l4, default_masking=DEFAULTS,
                                 now=NOW)
        assert first.grant is None and first.request.status == "pending"
        with pytest.raises(AlreadyDecided, match="another steward"):
            workflow.approve(conn, req.id, steward="s1", facts=l4, default_masking=DEFAULTS,
                             now=NOW)
        second = workflow.approve(conn, req.id, steward="s2", facts=l4,
                                  default_masking=DEFAULTS, now=NOW)
    assert second.grant is not None
    assert second.grant.approved_by == ["s1", "s2"]


def test_deny_needs_a_reason(engine):
    with engine.begin() as conn:
        req = new_request(conn).request
        with pytest.raises(InvalidRequest, match="reason"):
            workflow.deny(conn, req.id, steward="hl-steward", reason=" ", now=NOW)
        denied = workflow.deny(conn, req.id, steward="hl-steward", reason="目的不明确", now=NOW)
    assert denied.status == "denied" and denied.reason == "目的不明确"


def test_revoked_grant_is_inactive(engine):
    with engine.begin() as conn:
        grant = new_request(conn, facts(sharing="unconditional")).grant
        assert workflow.active_grant(conn, grant.id, now=NOW).id == grant.id
        workflow.revoke(conn, grant.id, by="hl-steward", reason="用途结束", now=NOW)
        with pytest.raises(GrantInactive, match="revoked"):
            workflow.active_grant(conn, grant.id, now=NOW)
        with pytest.raises(AlreadyDecided):
            workflow.revoke(conn, grant.id, by="hl-steward", reason=None, now=NOW)


def test_missing_ids(engine):
    with engine.connect() as conn:
        with pytest.raises(RequestNotFound):
            workflow.get_request(conn, "rq_nope")
        with pytest.raises(GrantNotFound):
            workflow.get_grant(conn, "gr_nope")


def test_listing_by_side_and_status(engine):
    with engine.begin() as conn:
        new_request(conn)
        new_request(conn, facts(sharing="unconditional"))
    with engine.connect() as conn:
        assert len(workflow.list_requests(conn, receiver="civil")) == 2
        assert len(workflow.list_requests(conn, provider="hotline", status="pending")) == 1
        assert workflow.list_requests(conn, receiver="hotline") == []
        assert len(workflow.list_grants(conn, receiver="civil")) == 1


def test_l4_second_steward_confirms_the_first_conditions(engine):
    l4 = facts(level="L4")
    with engine.begin() as conn:
        req = new_request(conn, l4).request
        workflow.approve(conn, req.id, steward="s1", facts=l4, default_masking=DEFAULTS,
                         masking={"来电人": "hash"}, expires_in_days=30, now=NOW)
        first = workflow.first_conditions(conn, req.id)
        assert first["masking"]["来电人"] == "hash" and first["expires_in_days"] == 30
        with pytest.raises(InvalidRequest, match="confirm the first one's masking"):
            workflow.approve(conn, req.id, steward="s2", facts=l4, default_masking=DEFAULTS,
                             masking={"来电人": "mask"}, now=NOW)
        same = workflow.approve(conn, req.id, steward="s2", facts=l4, default_masking=DEFAULTS,
                                masking={"来电人": "hash"}, expires_in_days=30, now=NOW)
    assert same.grant.masking["来电人"] == "hash"
    assert same.grant.expires_at == NOW + dt.timedelta(days=30)


@pytest.mark.parametrize(("purpose", "message"), [
    ("", "state the purpose"),
    ("   ", "state the purpose"),
    ("核" * (workflow.MAX_PURPOSE + 1), "longer than"),
])
def test_check_purpose_refuses_what_create_request_refuses(purpose, message):
    """The exchange checks a purpose before it scrubs it for the log (a 100,000-character
    purpose costs the scrubber seconds): the same rule as recording the request."""
    with pytest.raises(InvalidRequest, match=message):
        workflow.check_purpose(purpose)
    assert workflow.check_purpose("  核查低保资格 ") == "核查低保资格"
