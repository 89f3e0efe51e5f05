"""Which database objects the models describe (for autogenerate and the schema test)."""

from __future__ import annotations

from typing import Any

__all__ = ["include_name"]


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """All but what the catalog's search index adds beside its table (migration 0008): on
    SQLite the FTS5 virtual table and its shadow tables, on PostgreSQL the GIN index."""
    if type_ == "table":
        return not (name or "").startswith("catalog_search_fts")
    return not (type_ == "index" and name == "ix_catalog_search_document")
