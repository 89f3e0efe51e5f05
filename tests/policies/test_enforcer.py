from __future__ import annotations

import datetime as dt

import pytest

from policies import AccessDenied, Enforcer

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.timezone.utc)

DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(("user", "dom", "obj", "act", "expected"), [
    ("hl-steward", "hotline", "request", "decide", True),
    ("hl-steward", "civil", "request", "decide", False),      # another department's requests
    ("cv-requester", "civil", "request", "decide", False),    # requesters do not decide
    ("cv-requester", "civil", "request", "create", True),
    ("cv-requester", "hotline", "request", "create", False),  # acts only for its own dept
    ("cv-requester", "civil", "dataset", "publish", False),
    ("hl-steward", "hotline", "dataset", "publish", True),
    ("auditor", "audit", "audit", "read", True),
    ("cv-steward", "civil", "audit", "read", False),
    ("nobody", "civil", "catalog", "read", False),
])
def test_role_permissions(enforcer, user, dom, obj, act, expected):
    assert enforcer.allowed(user, dom, obj, act, now=NOW) is expected


def test_require_raises_access_denied(enforcer):
    with pytest.raises(AccessDenied, match="not permitted: decide request in civil"):
        enforcer.require("hl-steward", "civil", "request", "decide", now=NOW)


def test_grant_lets_only_the_receiving_department_in_until_expiry(enforcer):
    enforcer.allow_grant("gr_1", "civil", until=NOW + DAY)
    assert enforcer.may_receive("cv-requester", "civil", "gr_1", now=NOW)
    assert not enforcer.may_receive("hl-requester", "hotline", "gr_1", now=NOW)
    assert not enforcer.may_receive("cv-requester", "hotline", "gr_1", now=NOW)
    assert not enforcer.may_receive("cv-steward", "civil", "gr_1", now=NOW)
    assert not enforcer.may_receive("cv-requester", "civil", "gr_2", now=NOW)
    assert not enforcer.may_receive("cv-requester", "civil", "gr_1", now=NOW + 2 * DAY)


def test_revoke_stops_access_and_keeps_the_fast_index_working(enforcer):
    enforcer.allow_grant("gr_1", "civil", until=NOW + DAY)
    enforcer.allow_grant("gr_2", "civil", until=NOW + DAY)
    enforcer.revoke_grant("gr_1")
    enforcer.revoke_grant("gr_1")  # idempotent
    assert not enforcer.may_receive("cv-requester", "civil", "gr_1", now=NOW)
    assert enforcer.may_receive("cv-requester", "civil", "gr_2", now=NOW)
    assert enforcer.allowed("hl-steward", "hotline", "request", "decide", now=NOW)


def test_policies_persist_in_the_database(engine, enforcer):
    enforcer.allow_grant("gr_9", "civil", until=NOW + DAY)
    fresh = Enforcer(engine)
    assert fresh.may_receive("cv-requester", "civil", "gr_9", now=NOW)
    assert fresh.allowed("hl-steward", "hotline", "dataset", "publish", now=NOW)
    assert fresh.roles_of("hl-steward", "hotline") == ["steward"]


def test_unknown_role_is_refused(enforcer):
    with pytest.raises(ValueError, match="unknown role"):
        enforcer.assign_role("x", "superuser", "civil")
