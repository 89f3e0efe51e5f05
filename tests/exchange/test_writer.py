"""The batching writer of the audit log (issue 18, DESIGN "writing to the audit log at rate"):
many callers' entries commit in few transactions, each caller answered only once its entry is
durable and covered by a signed checkpoint; a job that fails leaves nothing and takes nothing
of the others with it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from audit import NoteVerifier
from exchange import events
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.models import calendar_days
from exchange.usecases import auditing

from .conftest import new_instance

ADMIN = Principal("civil-steward", "", "civil", "steward")


@pytest.fixture
def svc(tmp_path, settings_for):
    made, _tokens = new_instance(load_settings(settings_for(tmp_path), environ={}), ADMIN)
    return made


def _event(n: int) -> events.Event:
    return events.CalendarChange(actor=f"writer-test-{n}", day=f"2027-01-{n % 28 + 1:02d}",
                                 working=bool(n % 2))


def test_concurrent_callers_share_transactions_and_each_gets_a_durable_covered_entry(svc):
    answers: dict[int, tuple[int, object]] = {}
    start = threading.Barrier(64)

    def call(n: int) -> None:
        start.wait()
        index, rec = svc.submit(lambda rec: rec.append(_event(n)))
        answers[n] = (index, rec)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    indices = sorted(index for index, _ in answers.values())
    assert len(set(indices)) == 64
    assert svc._writer.jobs == 64 and svc._writer.batches < 64  # batched
    with svc.reader.connect() as conn:
        for n, (index, rec) in answers.items():
            assert svc.log_reader.entry(conn, index)["actor"] == f"writer-test-{n}"
            assert rec.checkpoint.size > index  # the checkpoint it was given covers it
        bundle = svc.audit_log().evidence(conn)
    verifier = NoteVerifier.from_vkey(auditing.verifier_key(svc)["vkey"])
    for _, rec in answers.values():
        verifier.verify(rec.checkpoint.note)
    assert auditing.verify_bundle(bundle).problem is None


def test_a_failing_job_leaves_nothing_and_the_others_commit(svc):
    barrier = threading.Barrier(3)
    outcome: dict[str, object] = {}

    def good(name: str) -> None:
        barrier.wait()
        outcome[name] = svc.submit(lambda rec: rec.append(_event(1)))[0]

    def bad(rec):
        rec.conn.execute(calendar_days.insert().values(
            day=sa.func.current_date(), working=True, added_by="x", added_at=sa.func.now()))
        rec.append(_event(2))
        raise ValueError("refused halfway")

    def failing() -> None:
        barrier.wait()
        try:
            svc.submit(bad)
        except ValueError as exc:
            outcome["bad"] = exc

    threads = [threading.Thread(target=good, args=("a",)), threading.Thread(target=failing),
               threading.Thread(target=good, args=("b",))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert str(outcome["bad"]) == "refused halfway"
    with svc.reader.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(calendar_days)).scalar() == 0
        actors = [e["actor"] for _, e in svc.log_reader.entries(conn, type="calendar_change",
                                                                  limit=10)]
    assert actors == ["writer-test-1", "writer-test-1"]
    assert outcome["a"] != outcome["b"]
    with svc.reader.connect() as conn:
        assert auditing.verify_bundle(svc.audit_log().evidence(conn)).problem is None


def test_a_batch_that_cannot_commit_answers_every_caller_and_writes_nothing(svc, monkeypatch):
    with svc.reader.connect() as conn:
        before = svc.log_reader.size(conn)

    def broken(_conn, _recs):
        raise RuntimeError("the database went away")

    svc.submit(lambda rec: None)  # the writer exists
    monkeypatch.setattr(svc._writer, "_sign", broken)
    with pytest.raises(RuntimeError, match="went away"):
        svc.submit(lambda rec: rec.append(_event(3)))
    with svc.reader.connect() as conn:
        assert svc.log_reader.size(conn) == before
    monkeypatch.undo()
    index, _ = svc.submit(lambda rec: rec.append(_event(4)))
    assert index == before
