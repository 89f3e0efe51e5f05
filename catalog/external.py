"""External tables: a folder of Parquet files that stays where it is, pinned by a manifest.

An external table is too large to copy into the payload store; it stays on a shared file system
(mounted here) and Spark reads it there. A version of it is a :class:`TableManifest`: every file
Spark reads from the folder, by path relative to the folder, size and SHA-256. A delivery names a
version and is refused when the folder no longer matches it: :func:`check_manifest` raises
:class:`~catalog.errors.TableChanged` naming the files added, removed or altered (names only,
never a value)::

    manifest = manifest_of(Path("/shared/civil/residents"))     # every file hashed, streamed
    version = {"manifest": manifest.to_dict(), "digest": manifest.digest}
    ...
    check_manifest(Path("/shared/civil/residents"), TableManifest.from_dict(version["manifest"]))
    paths = manifest.paths(Path("/shared/civil/residents"))     # read these files, no others

Which files: those Spark's Parquet reader reads from a folder, i.e. every file whose name starts
with neither ``_`` nor ``.`` (``_SUCCESS``, ``_metadata``, ``.part-0.parquet.crc`` are left out).
Each must be a Parquet file (``PAR1`` at both ends: Spark reads any name, a stray ``notes.txt``
would fail the job), all with the same columns (Spark would read a missing one as empty). A
sub-folder is refused: a partitioned table's columns live in its folder names (``year=2026``),
which the single-machine reader does not see.

``digest`` is the SHA-256 of the manifest's lines ``<sha256> <size> <path>`` sorted by path,
joined by newlines: one value that names the version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from .errors import InvalidUpload, TableChanged

__all__ = ["ManifestEntry", "TableManifest", "check_manifest", "manifest_of", "table_files",
           "first_rows", "row_count"]

_MAGIC = b"PAR1"
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
#: How many names a refusal lists per kind of change before "and N more".
_NAMES_SHOWN = 5


@dataclass(frozen=True)
class ManifestEntry:
    """One file of an external table: its path relative to the folder (``/``-separated),
    its size in bytes and the hex SHA-256 of its bytes."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class TableManifest:
    """The files of one version of an external table, sorted by path."""

    files: tuple[ManifestEntry, ...]

    @property
    def digest(self) -> str:
        """The hex SHA-256 naming this version (see the module docstring)."""
        lines = "\n".join(f"{e.sha256} {e.size} {e.path}" for e in self.files)
        return hashlib.sha256(lines.encode("utf-8")).hexdigest()

    @property
    def size(self) -> int:
        """The bytes of all the files."""
        return sum(e.size for e in self.files)

    def paths(self, folder: Path) -> list[Path]:
        """The files to read, in the manifest's order."""
        return [folder.joinpath(*e.path.split("/")) for e in self.files]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"files": [{"path", "size", "sha256"}, ...]}``."""
        return {"files": [{"path": e.path, "size": e.size, "sha256": e.sha256}
                          for e in self.files]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableManifest:
        """Rebuild a manifest; raises InvalidUpload when it is malformed."""
        try:
            files = tuple(ManifestEntry(str(f["path"]), int(f["size"]), str(f["sha256"]))
                          for f in data["files"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidUpload(f"malformed table manifest: {exc}") from exc
        if not files:
            raise InvalidUpload("malformed table manifest: no files")
        return cls(tuple(sorted(files, key=lambda e: e.path)))


def table_files(folder: Path) -> list[Path]:
    """The Parquet files Spark reads from ``folder``, sorted by name, without hashing them
    (each one's first and last four bytes are checked).

    Raises InvalidUpload (not a folder, no Parquet file in it, a sub-folder, a file that is not
    Parquet), OSError.
    """
    files = []
    for path, name in _listing(folder):
        with path.open("rb") as fh:
            _check_parquet(fh, name)
        files.append(path)
    _check_columns(files)
    return files


def first_rows(paths: Sequence[Path], rows: int) -> pa.Table:
    """The first ``rows`` rows of the Parquet files ``paths`` in order, read as the catalog's
    readers read them (text columns, empty cells null): what one machine profiles of a table
    it will not read whole. Raises InvalidUpload, OSError."""
    from .streaming import open_table

    chunks: list[pa.Table] = []
    count = 0
    for path in paths:
        with open_table(path, chunk_rows=rows) as reader:
            for chunk in reader:
                chunks.append(chunk)
                count += chunk.num_rows
                if count >= rows:
                    return pa.concat_tables(chunks).slice(0, rows)
            chunks.append(reader.empty())
    return pa.concat_tables(chunks)


def row_count(paths: Sequence[Path]) -> int:
    """The rows of the Parquet files ``paths``, from their footers (nothing else is read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)


def manifest_of(folder: Path) -> TableManifest:
    """The manifest of the Parquet files in ``folder`` (each one read once, in blocks).

    Raises InvalidUpload (as :func:`table_files`), OSError.
    """
    entries = []
    for path, name in _listing(folder):
        with path.open("rb") as fh:
            _check_parquet(fh, name)
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
            entries.append(ManifestEntry(name, fh.tell(), digest))
    _check_columns(folder.joinpath(e.path) for e in entries)
    return TableManifest(tuple(entries))


def check_manifest(folder: Path, manifest: TableManifest) -> None:
    """Return if ``folder`` holds exactly the files of ``manifest``, byte for byte.

    Files added or removed are named without hashing anything; otherwise a file whose size
    differs is altered, and the others are hashed. Raises TableChanged (what changed, by file
    name), InvalidUpload (``folder`` is not a folder of Parquet files), OSError.
    """
    current = {name: path for path, name in _listing(folder, require=False)}
    pinned = {e.path: e for e in manifest.files}
    added = sorted(set(current) - set(pinned))
    removed = sorted(set(pinned) - set(current))
    altered = []
    if not added and not removed:
        for name, entry in pinned.items():
            path = current[name]
            if path.stat().st_size != entry.size or _sha256(path) != entry.sha256:
                altered.append(name)
    if added or removed or altered:
        changes = [f"{kind} {_names(names)}" for kind, names in
                   (("added", added), ("removed", removed), ("altered", altered)) if names]
        raise TableChanged(f"the table's folder no longer matches version "
                           f"{manifest.digest[:12]}: {'; '.join(changes)}")


def _listing(folder: Path, *, require: bool = True) -> list[tuple[Path, str]]:
    """The data files of ``folder`` as (path, name), sorted by name."""
    if not folder.is_dir():
        raise InvalidUpload(f"{folder.name or folder} is not a folder")
    found = []
    for path in folder.iterdir():
        if path.name.startswith(("_", ".")):
            continue
        if path.is_dir():
            raise InvalidUpload(f"the table's folder holds a sub-folder ({path.name}); "
                                "partitioned tables are not supported")
        found.append((path, path.name))
    if require and not found:
        raise InvalidUpload(f"no Parquet file in {folder.name or folder}")
    return sorted(found, key=lambda item: item[1])


def _check_columns(paths: Iterable[Path]) -> None:
    """Raises InvalidUpload unless every file has the first one's columns (read from the
    footers; a pandas index left out, as the Parquet reader leaves it out)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    expected: list[str] | None = None
    for path in paths:
        try:
            names = [n for n in pq.read_schema(path).names if not _PANDAS_INDEX.fullmatch(n)]
        except (pa.ArrowException, OSError) as exc:
            raise InvalidUpload(f"{path.name} in the table's folder is not a readable Parquet "
                                "file") from exc
        if expected is None:
            expected = names
        elif names != expected:
            raise InvalidUpload(f"{path.name} has other columns than the folder's first file")


def _check_parquet(fh: Any, name: str) -> None:
    """Raises InvalidUpload unless ``fh`` starts and ends with Parquet's magic; leaves it at 0."""
    head = fh.read(4)
    fh.seek(0, 2)
    tail = b""
    if fh.tell() >= 8:
        fh.seek(-4, 2)
        tail = fh.read(4)
    if head != _MAGIC or tail != _MAGIC:
        raise InvalidUpload(f"{name} in the table's folder is not a Parquet file")
    fh.seek(0)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown
