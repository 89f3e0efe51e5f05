"""Use cases of the catalog: publish a dataset, read and search it, correct a column profile."""

from __future__ import annotations

from typing import Any

from catalog import (
    LEVELS,
    SHARING_TYPES,
    InvalidUpload,
    QualityCheckFailed,
    UploadTooLarge,
    formats,
    quality,
    repository,
)
from policies import rules

from .. import events
from ..auth import Principal
from ..errors import InvalidInput
from ..services import Services

__all__ = ["publish", "get_dataset", "search", "IDENTIFIER_PATTERNS", "dataset_view", "LEVELS",
           "SHARING_TYPES"]

_PHONE = (r"^(?:(?:\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}"
          r"|0[1-9][0-9]{1,2}-?[0-9]{7,8})$")
# Shapes Great Expectations checks on identifier columns (checksums are the masking engine's).
IDENTIFIER_PATTERNS = {
    "CN_RESIDENT_ID": r"^[0-9]{17}[0-9Xx]$",
    # a contact-phone column holds mobiles and landlines (0 + area code + 7-8 digits)
    "CN_MOBILE": _PHONE,
    "CN_LANDLINE": _PHONE,
    "CN_USCC": r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    "EMAIL_ADDRESS": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "BANK_CARD": r"^[0-9]{16,19}$",
}
EXPANSION_LIMIT = 4  # decoded data may be at most this many times the upload limit
_META_KEYS = {"title", "description", "sharing", "level", "legal_basis", "keywords", "strict",
              "not_null"}


def publish(svc: Services, who: Principal, *, filename: str, data: bytes,
            metadata: dict[str, Any]) -> dict[str, Any]:
    """Publish a file as a new dataset of the steward's department.

    Profiles each column for personal data, validates quality (strict mode refuses a failing
    file), stores the bytes encrypted and records the dataset and its audit entry together.
    Raises Forbidden, InvalidInput, InvalidUpload, UploadTooLarge, QualityCheckFailed.
    """
    svc.require(who, "dataset", "publish")
    meta = _check_metadata(metadata)
    frame, fmt = _read_upload(svc, filename, data)
    missing = [c for c in meta["not_null"] if c not in frame.columns]
    if missing:
        raise InvalidInput(f"metadata.not_null names column(s) the file does not have: "
                           f"{', '.join(missing)}")
    profiles = _profile(svc, frame)
    report = quality.validate_table(
        frame, columns=list(frame.columns), not_null=meta["not_null"],
        patterns={p.column: IDENTIFIER_PATTERNS[p.entity] for p in profiles
                  if p.kind == "identifier" and p.entity in IDENTIFIER_PATTERNS})
    if meta["strict"] and not report.success:
        raise QualityCheckFailed("quality checks failed and strict mode was asked for: "
                                 + _failed_summary(report))
    columns = [{"name": str(c), "dtype": "string", "profile": p.to_dict()}
               for c, p in zip(frame.columns, profiles)]
    now = svc.clock()
    with svc.store.create() as out:  # stored only if the dataset and its entry commit
        out.write(data)
        digest = out.finish()
        with svc.recording() as rec:
            dataset_id = repository.add_dataset(
                rec.conn, department=who.department, title=meta["title"],
                description=meta["description"], sharing=meta["sharing"], level=meta["level"],
                legal_basis=meta["legal_basis"], keywords=meta["keywords"],
                created_by=who.username, now=now)
            repository.add_version(
                rec.conn, dataset_id, sha256=digest, format=fmt, filename=filename,
                row_count=len(frame), byte_size=len(data), columns=columns,
                quality=report.to_dict(), quality_passed=report.success,
                created_by=who.username, now=now)
            rec.append(events.Publish(
                actor=who.username, actor_department=who.department, provider=who.department,
                dataset_id=dataset_id, dataset_version=1, sha256=digest, row_count=len(frame)))
            dataset = repository.get_dataset(rec.conn, dataset_id)
            out.commit()
    return dataset_view(dataset)


def get_dataset(svc: Services, who: Principal, dataset_id: str) -> dict[str, Any]:
    """A dataset's metadata, columns, profile and quality. Raises Forbidden, DatasetNotFound."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        return dataset_view(repository.get_dataset(conn, dataset_id))


def search(svc: Services, who: Principal, *, q: str | None = None,
           department: str | None = None, sharing: str | None = None,
           level: str | None = None) -> list[dict[str, Any]]:
    """Datasets matching the filters (metadata only). Raises Forbidden; InvalidInput for a
    sharing type or level that does not exist (a typo is not "no results")."""
    svc.require(who, "catalog", "read")
    if sharing and sharing not in rules.SHARING_TYPES:
        raise InvalidInput(f"sharing must be one of {', '.join(rules.SHARING_TYPES)}")
    if level and level not in rules.LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(rules.LEVELS)}")
    with svc.reader.connect() as conn:
        found = repository.search_datasets(conn, q=q or None, department=department or None,
                                           sharing=sharing or None, level=level or None)
    return [dataset_view(d, brief=True) for d in found]


def dataset_view(dataset: Any, *, brief: bool = False) -> dict[str, Any]:
    """The JSON form of a dataset that clients see."""
    version = dataset.version
    view = {
        "id": dataset.id, "department": dataset.department, "title": dataset.title,
        "description": dataset.description, "sharing": dataset.sharing,
        "sharing_label": rules.SHARING_TYPES.get(dataset.sharing), "level": dataset.level,
        "legal_basis": dataset.legal_basis, "keywords": dataset.keywords,
        "created_at": dataset.created_at.isoformat(), "version": dataset.current_version,
        "row_count": version.row_count if version else None,
        "quality_passed": version.quality_passed if version else None,
    }
    if brief or version is None:
        return view
    return view | {"format": version.format, "sha256": version.sha256,
                   "columns": version.columns, "quality": version.quality}


def _check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata must be a JSON object")
    unknown = set(metadata) - _META_KEYS
    if unknown:
        raise InvalidInput(f"unknown metadata field(s): {', '.join(sorted(unknown))}")
    for key in ("title", "description", "sharing", "level", "legal_basis", "keywords"):
        if metadata.get(key) is not None and not isinstance(metadata[key], str):
            raise InvalidInput(f"metadata.{key} must be text")
    if not isinstance(metadata.get("strict", False), bool):
        raise InvalidInput("metadata.strict must be true or false")
    title = str(metadata.get("title") or "").strip()
    if not title:
        raise InvalidInput("metadata.title is required")
    sharing, level = metadata.get("sharing"), metadata.get("level")
    if sharing not in rules.SHARING_TYPES:
        raise InvalidInput("metadata.sharing must be unconditional, conditional or none")
    if level not in rules.LEVELS:
        raise InvalidInput("metadata.level must be L1, L2, L3 or L4")
    basis = str(metadata.get("legal_basis") or "").strip() or None
    if sharing == "none" and not basis:
        raise InvalidInput("metadata.legal_basis is required when sharing is none")
    not_null = metadata.get("not_null") or []
    if not isinstance(not_null, list) or not all(isinstance(c, str) for c in not_null):
        raise InvalidInput("metadata.not_null must be a list of column names")
    return {"title": title, "description": str(metadata.get("description") or ""),
            "sharing": sharing, "level": level, "legal_basis": basis,
            "keywords": str(metadata.get("keywords") or ""),
            "strict": bool(metadata.get("strict", False)), "not_null": not_null}


def _read_upload(svc: Services, filename: str, data: bytes) -> tuple[Any, str]:
    if len(data) > svc.settings.max_upload_bytes:
        raise UploadTooLarge(f"file is larger than {svc.settings.max_upload_bytes} bytes")
    if not data:
        raise InvalidUpload("the file is empty")
    fmt = formats.detect_format(filename, data)
    frame = formats.read_table(data, fmt=fmt, max_rows=svc.settings.max_upload_rows,
                               max_bytes=EXPANSION_LIMIT * svc.settings.max_upload_bytes)
    if len(frame.columns) == 0 or len(frame) == 0:
        raise InvalidUpload("the file has no data rows")
    return frame, fmt


def _profile(svc: Services, frame: Any) -> list[Any]:
    from masking import profile_table
    return profile_table(frame, analyzer=svc.analyzer())


def _failed_summary(report: Any) -> str:
    failed = [r for r in report.results if not r["success"]]
    return "; ".join(f"{r['expectation']} on {r.get('column') or 'table'}"
                     f" ({r.get('unexpected_count') or 0} rows)" for r in failed[:5])
