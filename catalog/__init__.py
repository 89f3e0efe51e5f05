"""The catalog: datasets and their versions, payload files, table formats and quality checks.

Framework-free: no Flask, no import of ``exchange``; the caller owns engines and transactions.
Usage::

    from catalog import EncryptedFileStore, formats, quality, repository, metadata
    metadata.create_all(engine)
    fmt = formats.detect_format("低保名单.csv", data)          # raises InvalidUpload
    frame = formats.read_table(data, fmt=fmt, max_rows=1_000_000)   # every column text
    report = quality.validate_table(frame, columns=list(frame.columns), not_null=["姓名"],
                                    patterns={"身份证号": r"^\\d{17}[\\dXx]$"})
    store = EncryptedFileStore(home / "payloads", key=key32)
    digest = store.put(data)                                    # SHA-256 of the plaintext
    with engine.begin() as conn:
        dataset_id = repository.add_dataset(
            conn, department="civil", title="低保对象名单", description="", sharing="conditional",
            level="L3", legal_basis=None, keywords="低保 救助", created_by="bob", now=now)
        repository.add_version(
            conn, dataset_id, sha256=digest, format=fmt, filename="低保名单.csv",
            row_count=len(frame), byte_size=len(data),
            columns=[{"name": c, "dtype": "string", "profile": None} for c in frame.columns],
            quality=report.to_dict(), quality_passed=report.success, created_by="bob", now=now)
    store.get(digest)                                # raises PayloadMissing, PayloadCorrupt

A table larger than memory is read in chunks and its quality counted over every row::

    with open(path, "rb") as fh:
        fmt = detect_format(path.name, signature_of(fh))     # the head and tail only
    counts = ColumnCounts(not_null=["姓名"], patterns={"身份证号": r"^[0-9]{17}[0-9Xx]$"})
    with open_table_source(path.open, fmt=fmt, max_rows=50_000_000) as reader:
        for chunk in reader:                                 # pyarrow tables of text
            counts.add(chunk)
    report = validate_table(first_rows, columns=reader.columns, not_null=["姓名"],
                            patterns={"身份证号": r"^[0-9]{17}[0-9Xx]$"}, counts=counts)
    with store.create() as out:                              # written block by block
        ...

An external table (a folder of Parquet files on a shared file system, masked by Spark) is
pinned by a manifest of its files instead (``manifest_of``, ``check_manifest``: see
:mod:`catalog.external`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported on first use (PEP 562): reading and writing tables (catalog.streaming, what
# ``govex mask`` needs) loads neither SQLAlchemy nor the quality checks.
_HOMES = {
    ".formats": ("FORMATS", "MAX_FIELD_CHARS", "XLSX_MAX_ROWS", "detect_format", "frame_of",
                 "media_type",
                 "read_table", "write_table"),
    ".models": ("LEVELS", "SHARING_TYPES", "Dataset", "DatasetVersion", "metadata"),
    ".quality": ("ColumnCounts", "QualityReport", "validate_table"),
    ".store": ("EncryptedFileStore", "MemoryPayloadStore", "PayloadStore", "digest_of"),
    ".streaming": ("DEFAULT_CHUNK_ROWS", "TableReader", "TableWriter", "as_text_chunk",
                   "format_of", "open_table", "open_table_source", "open_writer",
                   "open_sink_writer", "signature_of", "select_rows", "scoped_text_chunk"),
    ".external": ("ManifestEntry", "TableManifest", "check_manifest", "first_rows",
                  "manifest_of", "row_count", "table_files"),
    ".errors": ("CatalogError", "ColumnNotFound", "DatasetNotFound", "DatasetWithdrawn",
                "InvalidUpload", "ResourceCodeTaken",
                "PayloadCorrupt", "PayloadMissing", "QualityCheckFailed", "TableChanged",
                "UnsupportedFormat", "UploadTooLarge"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
_SUBMODULES = frozenset({"formats", "quality", "repository", "dictionary"})

if TYPE_CHECKING:
    from . import dictionary, formats, quality, repository
    from .errors import (
        CatalogError,
        ColumnNotFound,
        DatasetNotFound,
        DatasetWithdrawn,
        InvalidUpload,
        PayloadCorrupt,
        PayloadMissing,
        QualityCheckFailed,
        ResourceCodeTaken,
        TableChanged,
        UnsupportedFormat,
        UploadTooLarge,
    )
    from .external import (
        ManifestEntry,
        TableManifest,
        check_manifest,
        first_rows,
        manifest_of,
        row_count,
        table_files,
    )
    from .formats import (
        FORMATS,
        MAX_FIELD_CHARS,
        XLSX_MAX_ROWS,
        detect_format,
        frame_of,
        media_type,
        read_table,
        write_table,
    )
    from .models import LEVELS, SHARING_TYPES, Dataset, DatasetVersion, metadata
    from .quality import ColumnCounts, QualityReport, validate_table
    from .store import EncryptedFileStore, MemoryPayloadStore, PayloadStore, digest_of
    from .streaming import (
        DEFAULT_CHUNK_ROWS,
        TableReader,
        TableWriter,
        as_text_chunk,
        format_of,
        open_sink_writer,
        open_table,
        open_table_source,
        open_writer,
        scoped_text_chunk,
        select_rows,
        signature_of,
    )


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module 'catalog' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "formats", "quality", "repository", "metadata", "Dataset", "DatasetVersion",
    "SHARING_TYPES", "LEVELS", "FORMATS", "MAX_FIELD_CHARS", "XLSX_MAX_ROWS", "detect_format",
    "read_table", "write_table", "frame_of", "media_type", "ColumnCounts", "QualityReport",
    "validate_table", "PayloadStore", "EncryptedFileStore",
    "MemoryPayloadStore", "digest_of", "CatalogError", "DatasetNotFound", "ColumnNotFound",
    "DatasetWithdrawn", "ResourceCodeTaken", "dictionary",
    "InvalidUpload", "UploadTooLarge", "UnsupportedFormat", "QualityCheckFailed",
    "PayloadMissing", "PayloadCorrupt", "DEFAULT_CHUNK_ROWS", "TableReader", "TableWriter",
    "as_text_chunk", "format_of", "open_table", "open_table_source", "open_writer",
    "open_sink_writer", "signature_of", "select_rows", "scoped_text_chunk", "TableChanged",
    "ManifestEntry", "TableManifest",
    "manifest_of", "check_manifest", "table_files", "first_rows", "row_count",
]
