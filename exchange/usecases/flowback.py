"""回流: a city dataset flowing back to the districts under its department.

A steward of the dataset's department decides once (purpose, legal basis, columns, masking,
review date; a second steward confirms at L4); every district department whose region lies
in the provider's receives a grant of its own region's rows, and a district created later
receives its own from the same decision when it is added. Each decision, confirmation and
end is a ``flowback`` audit entry; each district's grant an ``approve`` entry; each delivery
an ``exchange`` entry, as for any grant.
"""

from __future__ import annotations

from typing import Any

from masking import loggable_text
from policies import flowback

from .. import departments, events
from ..auth import Principal
from ..errors import InvalidInput
from ..services import Services
from .access import _allow, _granted
from .masking_plan import (
    check_operators,
    check_plan,
    dataset_facts,
    default_masking,
    region_column,
)
from .publishing import own_dataset

__all__ = ["flow_back", "confirm", "end", "list_flowbacks", "derive_for_district"]


def _own(svc: Services, who: Principal, dataset_id: str) -> Any:
    """The dataset, if ``who`` is a steward (``request decide``) of its department."""
    return own_dataset(svc, who, dataset_id, permission=("request", "decide"))


def _districts(conn: Any, provider: str) -> list[tuple[str, str]]:
    """The district departments under ``provider``'s region (enabled, with a region)."""
    above = departments.get(conn, provider)
    return [(d.code, d.region) for d in departments.list_all(conn)
            if d.level == "district" and d.region and not d.disabled and d.code != provider
            and departments.contains(above.region, d.region)]


def flow_back(svc: Services, who: Principal, dataset_id: str, *, purpose: Any,
              legal_basis: Any, columns: Any = None, masking: Any = None,
              review_in_days: Any = None) -> dict[str, Any]:
    """Decide that a dataset of the steward's department flows back to the districts under
    it: ``{"flowback": ..., "grants": [...]}`` (no grant yet at L4: a second steward
    confirms). Raises Forbidden, DatasetNotFound, InvalidInput (no region column; masking
    that does not fit), InvalidRequest (no purpose or legal basis, bad columns or review
    period, not shareable)."""
    dataset = _own(svc, who, dataset_id)
    column = region_column(dataset)
    if column is None:
        raise InvalidInput("回流 needs a column of region codes: publish the dataset with "
                           "region_column", code="flowback_no_region_column",
                           field="dataset_id")
    if columns is not None and (not isinstance(columns, list)
                                or not all(isinstance(c, str) for c in columns)):
        raise InvalidInput("columns must be a list of column names", code="columns_not_a_list",
                           field="columns")
    plan = check_operators(masking)
    facts = dataset_facts(dataset)
    wanted = columns if columns is not None else list(facts.columns)
    logged = loggable_text(purpose, analyzer=svc.analyzer()) if isinstance(purpose, str) \
        else None
    if plan:
        check_plan(svc, dataset, plan, receiver=who.department)
    with svc.recording() as rec:
        decision, grants = flowback.decide(
            rec.conn, facts=facts, steward=who.username, purpose=purpose,
            legal_basis=legal_basis, columns=wanted, masking=plan,
            default_masking=default_masking(dataset), region_column=column,
            review_in_days=review_in_days, districts=_districts(rec.conn, dataset.department),
            now=svc.clock(), logged_purpose=logged)
        _record(svc, rec, who, decision, grants,
                change="decided" if decision.status == "active" else "first_approval")
    return {"flowback": decision.to_dict(), "grants": [g.to_dict(now=svc.clock())
                                                        for g in grants]}


def confirm(svc: Services, who: Principal, flowback_id: str) -> dict[str, Any]:
    """A second steward confirms an L4 decision: the districts' grants are issued. Raises
    Forbidden, RequestNotFound, AlreadyDecided."""
    with svc.reader.connect() as conn:
        pending = flowback.get(conn, flowback_id)
    _own(svc, who, pending.dataset_id)
    with svc.recording() as rec:
        decision, grants = flowback.confirm(rec.conn, flowback_id, steward=who.username,
                                            districts=_districts(rec.conn, pending.provider),
                                            now=svc.clock())
        _record(svc, rec, who, decision, grants, change="confirmed")
    return {"flowback": decision.to_dict(), "grants": [g.to_dict(now=svc.clock())
                                                        for g in grants]}


def end(svc: Services, who: Principal, flowback_id: str, *, reason: Any) -> dict[str, Any]:
    """End a decision: every grant derived from it ends (each a revoke entry). Raises
    Forbidden, RequestNotFound, InvalidRequest, AlreadyDecided."""
    with svc.reader.connect() as conn:
        current = flowback.get(conn, flowback_id)
    _own(svc, who, current.dataset_id)
    with svc.recording() as rec:
        decision, ended = flowback.end(rec.conn, flowback_id, by=who.username, reason=reason,
                                       now=svc.clock())
        rec.append(events.FlowBack(
            actor=who.username, actor_department=who.department, provider=decision.provider,
            dataset_id=decision.dataset_id, dataset_version=decision.dataset_version,
            flowback_id=decision.id, change="ended", outcome="ended"))
        for grant in ended:
            svc.enforcer.revoke_grant(grant.id, conn=rec.conn)
            rec.append(events.Revoke(
                actor=who.username, actor_department=who.department, provider=grant.provider,
                receiver=grant.receiver, grant_id=grant.id, dataset_id=grant.dataset_id))
    return {"flowback": decision.to_dict(), "grants_ended": [g.id for g in ended]}


def list_flowbacks(svc: Services, who: Principal) -> dict[str, Any]:
    """The 回流 decisions of the steward's department, newest first. Raises Forbidden."""
    svc.require(who, "request", "decide")
    with svc.reader.connect() as conn:
        found = flowback.list_flowbacks(conn, provider=who.department)
    return {"flowbacks": [f.to_dict() for f in found]}


def decisions_over(svc: Services, conn: Any, district: Any) -> list[Any]:
    """The active 回流 decisions of the departments whose region holds a district
    department's (none for a department that is not a district or has no region)."""
    if district.level != "district" or not district.region:
        return []
    providers = [d.code for d in departments.list_all(conn)
                 if d.code != district.code and d.region
                 and departments.contains(d.region, district.region)
                 and d.region != district.region]
    return flowback.active_over(conn, providers, now=svc.clock())


def derive_for_district(svc: Services, rec: Any, district: Any, *, actor: str) -> list[str]:
    """A district department receives (in ``rec``'s transaction) its grant from every active
    decision over it that has not given it one yet; returns the new grant ids."""
    made = []
    for decision in decisions_over(svc, rec.conn, district):
        if flowback.granted_to(rec.conn, decision.id, district.code):
            continue
        grant = flowback.derive(rec.conn, decision, district.code, district.region,
                                now=svc.clock())
        rec.append(_granted(grant, actor=actor, department=None))
        _allow(svc, rec.conn, grant)
        made.append(grant.id)
    return made


def _record(svc: Services, rec: Any, who: Principal, decision: Any, grants: list[Any], *,
            change: str) -> None:
    rec.append(events.FlowBack(
        actor=who.username, actor_department=who.department, provider=decision.provider,
        dataset_id=decision.dataset_id, dataset_version=decision.dataset_version,
        flowback_id=decision.id, change=change, purpose=decision.logged_purpose,
        legal_basis=decision.legal_basis, columns=decision.masking,
        region_column=decision.region_column, review_at=decision.review_at.isoformat(),
        districts=[g.receiver for g in grants]))
    for grant in grants:
        rec.append(_granted(grant, actor=who.username, department=who.department))
        _allow(svc, rec.conn, grant)
