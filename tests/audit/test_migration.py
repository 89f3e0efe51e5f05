"""Migration 0002: the level-0 rows of ``audit_nodes`` (copies of the entries' leaf hashes) are
removed on upgrade and written back on downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select

from audit import AuditLog
from audit.log import entries_table, nodes_table
from audit.merkle import inclusion_proof
from exchange.db import MIGRATIONS, make_engine


def _migrate(engine: Engine, how: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, how)(config, revision)


def test_0002_drops_the_leaf_copies_and_the_downgrade_restores_them(tmp_path: Path,
                                                                    log: AuditLog,
                                                                    make_event) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/govex.db")
    _migrate(engine, "upgrade", "0001")
    with engine.begin() as conn:
        for n in range(11):
            log.append(conn, make_event(n))
        leaves = [bytes(h) for h in conn.execute(select(entries_table.c.leaf_hash)
                                                 .order_by(entries_table.c.idx)).scalars()]
        # the rows the log wrote before 0002
        conn.execute(nodes_table.insert(), [{"level": 0, "position": i, "hash": h}
                                            for i, h in enumerate(leaves)])

    def level_0() -> list[tuple[int, bytes]]:
        with engine.connect() as conn:
            return [(int(p), bytes(h)) for p, h in conn.execute(
                select(nodes_table.c.position, nodes_table.c.hash)
                .where(nodes_table.c.level == 0).order_by(nodes_table.c.position))]

    _migrate(engine, "upgrade", "head")
    assert level_0() == []
    with engine.connect() as conn:
        assert log.inclusion_proof(conn, 9, 11) == inclusion_proof(9, 11, leaves)
    _migrate(engine, "downgrade", "0001")
    assert level_0() == list(enumerate(leaves))
    engine.dispose()
