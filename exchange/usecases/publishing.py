"""Use cases of the catalog: publish a dataset, read and search it, correct a column profile.

An upload is read in chunks of rows (``Services.publish_chunk_rows``) from a file on disk, never
whole: its first :data:`SAMPLE_ROWS` rows are profiled and checked by Great Expectations, every
row is counted for the quality report (missing values, identifiers of the wrong shape, rows),
and the file is copied block by block into the encrypted store. Memory follows the chunk and
the sample, not the file; the limits on bytes and rows are settings.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from catalog import (
    LEVELS,
    SHARING_TYPES,
    InvalidUpload,
    QualityCheckFailed,
    UploadTooLarge,
    dictionary,
    first_rows,
    formats,
    manifest_of,
    open_table_source,
    quality,
    repository,
    row_count,
    signature_of,
)
from masking import profile_table
from policies import rules, workflow

from .. import events, files, lookups, notices
from ..auth import Principal
from ..errors import Forbidden, InvalidInput, Unprocessable
from ..messages import Problem
from ..paging import PageRequest, page_of
from ..services import Services

__all__ = ["publish", "add_version", "titles", "data_dictionary", "edit_metadata", "withdraw",
           "list_versions", "data_dictionary_file", "VOCABULARIES",
           "register_external", "check_metadata", "get_dataset", "search",
           "IDENTIFIER_PATTERNS", "dataset_view", "LEVELS", "SHARING_TYPES", "SAMPLE_ROWS",
           "EDITABLE", "InvalidUpload", "UploadTooLarge", "SORTS", "is_ranked",
           "add_external_version", "own_dataset"]


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
#: The first rows of an upload, profiled for personal data and checked by Great Expectations;
#: every row is counted for the quality report. A file of no more rows is profiled whole.
SAMPLE_ROWS = 100_000
_COPY_BLOCK = 1 << 20
#: The national directory's fields a steward gives with a dataset (see :func:`_directory`).
DIRECTORY_KEYS = ("resource_code", "category", "theme", "share_condition", "share_method",
                  "open_type", "update_frequency", "related_resources", "contact", "license",
                  "temporal", "spatial", "column_descriptions")
_META_KEYS = {"title", "description", "sharing", "level", "legal_basis", "keywords", "strict",
              "not_null", "confirm_personal_data", "region_column", "public_columns",
              *DIRECTORY_KEYS}
#: Levels at which a dataset holding personal data needs the steward's explicit confirmation.
CONFIRM_LEVELS = ("L1", "L2")
_DETAILS = ("category", "share_condition", "share_method", "open_type", "update_frequency",
            "related_resources", "contact", "license", "temporal", "spatial")
_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z/._-]{0,63}")
_REGION = re.compile(r"\d{6}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_NOTE = 2000
_BASICS = ("title", "description", "sharing", "level", "legal_basis", "keywords")
#: The metadata a steward may edit after publication.
EDITABLE = _BASICS + DIRECTORY_KEYS + ("public_columns",)


def publish(svc: Services, who: Principal, *, filename: str, data: bytes | Path,
            metadata: dict[str, Any]) -> dict[str, Any]:
    """Publish a file as a new dataset of the steward's department.

    ``data`` is the file: its bytes, or the path of a file on disk (an upload spooled there),
    which is read in chunks and may be larger than memory. Profiles each column for personal
    data on the first rows, validates quality over every row (strict mode refuses a failing
    file), stores the bytes encrypted and records the dataset and its audit entry together;
    a refusal stores and records nothing.
    Raises Forbidden, InvalidInput, InvalidUpload, UploadTooLarge (more bytes or rows than the
    settings allow), QualityCheckFailed, OSError.
    """
    svc.require(who, "dataset", "publish")
    meta = check_metadata(metadata)
    return _store_version(svc, who, filename=filename, data=data, strict=meta["strict"],
                          not_null=meta["not_null"], notes=meta["column_notes"],
                          level=meta["level"], confirmed=meta["confirm_personal_data"],
                          region_column=meta["region_column"],
                          public_columns=meta["details"].get("public_columns", []),
                          dataset_of=lambda conn, now: _add_dataset(conn, who, meta, now))


def add_version(svc: Services, who: Principal, dataset_id: str, *, filename: str,
                data: bytes | Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Publish a new version of a dataset of the steward's department, profiled and
    quality-checked like the first (``options``: ``strict``, ``not_null``). Grants that
    follow the latest version deliver it from now on, unless it makes a granted column more
    personal than the version they were approved for (:func:`masking_plan.version_for`).
    Raises Forbidden (another department's), DatasetNotFound, DatasetWithdrawn, InvalidInput,
    InvalidUpload, UploadTooLarge, QualityCheckFailed, OSError."""
    current = own_dataset(svc, who, dataset_id)
    meta = _version_options(options or {})
    return _store_version(svc, who, filename=filename, data=data, strict=meta["strict"],
                          not_null=meta["not_null"], level=current.level,
                          confirmed=meta["confirm_personal_data"],
                          region_column=meta.get("region_column") or None,
                          dataset_of=lambda _conn, _now: dataset_id)


def _described(types: list[dict[str, Any]], profiles: list[Any],
               region_column: str | None = None) -> list[dict[str, Any]]:
    """Each column's entry of the data dictionary: name, type and length as read, profile,
    and ``region`` for the column of GB/T 2260 codes (the steward's ``region_column``, else
    the first one found to hold them; none where the profile found personal data)."""
    if region_column is None:
        region_column = next((t["name"] for t, p in zip(types, profiles, strict=True)
                              if t.get("region") and p.kind == "none"), None)
    return [{"name": t["name"], "dtype": t["dtype"], "length": t["length"],
             "profile": p.to_dict()} | ({"region": True} if t["name"] == region_column else {})
            for t, p in zip(types, profiles, strict=True)]


def _tell_held_back(svc: Services, conn: Any, dataset_id: str, number: int, *,
                    now: Any) -> None:
    """Tell the provider's stewards and the receivers of each grant that the new version
    holds back (it gives a granted column personal data the approved version did not hold:
    deliveries stay on the version before until a steward moves the grant); queue the lookup
    index of the new version for the query grants that move to it."""
    newest = repository.get_version(conn, dataset_id, number)
    held = []
    for grant in workflow.following_grants(conn, dataset_id, now=now):
        approved = repository.get_version(conn, dataset_id, grant.dataset_version)
        fits = rules.version_fits(grant.columns, grant.masking, approved.columns,
                                  newest.columns)
        if fits and grant.mode == "query":  # its calls read the new version: index it
            lookups.schedule_build(conn, dataset_id, number, grant.key_columns, now=now)
        if not fits:
            held.append(notices.Notice(
                "grant.held_back", ((grant.provider, "steward"), (grant.receiver, "requester")),
                grant.id, {"grant_id": grant.id, "dataset_id": dataset_id,
                           "dataset_version": number, "provider": grant.provider,
                           "receiver": grant.receiver}))
    if held:
        notices.write(conn, held, now=now, email=bool(svc.settings.smtp_url))


def _check_confirmed(columns: list[dict[str, Any]], level: str, *, confirmed: bool) -> None:
    """Raises Unprocessable naming the columns found to hold personal data in a table to be
    published at ``level`` (L1, L2) without the steward's ``confirm_personal_data``."""
    if confirmed or level not in CONFIRM_LEVELS:
        return
    personal = [c["name"] for c in columns
                if ((c.get("profile") or {}).get("kind") or "none") != "none"]
    if personal:
        raise Unprocessable(f"personal data found at {level} in: {', '.join(personal)}",
                            code="personal_data_unconfirmed", field="confirm_personal_data",
                            columns="、".join(personal), level=level)


def _check_public(public: list[str], columns: list[str]) -> None:
    """Raises InvalidInput if ``public_columns`` names a column the table lacks."""
    unknown = sorted(set(public) - set(columns))
    if unknown:
        raise InvalidInput(f"public_columns names columns the table does not have: "
                           f"{', '.join(unknown)}", code="columns_unknown",
                           field="public_columns", columns="、".join(unknown))


def _check_notes(notes: dict[str, str], columns: list[str]) -> None:
    """Raises InvalidInput if a column description names a column the table lacks."""
    unknown = sorted(set(notes) - set(columns))
    if unknown:
        raise InvalidInput(f"column_descriptions names columns the table does not have: "
                           f"{', '.join(unknown)}", code="columns_unknown",
                           field="column_descriptions", columns="、".join(unknown))


def _store_version(svc: Services, who: Principal, *, filename: str, data: bytes | Path,
                   strict: bool, not_null: list[str],
                   dataset_of: Callable[[Any, Any], str],
                   notes: dict[str, str] | None = None, level: str,
                   confirmed: bool, region_column: str | None = None,
                   public_columns: list[str] | None = None) -> dict[str, Any]:
    """Examine ``data`` and store it as the next version of the dataset ``dataset_of`` names
    (creating it for a first publication), with its audit entry; nothing is stored or
    recorded if anything fails."""
    upload = _Upload.of(data, max_bytes=svc.settings.max_upload_bytes)
    fmt = upload.format(filename)
    # the table as read: columns, profiles and quality over every row (no rows kept)
    frame = _examine(svc, upload, fmt, not_null=not_null)
    profiles, report = frame.profiles, frame.report
    if strict and not report.success:
        raise QualityCheckFailed("quality checks failed and strict mode was asked for: "
                                 + _failed_summary(report))
    if region_column is not None and region_column not in frame.columns:
        raise InvalidInput(f"region_column names a column the table does not have: "
                           f"{region_column}", code="columns_unknown", field="region_column",
                           columns=region_column)
    columns = _described(frame.types, profiles, region_column)
    _check_notes(notes or {}, frame.columns)
    _check_public(public_columns or [], frame.columns)
    _check_confirmed(columns, level, confirmed=confirmed)
    now = svc.clock()
    with svc.store.create() as out:  # stored only if the dataset and its entry commit
        upload.copy_to(out)
        digest = out.finish()
        with svc.recording() as rec:
            dataset_id = dataset_of(rec.conn, now)
            number = repository.add_version(
                rec.conn, dataset_id, sha256=digest, format=fmt, filename=filename,
                row_count=len(frame), byte_size=upload.size, columns=columns,
                quality=report.to_dict(), quality_passed=report.success,
                created_by=who.username, now=now)
            rec.append(events.Publish(
                actor=who.username, actor_department=who.department, provider=who.department,
                dataset_id=dataset_id, dataset_version=number, sha256=digest,
                row_count=len(frame), public_columns=public_columns or None))
            if number > 1:
                _tell_held_back(svc, rec.conn, dataset_id, number, now=now)
            dataset = repository.get_dataset(rec.conn, dataset_id)
            out.commit()
    return dataset_view(dataset)


def own_dataset(svc: Services, who: Principal, dataset_id: str, *,
                permission: tuple[str, str] = ("dataset", "publish")) -> Any:
    """The dataset, if ``who`` may do ``permission`` (Casbin decides) and is of its
    department. Raises Forbidden, DatasetNotFound."""
    svc.require(who, *permission)
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, dataset_id)
    if dataset.department != who.department:
        raise Forbidden("only a steward of the dataset's department may change it",
                        code="not_your_dataset")
    return dataset


def _version_options(options: dict[str, Any]) -> dict[str, Any]:
    """``strict`` and ``not_null`` of a new version. Raises InvalidInput."""
    if not isinstance(options, dict):
        raise InvalidInput("metadata must be a JSON object", code="metadata_not_an_object")
    unknown = sorted(set(options) - {"strict", "not_null", "confirm_personal_data",
                                     "region_column"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", code="unknown_field",
                           fields=unknown)
    problems = _option_problems(options)
    if problems:
        raise InvalidInput.of(problems)
    return {"strict": bool(options.get("strict", False)),
            "not_null": options.get("not_null") or [],
            "region_column": options.get("region_column") or None,
            "confirm_personal_data": options.get("confirm_personal_data") is True}


def _option_problems(options: dict[str, Any]) -> list[Problem]:
    """What is wrong with a publication's ``strict`` and ``not_null``."""
    problems = []
    if not isinstance(options.get("strict", False), bool):
        problems.append(Problem("strict_not_a_flag", "strict"))
    not_null = options.get("not_null") or []
    if not isinstance(not_null, list) or not all(isinstance(c, str) for c in not_null):
        problems.append(Problem("not_null_not_a_list", "not_null"))
    if options.get("region_column") is not None and not isinstance(options["region_column"],
                                                                     str):
        problems.append(Problem("metadata_not_text", "region_column",
                                {"field": "region_column"}))
    return problems


def edit_metadata(svc: Services, who: Principal, dataset_id: str,
                  changes: dict[str, Any]) -> dict[str, Any]:
    """Edit a dataset's metadata (title, description, sharing, level, legal basis, keywords);
    the audit entry names the fields that changed. Raises Forbidden, DatasetNotFound,
    DatasetWithdrawn, InvalidInput (unknown fields, metadata a dataset cannot have)."""
    current = own_dataset(svc, who, dataset_id)
    if not isinstance(changes, dict):
        raise InvalidInput("the body must be a JSON object", code="metadata_not_an_object")
    changes = dict(changes)
    confirmed = changes.pop("confirm_personal_data", False)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", code="unknown_field",
                           fields=unknown)
    level = changes.get("level", current.level)
    if level != current.level and current.version is not None:  # lowered: say it again
        _check_confirmed(current.version.columns, level, confirmed=confirmed is True)
    given = directory_of(current)
    given.pop("published_at")
    whole = {name: getattr(current, name) for name in _BASICS} | given | {
        "column_descriptions": current.column_notes or {}} | changes
    checked = check_metadata(whole)  # every problem at once, as a publish answers
    if "column_descriptions" in changes and current.version is not None:
        _check_notes(checked["column_notes"], current.version.column_names)
    if "public_columns" in changes and current.version is not None:
        _check_public(checked["details"].get("public_columns", []),
                      current.version.column_names)
    stored = {name: checked[name] for name in _BASICS + ("resource_code", "theme", "details",
                                                          "column_notes")}
    stored["column_notes"] = stored["column_notes"] or None
    if current.details is None and stored["details"] == _directory({})[0]["details"]:
        stored["details"] = None  # still the defaults: nothing to record
    with svc.recording() as rec:
        changed = repository.update_metadata(rec.conn, dataset_id, stored, now=svc.clock())
        before, after = dict(current.details or {}), dict(stored["details"] or {})
        if before.pop("public_columns", []) != after.pop("public_columns", []):
            # 依法公示 marked or unmarked: named in the entry as itself
            changed = [*(c for c in changed if c != "details" or before != after),
                       "public_columns"]
        if changed:
            rec.append(events.DatasetChange(
                actor=who.username, actor_department=who.department,
                provider=current.department, dataset_id=dataset_id, fields=changed))
        dataset = repository.get_dataset(rec.conn, dataset_id)
    return dataset_view(dataset) | {"changed": changed}


def withdraw(svc: Services, who: Principal, dataset_id: str, *, reason: Any) -> dict[str, Any]:
    """Take a dataset out of the catalog: no longer found, requested or versioned; every
    active grant ends and every pending request is refused with the reason (permissions
    removed on every server), each an audit entry; the dataset, its versions and deliveries
    stay for the history.
    Raises Forbidden, DatasetNotFound, DatasetWithdrawn, InvalidInput (no reason)."""
    current = own_dataset(svc, who, dataset_id)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("give the reason for withdrawing", code="withdraw_reason_required",
                           field="reason")
    now = svc.clock()
    with svc.recording() as rec:
        dataset = repository.withdraw_dataset(rec.conn, dataset_id, by=who.username,
                                              reason=reason.strip(), now=now)
        ended = workflow.revoke_all(rec.conn, dataset_id, by=who.username,
                                    reason=reason.strip(), now=now)
        for grant in ended:
            svc.enforcer.revoke_grant(grant.id, conn=rec.conn)
            rec.append(events.Revoke(
                actor=who.username, actor_department=who.department, provider=grant.provider,
                receiver=grant.receiver, grant_id=grant.id, dataset_id=dataset_id))
        for request in workflow.refuse_pending(rec.conn, dataset_id, by=who.username,
                                               reason=reason.strip(), now=now):
            rec.append(events.Deny(
                actor=who.username, actor_department=who.department,
                provider=request.provider, receiver=request.receiver, request_id=request.id,
                dataset_id=dataset_id, outcome="refused"))
        rec.append(events.Withdraw(
            actor=who.username, actor_department=who.department, provider=current.department,
            dataset_id=dataset_id, grants_ended=len(ended)))
    return dataset_view(dataset) | {"grants_ended": [g.id for g in ended]}


def list_versions(svc: Services, who: Principal, dataset_id: str) -> dict[str, Any]:
    """Every version of a dataset, newest first: number, rows, bytes, SHA-256, quality,
    columns with their personal data, who published it and when. Raises Forbidden,
    DatasetNotFound."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        versions = repository.list_versions(conn, dataset_id)
    return {"versions": [{"version": v.version, "row_count": v.row_count,
                          "byte_size": v.byte_size, "sha256": v.sha256, "format": v.format,
                          "quality_passed": v.quality_passed, "columns": v.columns,
                          "created_at": v.created_at.isoformat(), "created_by": v.created_by}
                         for v in versions]}


def register_external(svc: Services, who: Principal, *, location: Any,
                      metadata: dict[str, Any]) -> dict[str, Any]:
    """Register a folder of Parquet files (on a file system the exchange and its Spark cluster
    share) as a new dataset of the steward's department, read where it lies: its version is
    the manifest of its files (path, size, SHA-256 of each, every file read once), its rows are
    counted from the files' footers, its first ``SAMPLE_ROWS`` rows profiled for personal data
    and checked by Great Expectations (the report says how many rows it covers). Deliveries
    mask it with Spark (``delivery``) and are refused once the folder no longer matches.

    Only a folder inside one of ``settings.external_roots`` may be named (none by default): a
    steward must not make the exchange read any file of its server.
    Raises Forbidden, InvalidInput, InvalidUpload (no Parquet files, files whose columns
    differ), QualityCheckFailed, OSError.
    """
    svc.require(who, "dataset", "publish")
    meta = check_metadata(metadata)
    folder = _external_folder(svc, location)
    table = _examine_external(svc, folder, not_null=meta["not_null"], strict=meta["strict"],
                              level=meta["level"], confirmed=meta["confirm_personal_data"],
                              region_column=meta["region_column"])
    _check_notes(meta["column_notes"], [c["name"] for c in table["columns"]])
    _check_public(meta["details"].get("public_columns", []),
                  [c["name"] for c in table["columns"]])
    return _record_external(svc, who, folder, table,
                            dataset_of=lambda conn, now: _add_dataset(conn, who, meta, now))


def add_external_version(svc: Services, who: Principal, dataset_id: str, *,
                         location: Any = None,
                         options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record the next version of a dataset of the steward's department as the manifest of
    a folder of Parquet files as it is now (``location``; default the folder of its current
    version, e.g. after the nightly job rewrote it), examined like a first registration
    (``options``: ``strict``, ``not_null``, ``confirm_personal_data``, ``region_column``).
    Grants that follow the latest version deliver it from now on (unless it makes a granted
    column more personal); pinned ones keep reading theirs — and are refused if their folder
    no longer matches. Raises what :func:`register_external` raises, DatasetNotFound,
    DatasetWithdrawn; InvalidInput without a location for a dataset that is no folder."""
    current = own_dataset(svc, who, dataset_id)
    meta = _version_options(options or {})
    if location is None:
        if current.version is None or not current.version.location:
            raise InvalidInput("name the folder of the new version", code="external_not_a_folder",
                               field="location")
        location = current.version.location
    folder = _external_folder(svc, location)
    table = _examine_external(svc, folder, not_null=meta["not_null"], strict=meta["strict"],
                              level=current.level, confirmed=meta["confirm_personal_data"],
                              region_column=meta["region_column"])
    return _record_external(svc, who, folder, table, dataset_of=lambda _conn, _now: dataset_id)


def _examine_external(svc: Services, folder: Path, *, not_null: list[str], strict: bool,
                      level: str, confirmed: bool,
                      region_column: str | None) -> dict[str, Any]:
    """The folder's manifest, rows, columns (profiled on its first rows) and quality report.
    Raises InvalidInput, InvalidUpload, QualityCheckFailed, Unprocessable, OSError."""
    manifest = manifest_of(folder)
    paths = manifest.paths(folder)
    sample = first_rows(paths, SAMPLE_ROWS)
    if sample.num_rows == 0:
        raise InvalidUpload("the table has no data rows")
    frame = formats.frame_of(sample)
    missing = [c for c in not_null if c not in frame.columns]
    if missing:
        raise InvalidInput(f"metadata.not_null names column(s) the table does not have: "
                           f"{', '.join(missing)}")
    if region_column is not None and region_column not in frame.columns:
        raise InvalidInput(f"region_column names a column the table does not have: "
                           f"{region_column}", code="columns_unknown", field="region_column",
                           columns=region_column)
    profiles = profile_table(frame, analyzer=svc.analyzer())
    patterns = {p.column: IDENTIFIER_PATTERNS[p.entity] for p in profiles
                if p.kind == "identifier" and p.entity in IDENTIFIER_PATTERNS}
    report = quality.validate_table(frame, columns=list(frame.columns), not_null=not_null,
                                    patterns=patterns)
    if strict and not report.success:
        raise QualityCheckFailed("quality checks failed on the first rows and strict mode was "
                                 "asked for: " + _failed_summary(report))
    columns = _described(dictionary.infer_columns(sample), profiles, region_column)
    _check_confirmed(columns, level, confirmed=confirmed)
    return {"manifest": manifest, "rows": row_count(paths), "columns": columns,
            "quality": report.to_dict() | {"rows_checked": sample.num_rows},
            "passed": report.success}


def _record_external(svc: Services, who: Principal, folder: Path, table: dict[str, Any], *,
                     dataset_of: Callable[[Any, Any], str]) -> dict[str, Any]:
    """Record ``table`` (see :func:`_examine_external`) as the next version of the dataset
    ``dataset_of`` names (creating it for a first registration), with its audit entry."""
    manifest, now = table["manifest"], svc.clock()
    with svc.recording() as rec:
        dataset_id = dataset_of(rec.conn, now)
        number = repository.add_version(
            rec.conn, dataset_id, sha256=manifest.digest, format="parquet",
            filename=folder.name, row_count=table["rows"], byte_size=manifest.size,
            columns=table["columns"], quality=table["quality"], quality_passed=table["passed"],
            created_by=who.username, now=now, location=str(folder),
            manifest=manifest.to_dict())
        rec.append(events.Publish(
            actor=who.username, actor_department=who.department, provider=who.department,
            dataset_id=dataset_id, dataset_version=number, sha256=manifest.digest,
            row_count=table["rows"]))
        dataset = repository.get_dataset(rec.conn, dataset_id)
    return dataset_view(dataset)


def _add_dataset(conn: Any, who: Principal, meta: dict[str, Any], now: Any) -> str:
    """The dataset's record, in the steward's department, from checked metadata; its id."""
    return repository.add_dataset(
        conn, department=who.department, title=meta["title"],
        description=meta["description"], sharing=meta["sharing"], level=meta["level"],
        legal_basis=meta["legal_basis"], keywords=meta["keywords"], created_by=who.username,
        now=now, resource_code=meta["resource_code"], theme=meta["theme"],
        details=meta["details"], column_notes=meta["column_notes"])


def _external_folder(svc: Services, location: Any) -> Path:
    """``location`` resolved (links followed), if it is a folder inside an external root.
    Raises InvalidInput."""
    roots = [root.resolve() for root in svc.settings.external_roots]
    if not roots:
        raise InvalidInput("no external roots are configured", code="external_tables_off",
                           field="location")
    if not isinstance(location, str) or not location or not Path(location).is_absolute():
        raise InvalidInput("location must be an absolute path", field="location",
                           code="external_location_outside")
    folder = Path(location).resolve()
    if not any(folder == root or folder.is_relative_to(root) for root in roots):
        raise InvalidInput("the folder is outside the external roots", field="location",
                           code="external_location_outside")
    if not folder.is_dir():
        raise InvalidInput("no such folder", code="external_not_a_folder", field="location")
    return folder


def get_dataset(svc: Services, who: Principal, dataset_id: str) -> dict[str, Any]:
    """A dataset's metadata, columns, profile and quality. Raises Forbidden, DatasetNotFound."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        return dataset_view(repository.get_dataset(conn, dataset_id))


def search(svc: Services, who: Principal, *, q: str | None = None,
           department: str | None = None, sharing: str | None = None,
           level: str | None = None, theme: str | None = None, sort: str | None = None,
           page: PageRequest = PageRequest()) -> dict[str, Any]:
    """A page of the datasets matching the filters (metadata only) in the order ``sort``
    names (:data:`SORTS`: newest first, last changed first, or best match first — the
    default when ``q`` holds words to search for; see :mod:`catalog.search`): ``datasets``,
    ``sort``, ``next_page_token`` (None at the end), ``total`` and ``facets`` (per department,
    sharing type, level and theme, how many each value would find). Raises Forbidden;
    InvalidInput for a sharing type, level, theme or order that does not exist (a typo is
    not "no results"), relevance without words, or a bad page."""
    svc.require(who, "catalog", "read")
    if sharing and sharing not in rules.SHARING_TYPES:
        raise InvalidInput(f"sharing must be one of {', '.join(rules.SHARING_TYPES)}")
    if level and level not in rules.LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(rules.LEVELS)}")
    if theme and theme not in dictionary.THEMES:
        raise InvalidInput("theme must be one of the directory's themes", code="theme_unknown",
                           field="theme")
    if sort and sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", code="sort_unknown",
                           field="sort", choices=", ".join(SORTS))
    if sort == "relevance" and not repository.is_ranked(q, sort):
        raise InvalidInput("only a search (q with a word) has an order by relevance",
                           code="sort_relevance_without_q", field="sort")
    filters = {"q": q or None, "department": department or None, "sharing": sharing or None,
               "level": level or None, "theme": theme or None}
    sort = sort or repository.default_sort(filters["q"])
    ranked = repository.is_ranked(filters["q"], sort)  # by relevance: pages by position
    with svc.reader.connect() as conn:
        found = repository.search_datasets(conn, limit=page.size + 1, after=page.after,
                                           offset=page.offset, sort=sort, **filters)
        total, facets = repository.count_datasets(conn, **filters)
    key = None if ranked else (_keyset if sort == "newest" else _changed_keyset)
    # newest-first tokens carry no order (as before orders were several)
    shown, token = page_of(found, page, key=key, order=None if sort == "newest" else sort)
    return {"datasets": [dataset_view(d, brief=True) for d in shown], "sort": sort,
            "next_page_token": token, "total": total, "facets": facets}


def _keyset(dataset: Any) -> tuple[Any, str]:
    return dataset.created_at, dataset.id


def _changed_keyset(dataset: Any) -> tuple[Any, str]:
    return dataset.changed_at, dataset.id


def titles(svc: Services, who: Principal, dataset_ids: Any) -> dict[str, str]:
    """The title of each dataset named (withdrawn ones too: a page of old grants names
    them). Raises Forbidden."""
    svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        return repository.titles(conn, dataset_ids)


def dataset_view(dataset: Any, *, brief: bool = False) -> dict[str, Any]:
    """The JSON form of a dataset that clients see."""
    version = dataset.version
    view = {
        "id": dataset.id, "department": dataset.department, "title": dataset.title,
        "description": dataset.description, "sharing": dataset.sharing,
        "sharing_label": rules.SHARING_TYPES.get(dataset.sharing), "level": dataset.level,
        "legal_basis": dataset.legal_basis, "keywords": dataset.keywords,
        "created_at": dataset.created_at.isoformat(), "version": dataset.current_version,
        "updated_at": _iso(dataset.updated_at), "changed_at": dataset.changed_at.isoformat(),
        "withdrawn_at": _iso(dataset.withdrawn_at), "withdraw_reason": dataset.withdraw_reason,
        "row_count": version.row_count if version else None,
        "quality_passed": version.quality_passed if version else None,
    }
    view["theme"] = dataset.theme
    if brief or version is None:
        return view
    notes = dataset.column_notes or {}
    full = view | {"format": version.format, "sha256": version.sha256,
                   "columns": [c | {"description": notes.get(c["name"]),
                                    "dtype": c.get("dtype") or "string",
                                    "length": c.get("length")} for c in version.columns],
                   "quality": version.quality, "directory": directory_of(dataset)}
    if version.location:  # an external table: read where it lies, masked by Spark
        full["external"] = {"files": len((version.manifest or {}).get("files", [])),
                            "byte_size": version.byte_size}
    return full


def directory_of(dataset: Any) -> dict[str, Any]:
    """The national directory's fields of a dataset (see :func:`_directory`), as the API
    shows them; ``published_at`` is its first publication (发布日期)."""
    details = dataset.details or {}
    return {"resource_code": dataset.resource_code, "theme": dataset.theme,
            "category": details.get("category", "department"),
            "share_condition": details.get("share_condition"),
            "share_method": details.get("share_method", ["file"]),
            "open_type": details.get("open_type", "none"),
            "update_frequency": details.get("update_frequency", "irregular"),
            "related_resources": details.get("related_resources", []),
            "contact": details.get("contact"), "license": details.get("license"),
            "temporal": details.get("temporal"), "spatial": details.get("spatial", []),
            "public_columns": details.get("public_columns", []),
            "published_at": _iso(dataset.created_at)}


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata checked, every problem at once (a form shows them all). Raises
    InvalidInput (400)."""
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata must be a JSON object", code="metadata_not_an_object")
    unknown = sorted(set(metadata) - _META_KEYS)
    if unknown:
        raise InvalidInput(f"unknown metadata field(s): {', '.join(unknown)}",
                           code="metadata_unknown_fields", fields=unknown)
    malformed = [Problem("metadata_not_text", key, {"field": key})
                 for key in ("title", "description", "sharing", "level", "legal_basis",
                             "keywords")
                 if metadata.get(key) is not None and not isinstance(metadata[key], str)]
    malformed += _option_problems(metadata)
    not_null = metadata.get("not_null") or []
    if malformed:
        raise InvalidInput.of(malformed)
    title = str(metadata.get("title") or "").strip()
    sharing, level = metadata.get("sharing"), metadata.get("level")
    basis = str(metadata.get("legal_basis") or "").strip() or None
    refused = []
    if not title:
        refused.append(Problem("title_required", "title"))
    if sharing not in rules.SHARING_TYPES:
        refused.append(Problem("sharing_unknown", "sharing"))
    if level not in rules.LEVELS:
        refused.append(Problem("level_unknown", "level"))
    if sharing == "none" and not basis:
        refused.append(Problem("legal_basis_required", "legal_basis"))
    if sharing == "unconditional" and level == "L4":  # L4 always waits for two stewards
        refused.append(Problem("l4_not_unconditional", "sharing"))
    if not isinstance(metadata.get("confirm_personal_data", False), bool):
        refused.append(Problem("confirm_not_a_flag", "confirm_personal_data"))
    directory, wrong = _directory(metadata)
    refused += wrong
    if refused:
        raise InvalidInput.of(refused)  # 400, as a publish has always answered
    return {"title": title, "description": str(metadata.get("description") or ""),
            "sharing": sharing, "level": level, "legal_basis": basis,
            "keywords": str(metadata.get("keywords") or ""),
            "strict": bool(metadata.get("strict", False)), "not_null": not_null,
            "region_column": metadata.get("region_column") or None,
            "confirm_personal_data": metadata.get("confirm_personal_data") is True} | directory


def _directory(metadata: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The directory's fields (政务信息资源目录, 2017 guide) as stored — ``resource_code``,
    ``theme``, ``details`` (the rest), ``column_notes`` — with defaults where none is given
    (部门信息资源, shared as a file, 不予开放, 不定期), and the problems found."""
    vocab = dictionary
    problems: list[Problem] = []

    def pick(key: str, vocabulary: dict[str, str], default: str | None) -> str | None:
        value = metadata.get(key) or default
        if value is not None and value not in vocabulary:
            problems.append(Problem(f"{key}_unknown", key))
        return value

    code = metadata.get("resource_code")
    if code is not None and (not isinstance(code, str) or not _CODE.fullmatch(code)):
        problems.append(Problem("resource_code_malformed", "resource_code"))
    details: dict[str, Any] = {
        "category": pick("category", vocab.CATEGORIES, "department"),
        "open_type": pick("open_type", vocab.OPEN_TYPES, "none"),
        "update_frequency": pick("update_frequency", vocab.UPDATE_FREQUENCIES, "irregular"),
    }
    theme = pick("theme", vocab.THEMES, None)
    methods = metadata.get("share_method") or ["file"]
    if not isinstance(methods, list) or not methods or not all(
            m in vocab.SHARE_METHODS for m in methods):
        problems.append(Problem("share_method_unknown", "share_method"))
    details["share_method"] = methods
    for key in ("share_condition", "license"):
        value = metadata.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_NOTE):
            problems.append(Problem("metadata_not_text", key, {"field": key}))
        details[key] = (value or "").strip() or None if isinstance(value, str) else None
    related = metadata.get("related_resources") or []
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        problems.append(Problem("related_resources_malformed", "related_resources"))
    details["related_resources"] = related
    contact = metadata.get("contact")
    if contact is not None and not (isinstance(contact, dict) and isinstance(
            contact.get("name"), str) and contact["name"].strip() and set(contact) <= {
            "name", "email", "phone"} and all(isinstance(v, str) or v is None
                                               for v in contact.values())):
        problems.append(Problem("contact_malformed", "contact"))
    details["contact"] = contact
    temporal = metadata.get("temporal")
    if temporal is not None and not (isinstance(temporal, dict) and set(temporal) <= {
            "start", "end"} and all(v is None or (isinstance(v, str) and _DATE.fullmatch(v))
                                    for v in temporal.values())):
        problems.append(Problem("temporal_malformed", "temporal"))
    details["temporal"] = temporal
    spatial = metadata.get("spatial") or []
    if not isinstance(spatial, list) or not all(
            isinstance(r, str) and _REGION.fullmatch(r) for r in spatial):
        problems.append(Problem("spatial_malformed", "spatial"))
    details["spatial"] = spatial
    public = metadata.get("public_columns") or []
    if not isinstance(public, list) or not all(isinstance(c, str) and c for c in public) \
            or len(set(public)) != len(public):
        problems.append(Problem("public_columns_malformed", "public_columns"))
        public = []
    if public:  # 依法公示: kept only when there are some (older records have no such key)
        details["public_columns"] = sorted(public)
    notes = metadata.get("column_descriptions") or {}
    if not isinstance(notes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_NOTE
            for k, v in notes.items()):
        problems.append(Problem("column_descriptions_malformed", "column_descriptions"))
        notes = {}
    return {"resource_code": code, "theme": theme, "details": details,
            "column_notes": {k: v.strip() for k, v in notes.items() if v.strip()}}, problems


@dataclasses.dataclass(frozen=True)
class _Upload:
    """The uploaded file: opened as often as the readers need, copied in blocks."""

    open: Callable[[], BinaryIO]
    size: int

    @classmethod
    def of(cls, data: bytes | Path, *, max_bytes: int) -> _Upload:
        """Raises UploadTooLarge (over ``max_bytes``), InvalidUpload (empty), OSError."""
        if isinstance(data, Path):
            upload = cls(open=lambda: data.open("rb"), size=data.stat().st_size)
        else:
            upload = cls(open=lambda: io.BytesIO(data), size=len(data))
        if upload.size > max_bytes:
            raise UploadTooLarge(f"file is larger than {max_bytes} bytes")
        if not upload.size:
            raise InvalidUpload("the file is empty", code="file_empty", field="file")
        return upload

    def format(self, filename: str) -> str:
        """The format the name says, confirmed by the content. Raises UnsupportedFormat,
        InvalidUpload."""
        with self.open() as fh:
            return formats.detect_format(filename, signature_of(fh))

    def copy_to(self, out: BinaryIO) -> None:
        """Write the whole file to ``out``, a block at a time."""
        with self.open() as fh:
            while block := fh.read(_COPY_BLOCK):
                out.write(block)


@dataclasses.dataclass(frozen=True)
class _Examined:
    """What publishing learns of a table read in chunks; ``len`` is its rows."""

    columns: list[str]
    profiles: list[Any]
    report: quality.QualityReport
    rows: int
    types: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # name, dtype, length

    def __len__(self) -> int:
        return self.rows


def _examine(svc: Services, upload: _Upload, fmt: str, *, not_null: list[str]) -> _Examined:
    """Read the upload chunk by chunk: profile and check its first rows, count every row.
    Raises InvalidInput (``not_null`` names a column the file lacks), InvalidUpload,
    UploadTooLarge (rows, decoded bytes, a value too long), OSError."""
    limits = svc.settings
    with open_table_source(upload.open, fmt=fmt, chunk_rows=svc.publish_chunk_rows,
                           max_rows=limits.max_upload_rows,
                           max_bytes=EXPANSION_LIMIT * limits.max_upload_bytes) as reader:
        missing = [c for c in not_null if c not in reader.columns]
        if missing:
            raise InvalidInput(f"metadata.not_null names column(s) the file does not have: "
                               f"{', '.join(missing)}")
        chunks = iter(reader)
        held, sample = _first_rows(chunks, SAMPLE_ROWS)
        if sample.num_rows == 0:
            raise InvalidUpload("the file has no data rows", code="file_no_rows", field="file")
        frame = formats.frame_of(sample)
        profiles = profile_table(frame, analyzer=svc.analyzer())
        patterns = {p.column: IDENTIFIER_PATTERNS[p.entity] for p in profiles
                    if p.kind == "identifier" and p.entity in IDENTIFIER_PATTERNS}
        counts = quality.ColumnCounts(not_null=not_null, patterns=patterns)
        for chunk in _chained(held, chunks):
            counts.add(chunk)
    report = quality.validate_table(frame, columns=list(frame.columns), not_null=not_null,
                                    patterns=patterns, counts=counts)
    return _Examined(columns=list(frame.columns), profiles=profiles, report=report,
                     rows=counts.rows, types=dictionary.infer_columns(sample))


def _first_rows(chunks: Iterator[pa.Table], rows: int) -> tuple[list[pa.Table], pa.Table]:
    """The chunks read until ``rows`` rows (or the end), and those rows as one table."""
    held: list[pa.Table] = []
    count = 0
    while count < rows:
        chunk = next(chunks, None)
        if chunk is None:
            break
        held.append(chunk)
        count += chunk.num_rows
    if not held:
        return held, pa.table({})
    return held, pa.concat_tables(held).slice(0, rows).combine_chunks()


def _chained(held: list[pa.Table], rest: Iterator[pa.Table]) -> Iterator[pa.Table]:
    while held:
        yield held.pop(0)  # let go of each held chunk once it is counted
    yield from rest


def _failed_summary(report: Any) -> str:
    failed = [r for r in report.results if not r["success"]]
    return "; ".join(f"{r['expectation']} on {r.get('column') or 'table'}"
                     f" ({r.get('unexpected_count') or 0} rows)" for r in failed[:5])


def data_dictionary(svc: Services, who: Principal, dataset_id: str) -> list[dict[str, Any]]:
    """The dataset's 信息项 (one per column of its current version): 信息项名称, 数据类型, 长度,
    描述, and what personal data the column was found to hold (its kind and entity, no
    value). Raises Forbidden, DatasetNotFound."""
    return _dictionary_of(get_dataset(svc, who, dataset_id))


def _dictionary_of(shown: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"信息项名称": c["name"],
             "数据类型": dictionary.TYPE_NAMES.get(c["dtype"], c["dtype"]),
             "type": c["dtype"], "长度": c["length"], "描述": c["description"] or "",
             "personal": ((c.get("profile") or {}).get("entity")
                          or ((c.get("profile") or {}).get("kind") != "none"
                              and (c.get("profile") or {}).get("kind")) or "")}
            for c in shown.get("columns", [])]


def data_dictionary_file(svc: Services, who: Principal, dataset_id: str,
                         fmt: str) -> tuple[bytes, str, str]:
    """:func:`data_dictionary` as a file: CSV for Excel (byte-order mark) or XLSX; its bytes,
    media type and a readable name. Raises Forbidden, DatasetNotFound, UnsupportedFormat."""
    import pandas as pd
    shown = get_dataset(svc, who, dataset_id)
    frame = pd.DataFrame(_dictionary_of(shown),
                         columns=["信息项名称", "数据类型", "长度", "描述", "personal"])
    data = formats.write_table(frame.rename(columns={"personal": "个人信息"}), fmt=fmt)
    if fmt == "csv":
        data = b"\xef\xbb\xbf" + data  # Excel reads it as UTF-8
    return data, formats.media_type(fmt), files.dated_name(f"{shown['title']}-数据字典",
                                                           svc.clock(), fmt)


#: The directory's vocabularies, for the pages (code → its Chinese name).
#: The orders of the catalog (``sort``).
SORTS = repository.SORTS
is_ranked = repository.is_ranked

VOCABULARIES = {"category": dictionary.CATEGORIES, "theme": dictionary.THEMES,
                "share_method": dictionary.SHARE_METHODS, "open_type": dictionary.OPEN_TYPES,
                "update_frequency": dictionary.UPDATE_FREQUENCIES,
                "type": dictionary.TYPE_NAMES}
