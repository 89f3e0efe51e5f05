"""Who may do what: the Casbin enforcer, access requests, decisions and grants.

Framework-free: no Flask, no import of ``exchange``. Usage::

    from policies import Enforcer, workflow, DatasetFacts
    enforcer = Enforcer(engine)            # policies stored through sqlalchemy-adapter
    enforcer.add_department("hotline")
    enforcer.assign_role("bob", "steward", "hotline")
    enforcer.require("bob", "hotline", "request", "decide", now=now)   # raises AccessDenied
    with engine.begin() as conn:
        decision = workflow.create_request(conn, facts=facts, requester="alice",
                                           receiver="civil", purpose="低保复核",
                                           columns=["姓名"], default_masking={}, now=now)
"""

from __future__ import annotations

from . import rules, workflow
from .enforcer import FOREVER, ROLE_PERMISSIONS, Enforcer, rfc3339
from .errors import (
    AccessDenied,
    AlreadyDecided,
    GrantInactive,
    GrantNotFound,
    InvalidRequest,
    PolicyError,
    RequestNotFound,
)
from .models import (
    AccessRequest,
    DatasetFacts,
    Grant,
    appeals_table,
    metadata,
    requests_table,
)

__all__ = [
    "Enforcer", "ROLE_PERMISSIONS", "FOREVER", "rfc3339", "rules", "workflow", "metadata",
    "AccessRequest", "Grant", "DatasetFacts", "PolicyError", "AccessDenied", "RequestNotFound",
    "GrantNotFound", "InvalidRequest", "AlreadyDecided", "GrantInactive", "requests_table",
    "appeals_table",
]
