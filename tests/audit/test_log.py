"""The stored log on a SQLite file: appends, filters, checkpoints, and proofs read from the
stored subtrees equal to the reference proofs for every size up to 40."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, func, select, update

from audit import AuditLog, NoteSigner, open_checkpoint
from audit.errors import (
    AuditError,
    EntryNotFound,
    InvalidEvent,
    InvalidRange,
    LogInconsistent,
)
from audit.log import checkpoints_table, entries_table, head_table, nodes_table
from audit.merkle import consistency_proof, inclusion_proof, leaf_hash, root_hash

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)
MakeEvent = Callable[..., dict[str, Any]]


def _fill(engine: Engine, log: AuditLog, make_event: MakeEvent, n: int) -> list[bytes]:
    """Append ``n`` events; return their leaf hashes computed independently."""
    events = [make_event(i) for i in range(n)]
    with engine.begin() as conn:
        for event in events:
            log.append(conn, event)
    return [leaf_hash(rfc8785.dumps(e)) for e in events]


def test_append_returns_index_leaf_hash_and_size(engine: Engine, log: AuditLog,
                                                 make_event: MakeEvent) -> None:
    with engine.begin() as conn:
        first = log.append(conn, make_event(0))
        second = log.append(conn, make_event(1))
    assert (first.index, first.size, second.index, second.size) == (0, 1, 1, 2)
    assert second.leaf_hash == leaf_hash(rfc8785.dumps(make_event(1))).hex()
    with engine.connect() as conn:
        assert log.size(conn) == 2
        assert log.entry(conn, 1) == make_event(1)


def test_stored_entry_is_the_canonical_json(engine: Engine, log: AuditLog) -> None:
    event = {"type": "publish", "time": "2026-11-28T03:40:00Z", "purpose": "核查", "b": 1.0}
    with engine.begin() as conn:
        log.append(conn, event)
        stored = conn.execute(select(entries_table.c.entry)).scalar()
    assert stored.encode() == rfc8785.dumps(event)
    assert stored == '{"b":1,"purpose":"核查","time":"2026-11-28T03:40:00Z","type":"publish"}'


def test_a_rolled_back_append_leaves_no_trace(engine: Engine, log: AuditLog,
                                               make_event: MakeEvent) -> None:
    _fill(engine, log, make_event, 3)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        log.append(conn, make_event(3))
        raise RuntimeError("the delivery failed")
    with engine.begin() as conn:
        assert log.size(conn) == 3
        assert open_checkpoint(log.checkpoint(conn, now=NOW), log.signer.verifier).size == 3


GOOD = {"type": "publish", "time": "2026-11-28T03:40:00Z"}


@pytest.mark.parametrize(("event", "pattern"), [
    (["publish"], "JSON object"),
    ("publish", "JSON object"),
    ({"time": GOOD["time"]}, "'type'"),
    ({**GOOD, "type": ""}, "'type'"),
    ({**GOOD, "type": 3}, "'type'"),
    ({**GOOD, "type": "x" * 65}, "'type'"),
    ({"type": "publish"}, "RFC 3339"),
    ({**GOOD, "time": 1764301200}, "RFC 3339"),
    ({**GOOD, "time": "yesterday"}, "not RFC 3339"),
    ({**GOOD, "time": "2026-11-28T03:40:00"}, "no time zone"),
    ({**GOOD, "row_count": float("nan")}, "canonical"),
    ({**GOOD, "row_count": 2**60}, "canonical"),
    ({**GOOD, "raw": b"bytes"}, "canonical"),
    ({**GOOD, 7: "non-string key"}, "canonical"),
    ({**GOOD, "actor": ["a", "b"]}, "'actor'"),
    ({**GOOD, "provider": True}, "'provider'"),
    ({**GOOD, "dataset_id": "x" * 256}, "'dataset_id'"),
], ids=["list", "string", "no type", "empty type", "numeric type", "long type", "no time",
        "epoch time", "words for time", "naive time", "NaN", "huge integer", "bytes",
        "integer key", "list actor", "boolean provider", "long dataset id"])
def test_events_that_cannot_be_logged_are_refused(engine: Engine, log: AuditLog, event: Any,
                                                  pattern: str) -> None:
    with engine.begin() as conn:
        with pytest.raises(InvalidEvent, match=pattern) as caught:
            log.append(conn, event)
        assert log.size(conn) == 0
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, AuditError)


# -- proofs from stored subtrees ----------------------------------------------------------


def test_proofs_equal_the_reference_for_every_size_up_to_40(engine: Engine, log: AuditLog,
                                                            make_event: MakeEvent) -> None:
    hashes = _fill(engine, log, make_event, 40)
    with engine.connect() as conn:
        for size in range(1, 41):
            for index in range(size):
                assert log.inclusion_proof(conn, index, size) == \
                    inclusion_proof(index, size, hashes), (index, size)
            for old in range(1, size + 1):
                assert log.consistency_proof(conn, old, size) == \
                    consistency_proof(old, size, hashes), (old, size)


def test_root_grows_as_the_reference(engine: Engine, log: AuditLog,
                                     make_event: MakeEvent) -> None:
    hashes = []
    for n in range(17):
        with engine.begin() as conn:
            assert log.root_hash(conn) == root_hash(hashes)
            hashes += [leaf_hash(rfc8785.dumps(make_event(n)))]
            log.append(conn, make_event(n))


def test_proofs_read_only_a_logarithmic_number_of_nodes(engine: Engine, log: AuditLog,
                                                        make_event: MakeEvent) -> None:
    _fill(engine, log, make_event, 100)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(nodes_table)).scalar()
        # every complete interior subtree, once; the leaves are the entries' leaf_hash
        assert stored == 50 + 25 + 12 + 6 + 3 + 1
        assert not conn.execute(select(nodes_table).where(nodes_table.c.level == 0)).first()
        assert len(log.inclusion_proof(conn, 37, 100)) == 7


@pytest.mark.parametrize(("call", "pattern"), [
    (lambda log, c: log.inclusion_proof(c, 5, 5), "no entry 5"),
    (lambda log, c: log.inclusion_proof(c, -1, 5), "no entry -1"),
    (lambda log, c: log.inclusion_proof(c, 0, 6), "no tree of size 6"),
    (lambda log, c: log.inclusion_proof(c, 0, 0), "no tree of size 0"),
    (lambda log, c: log.consistency_proof(c, 0, 5), "from 0 to 5"),
    (lambda log, c: log.consistency_proof(c, 4, 3), "from 4 to 3"),
    (lambda log, c: log.consistency_proof(c, 2, 6), "no tree of size 6"),
], ids=["index = size", "negative index", "size beyond log", "size 0", "from empty",
        "old beyond new", "new beyond log"])
def test_proof_arguments_out_of_range(engine: Engine, log: AuditLog, make_event: MakeEvent,
                                      call: Callable[..., Any], pattern: str) -> None:
    _fill(engine, log, make_event, 5)
    with engine.connect() as conn, pytest.raises(InvalidRange, match=pattern):
        call(log, conn)


def test_a_missing_stored_subtree_is_reported(engine: Engine, log: AuditLog,
                                              make_event: MakeEvent) -> None:
    _fill(engine, log, make_event, 8)
    with engine.begin() as conn:
        conn.execute(delete(nodes_table).where(nodes_table.c.level == 2))
        with pytest.raises(LogInconsistent, match="lacks the subtrees"):
            log.inclusion_proof(conn, 0, 8)


def test_a_missing_entry_is_a_missing_leaf_of_the_proofs(engine: Engine, log: AuditLog,
                                                         make_event: MakeEvent) -> None:
    _fill(engine, log, make_event, 8)
    with engine.begin() as conn:
        conn.execute(delete(entries_table).where(entries_table.c.idx == 5))
        with pytest.raises(LogInconsistent, match=r"lacks the subtrees \[\(0, 5\)\]"):
            log.inclusion_proof(conn, 4, 7)


def test_stored_level_0_rows_of_an_older_log_change_nothing(engine: Engine, log: AuditLog,
                                                            make_event: MakeEvent) -> None:
    hashes = _fill(engine, log, make_event, 13)
    with engine.begin() as conn:  # what the log stored before migration 0002
        conn.execute(nodes_table.insert(), [{"level": 0, "position": i, "hash": h}
                                            for i, h in enumerate(hashes)])
        assert log.inclusion_proof(conn, 6, 13) == inclusion_proof(6, 13, hashes)
        log.append(conn, make_event(13))


# -- the append on the driver's cursor and through SQLAlchemy Core -----------------------


def _rows(engine: Engine) -> list[list[Any]]:
    with engine.connect() as conn:
        return [[tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))]
                for table in (entries_table, nodes_table, head_table)]


def test_the_cursor_and_core_paths_write_the_same_rows(tmp_path: Any, log: AuditLog,
                                                       make_event: MakeEvent,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine

    import audit.log
    from audit import metadata

    engines = [create_engine(f"sqlite:///{tmp_path}/{name}.db") for name in ("fast", "core")]
    for engine in engines:
        metadata.create_all(engine)
    for n in range(21):
        event = make_event(n, time=f"2026-11-{1 + n % 28:02d}T0{n % 10}:00:00.25+08:00")
        for engine, driver in zip(engines, (audit.log._driver_cursor, lambda conn: None)):
            monkeypatch.setattr(audit.log, "_driver_cursor", driver)
            with engine.begin() as conn:
                log.append(conn, event)
    assert _rows(engines[0]) == _rows(engines[1])
    with engines[0].connect() as conn:  # the times written on the cursor filter as before
        # entry n is at 0n:00 +08:00 on day 1 + n: entries 5 and 6 fall on 5 and 6 November UTC
        assert [i for i, _ in log.entries(conn, since="2026-11-05T00:00:00Z",
                                          until="2026-11-07T00:00:00Z")] == [5, 6]
        assert log.inclusion_proof(conn, 7, 21) == inclusion_proof(
            7, 21, [bytes(h) for h in conn.execute(select(entries_table.c.leaf_hash)
                                                   .order_by(entries_table.c.idx)).scalars()])
    for engine in engines:
        engine.dispose()


def test_an_append_outside_a_transaction_goes_through_core(engine: Engine, log: AuditLog,
                                                           make_event: MakeEvent) -> None:
    with engine.connect() as conn:  # not begun: Core autobegins, then the cursor is used
        assert log.append(conn, make_event(0)).index == 0
        assert log.append(conn, make_event(1)).index == 1
        conn.commit()
    with engine.connect() as conn:
        assert log.size(conn) == 2


def test_a_database_error_on_the_cursor_is_sqlalchemys_and_hides_the_values(
        engine: Engine, log: AuditLog, make_event: MakeEvent, refusing_inserts) -> None:
    from sqlalchemy.exc import IntegrityError

    _fill(engine, log, make_event, 3)
    with refusing_inserts(engine, "audit_entries", "refused"), \
            pytest.raises(IntegrityError, match="refused") as raised, engine.begin() as conn:
        log.append(conn, make_event(3, purpose="a secret purpose"))
    assert "secret" not in str(raised.value)
    with engine.connect() as conn:
        assert log.size(conn) == 3


# -- checkpoints --------------------------------------------------------------------------


def test_checkpoints_follow_the_head(engine: Engine, log: AuditLog,
                                     make_event: MakeEvent) -> None:
    with engine.begin() as conn:
        assert log.latest_checkpoint(conn) is None
        empty = open_checkpoint(log.checkpoint(conn, now=NOW), log.signer.verifier)
    assert (empty.size, empty.root_hash) == (0, root_hash([]))
    hashes = _fill(engine, log, make_event, 5)
    with engine.begin() as conn:
        note = log.checkpoint(conn, now=NOW)
        assert log.checkpoint(conn, now=NOW) == note == log.latest_checkpoint(conn)
        count = conn.execute(select(func.count()).select_from(checkpoints_table)).scalar()
    signed = open_checkpoint(note, log.signer.verifier, origin=log.origin)
    assert (signed.size, signed.root_hash, count) == (5, root_hash(hashes), 2)


def test_a_new_key_re_signs_the_latest_checkpoint(engine: Engine, log: AuditLog,
                                                  make_event: MakeEvent) -> None:
    _fill(engine, log, make_event, 3)
    with engine.begin() as conn:
        old_note = log.checkpoint(conn, now=NOW)
    rotated = AuditLog(origin=log.origin,
                       signer=NoteSigner(log.origin, Ed25519PrivateKey.generate()))
    with engine.begin() as conn:
        new_note = rotated.checkpoint(conn, now=NOW)
    assert new_note != old_note
    assert open_checkpoint(new_note, rotated.signer.verifier).size == 3


@pytest.mark.parametrize(("tamper", "pattern"), [
    (update(head_table).values(size=2, compact_range='["' + "00" * 32 + '"]',
                               root_hash=b"\x00" * 32), "covers 4 entries but the log has 2"),
    (update(head_table).values(size=4, compact_range='["' + "00" * 32 + '"]',
                               root_hash=b"\x00" * 32), "rolled back or rewritten"),
    (update(head_table).values(root_hash=b"\x00" * 32), "root does not match"),
    (update(head_table).values(compact_range="not json"), "head of the log is corrupt"),
], ids=["head rolled back", "head rewritten", "head root altered", "head unreadable"])
def test_checkpoint_refuses_a_head_that_disagrees(engine: Engine, log: AuditLog,
                                                  make_event: MakeEvent, tamper: Any,
                                                  pattern: str) -> None:
    _fill(engine, log, make_event, 4)
    with engine.begin() as conn:
        log.checkpoint(conn, now=NOW)
        conn.execute(tamper)
        with pytest.raises(LogInconsistent, match=pattern):
            log.checkpoint(conn, now=NOW)


# -- reading with filters -----------------------------------------------------------------


FILTERS: list[tuple[dict[str, Any], list[int]]] = [
    ({}, list(range(12))),
    ({"type": "exchange"}, [3, 7, 11]),
    ({"department": "civil"}, [0, 1, 3, 4, 6, 7, 9, 10]),
    ({"dataset_id": "ds-2"}, [2, 7]),
    ({"actor": "user0"}, [0, 3, 6, 9]),
    ({"since": "2026-11-28T00:05:00Z"}, [5, 6, 7, 8, 9, 10, 11]),
    ({"until": datetime(2026, 11, 28, 0, 2, tzinfo=timezone.utc)}, [0, 1]),
    ({"since": "2026-11-28T08:04:00+08:00", "until": "2026-11-28T00:06:00Z"}, [4, 5]),
    ({"type": "request", "department": "police"}, [1, 5]),
    ({"offset": 2, "limit": 3}, [2, 3, 4]),
    ({"type": "approve", "offset": 1}, [6, 10]),
    ({"type": "revoke"}, []),
    # a sequence of values: any of them matches; an empty one matches nothing
    ({"department": ["hotline"]}, [0, 2, 3, 5, 6, 8, 9, 11]),
    ({"actor": ["user0", "user2"]}, [0, 2, 3, 5, 6, 8, 9, 11]),
    ({"dataset_id": ("ds-2", "ds-3")}, [2, 3, 7, 8]),
    ({"department": []}, []),
    ({"actor": [], "type": "publish"}, []),
    ({"dataset_id": ["ds-9"]}, []),
    # stretches of the log by index, either way
    ({"after": 3, "before": 7}, [4, 5, 6]),
    ({"after": 8, "newest_first": True}, [11, 10, 9]),
    ({"before": 4, "newest_first": True, "type": "publish"}, [0]),
]


@pytest.mark.parametrize(("filters", "expected"), FILTERS,
                         ids=[",".join(f) or "none" for f, _ in FILTERS])
def test_entries_filters(engine: Engine, log: AuditLog, make_event: MakeEvent,
                         filters: dict[str, Any], expected: list[int]) -> None:
    _fill(engine, log, make_event, 12)
    with engine.connect() as conn:
        found = log.entries(conn, **filters)
    assert [index for index, _ in found] == expected
    assert all(entry == make_event(index) for index, entry in found)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"department": ["civil", "police"], "type": "request"}, 3),
    ({"actor": ("user1",), "before": 7}, 2),
    ({"dataset_id": [], "before": 12}, 0),
    ({"department": "", "actor": None}, 12),
], ids=["departments", "actors below", "no dataset", "unset"])
def test_count_takes_the_same_filters(engine: Engine, log: AuditLog, make_event: MakeEvent,
                                      filters: dict[str, Any], expected: int) -> None:
    _fill(engine, log, make_event, 12)
    with engine.connect() as conn:
        assert log.count(conn, **filters) == expected


@pytest.mark.parametrize("filters", [
    {"offset": -1}, {"limit": 0}, {"since": "last tuesday"}, {"until": "2026-13-01"},
], ids=["negative offset", "zero limit", "words", "month 13"])
def test_bad_filters_are_refused(engine: Engine, log: AuditLog, filters: dict[str, Any]) -> None:
    with engine.connect() as conn, pytest.raises(InvalidRange):
        log.entries(conn, **filters)


def test_a_missing_entry_is_not_found(engine: Engine, log: AuditLog) -> None:
    with engine.connect() as conn, pytest.raises(EntryNotFound, match="no audit entry 3"):
        log.entry(conn, 3)


def test_a_log_opened_for_reading_reads_but_cannot_sign(engine: Engine, log: AuditLog,
                                                        make_event: MakeEvent) -> None:
    _fill(engine, log, make_event, 3)
    reader = AuditLog(origin=log.origin)
    with engine.connect() as conn:
        assert [i for i, _ in reader.entries(conn)] == [0, 1, 2]
        assert reader.inclusion_proof(conn, 1, 3) == log.inclusion_proof(conn, 1, 3)
    with engine.begin() as conn, pytest.raises(AuditError, match="opened for reading"):
        reader.checkpoint(conn, now=NOW)
