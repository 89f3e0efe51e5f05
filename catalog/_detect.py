"""Which format a file is (private: use :func:`catalog.formats.detect_format`).

Its own module so that the readers (:mod:`catalog.streaming`) and the whole-table functions
(:mod:`catalog.formats`) can both ask it without importing each other.
"""

from __future__ import annotations

from .errors import InvalidUpload, UnsupportedFormat

__all__ = ["FORMATS", "detect_format", "format_of_name"]

FORMATS = ("csv", "xlsx", "parquet", "jsonl")

_EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "parquet": "parquet", "pq": "parquet",
               "jsonl": "jsonl", "ndjson": "jsonl"}
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"


def detect_format(filename: str, data: bytes) -> str:
    """The format of an upload, from its extension, confirmed by its first bytes.

    Raises UnsupportedFormat (unknown or legacy extension), InvalidUpload (empty file, or the
    content is not what the extension says: an XLSX that is no ZIP, a CSV that is a workbook).
    """
    fmt = format_of_name(filename)
    if not data:
        raise InvalidUpload("the file is empty", code="file_empty", field="file")
    problem = _content_problem(fmt, data)
    if problem:
        raise InvalidUpload(f"{filename!r} is named .{_extension(filename)} but {problem}")
    return fmt


def format_of_name(filename: str) -> str:
    """The format a file name says (``.csv`` -> "csv"). Raises UnsupportedFormat."""
    ext = _extension(filename)
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if ext in ("xls", "et"):
        raise UnsupportedFormat("old binary workbooks (.xls, .et) are not supported; "
                                "save the sheet as .xlsx or .csv")
    raise UnsupportedFormat(f"unsupported file type {'.' + ext if ext else '(no extension)'}; "
                            "use .csv, .xlsx, .parquet or .jsonl")


def _content_problem(fmt: str, data: bytes) -> str | None:
    zipped, parquet = data.startswith(_ZIP_MAGIC), data.startswith(_PARQUET_MAGIC)
    if fmt == "xlsx" and not zipped:
        return "it is not an XLSX workbook (no ZIP signature)"
    if fmt == "parquet" and not (parquet and data.endswith(_PARQUET_MAGIC)):
        return "it is not a complete Parquet file (no PAR1 signature at both ends)"
    if fmt in ("csv", "jsonl") and (zipped or parquet):
        return "it is a binary " + ("ZIP/XLSX" if zipped else "Parquet") + " file, not text"
    return None


def _extension(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""
