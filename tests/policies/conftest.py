from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy_adapter import Base as CasbinBase

from policies import Enforcer, metadata

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def engine(tmp_path, database_url):
    engine = sa.create_engine(database_url(tmp_path))
    metadata.create_all(engine)
    CasbinBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def enforcer(engine):
    enforcer = Enforcer(engine)
    for dept in ("hotline", "civil", "police", "audit"):
        enforcer.add_department(dept)
    enforcer.assign_role("hl-steward", "steward", "hotline")
    enforcer.assign_role("hl-requester", "requester", "hotline")
    enforcer.assign_role("cv-requester", "requester", "civil")
    enforcer.assign_role("cv-steward", "steward", "civil")
    enforcer.assign_role("auditor", "auditor", "audit")
    return enforcer
