"""Casbin behind a small class: every permission in govex is decided here.

Policies live in the database through ``sqlalchemy-adapter``; decisions run on pycasbin's
``FastEnforcer`` indexed by (object, domain), so a decision stays in the microseconds with
thousands of grants. A lock makes decisions safe across a threaded server (the fast enforcer
filters its policy set in place while it decides).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from importlib import resources

import casbin
import sqlalchemy as sa
from casbin.model import FastModel
from sqlalchemy_adapter import Adapter

from .errors import AccessDenied

__all__ = ["Enforcer", "ROLE_PERMISSIONS", "FOREVER", "rfc3339", "MODEL_TEXT"]

FOREVER = "9999-12-31T23:59:59Z"

MODEL_TEXT = resources.files(__package__).joinpath("model.conf").read_text(encoding="utf-8")

# What each role may do within its own department.
ROLE_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "requester": (
        ("catalog", "read"),
        ("request", "create"),
        ("request", "list"),
        ("grant", "list"),
    ),
    "steward": (
        ("catalog", "read"),
        ("dataset", "publish"),
        ("request", "list"),
        ("request", "decide"),
        ("grant", "list"),
        ("grant", "revoke"),
    ),
    "auditor": (("catalog", "read"), ("audit", "read")),
    "admin": (("catalog", "read"), ("audit", "read"), ("user", "manage"), ("key", "manage")),
}

# (obj, dom) positions in both the request and the policy: the FastEnforcer index.
_CACHE_KEY_ORDER = (2, 1)


def rfc3339(moment: dt.datetime) -> str:
    """Format an aware datetime as the UTC string the model compares ("...Z", seconds)."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Enforcer:
    """The single decision point. ``engine`` holds the ``casbin_rule`` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._casbin = self._build(Adapter(engine, create_table=False))
        self._lock = threading.RLock()

    @staticmethod
    def _build(adapter: Adapter) -> casbin.FastEnforcer:
        model = FastModel(list(_CACHE_KEY_ORDER))
        model.load_model_from_text(MODEL_TEXT)
        enforcer = casbin.FastEnforcer(model, adapter, cache_key_order=list(_CACHE_KEY_ORDER))
        enforcer.enable_auto_save(True)
        return enforcer

    def allowed(self, user: str, dom: str, obj: str, act: str, *, now: dt.datetime) -> bool:
        """True when ``user`` may do ``act`` on ``obj`` in department ``dom`` at ``now``."""
        with self._lock:
            return bool(self._casbin.enforce(_subject(user), dom, obj, act, rfc3339(now)))

    def require(self, user: str, dom: str, obj: str, act: str, *, now: dt.datetime) -> None:
        """Raise :class:`AccessDenied` unless :meth:`allowed`."""
        if not self.allowed(user, dom, obj, act, now=now):
            raise AccessDenied(f"not permitted: {act} {obj.split(':')[0]} in {dom}")

    def reload(self) -> None:
        """Load every policy again from the database (after another process changed them)."""
        with self._lock:
            self._casbin.load_policy()

    # -- roles ---------------------------------------------------------------------------
    def add_department(self, dom: str) -> None:
        """Create the role permissions of a new department (idempotent)."""
        rules = [
            [role, dom, obj, act, FOREVER]
            for role, perms in ROLE_PERMISSIONS.items()
            for obj, act in perms
        ]
        self._add_missing("p", rules)

    def assign_role(self, user: str, role: str, dom: str) -> None:
        """Give ``user`` the ``role`` within department ``dom`` (idempotent)."""
        if role not in ROLE_PERMISSIONS:
            raise ValueError(f"unknown role {role!r}")
        self._add_missing("g", [[_subject(user), role, dom]])

    def roles_of(self, user: str, dom: str) -> list[str]:
        """The roles ``user`` holds in ``dom``."""
        with self._lock:
            return list(self._casbin.get_roles_for_user_in_domain(_subject(user), dom))

    # -- grants --------------------------------------------------------------------------
    def allow_grant(self, grant_id: str, receiver: str, *, until: dt.datetime) -> None:
        """Let the requesters of ``receiver`` receive data under ``grant_id`` until ``until``."""
        self._add_missing("p", [["requester", receiver, _grant_obj(grant_id), "receive",
                                 rfc3339(until)]])

    def revoke_grant(self, grant_id: str) -> None:
        """Remove every permission that ``grant_id`` gave (idempotent)."""
        with self._lock:
            # remove_filtered_policy would replace the fast index with a plain list (pycasbin
            # 2.8), so look the rules up and remove them one by one.
            rules = self._casbin.get_filtered_policy(2, _grant_obj(grant_id))
            if rules:
                self._casbin.remove_policies([list(r) for r in rules])

    def may_receive(self, user: str, receiver: str, grant_id: str, *, now: dt.datetime) -> bool:
        """True when ``user`` of ``receiver`` may receive data under ``grant_id`` now."""
        return self.allowed(user, receiver, _grant_obj(grant_id), "receive", now=now)

    def _add_missing(self, sec: str, rules: Sequence[list[str]]) -> None:
        with self._lock:
            has = self._casbin.has_policy if sec == "p" else self._casbin.has_grouping_policy
            new = [r for r in rules if not has(*r)]
            if not new:
                return
            if sec == "p":
                self._casbin.add_policies(new)
            else:
                self._casbin.add_grouping_policies(new)


def _subject(user: str) -> str:
    return f"u:{user}"


def _grant_obj(grant_id: str) -> str:
    return f"grant:{grant_id}"
