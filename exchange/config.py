"""Settings: defaults, then ``GOVEX_*`` environment variables, then a mapping (tests).

Read once, in the app factory or the CLI; nothing below them reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["Settings", "load_settings"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything configurable about one govex instance."""

    home: Path = Path("govex-data")
    database_url: str | None = None  # default: SQLite in ``home``
    secret: str | None = None  # master secret; default: ``home/master.key``
    log_origin: str = "govex.local/audit"
    # A city's registers whole: 成都's resident register (~21 M people) is ~2.4 GB as CSV with
    # six columns; limits bound disk and time (an upload is read in chunks, never whole).
    max_upload_bytes: int = 8 * 1024**3
    max_upload_rows: int = 50_000_000
    secure_cookies: bool = False
    instance_name: str = "govex"
    # External tables (Parquet folders masked by Spark): only folders inside these roots may be
    # registered (none by default); the Spark master that masks them.
    external_roots: tuple[Path, ...] = ()
    spark_master: str = "local[2]"
    # The provider's time limit to reply to a request, in working days (exchange.workdays)
    reply_working_days: int = 5
    # The data authority's time limit to decide an appeal (协调), in working days
    appeal_working_days: int = 10
    # E-mail of notices: an SMTP server (smtp://[user:password@]host[:port][?starttls=1] or
    # smtps://...), the sender; none: notices stay in the inbox and webhooks
    smtp_url: str | None = None
    smtp_from: str = "govex@localhost"
    # The address users reach the pages at, for links in e-mail and webhooks (none: paths)
    public_url: str | None = None

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL of the database."""
        return self.database_url or f"sqlite:///{(self.home / 'govex.db').resolve()}"

    @property
    def spool_dir(self) -> Path:
        """Where an uploaded file waits on disk while it is read and stored."""
        return self.home / "spool"

    @property
    def cache_dir(self) -> Path:
        """Where the offline NLP pipelines and jieba's cache live."""
        return self.home / "cache"


_ENV = {
    "home": "GOVEX_HOME",
    "database_url": "GOVEX_DATABASE_URL",
    "secret": "GOVEX_SECRET",
    "log_origin": "GOVEX_LOG_ORIGIN",
    "max_upload_bytes": "GOVEX_MAX_UPLOAD_BYTES",
    "max_upload_rows": "GOVEX_MAX_UPLOAD_ROWS",
    "secure_cookies": "GOVEX_SECURE_COOKIES",
    "instance_name": "GOVEX_INSTANCE_NAME",  # the exchange (city) that publishes the catalog
    "external_roots": "GOVEX_EXTERNAL_ROOTS",  # folders, separated by os.pathsep (":")
    "spark_master": "GOVEX_SPARK_MASTER",
    "reply_working_days": "GOVEX_REPLY_WORKING_DAYS",
    "appeal_working_days": "GOVEX_APPEAL_WORKING_DAYS",
    "smtp_url": "GOVEX_SMTP_URL",
    "smtp_from": "GOVEX_SMTP_FROM",
    "public_url": "GOVEX_PUBLIC_URL",
}


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from defaults, the environment and ``overrides`` (highest priority).

    Raises ValueError for an unknown setting name or a malformed number.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, var in _ENV.items():
        if environ.get(var):
            values[name] = environ[var]
    for name, value in (overrides or {}).items():
        if name not in {f.name for f in dataclasses.fields(Settings)}:
            raise ValueError(f"unknown setting {name!r}")
        values[name] = value
    return Settings(**_coerce(values))


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    if "home" in values:
        values["home"] = Path(values["home"])
    for name in ("max_upload_bytes", "max_upload_rows", "reply_working_days",
                 "appeal_working_days"):
        if name in values:
            values[name] = int(values[name])
            if values[name] < 1:
                raise ValueError(f"{name} must be at least 1")
    if isinstance(values.get("external_roots"), str):
        values["external_roots"] = tuple(Path(p) for p in values["external_roots"].split(
            os.pathsep) if p)
    elif "external_roots" in values:
        values["external_roots"] = tuple(Path(p) for p in values["external_roots"])
    if isinstance(values.get("secure_cookies"), str):
        values["secure_cookies"] = values["secure_cookies"].lower() in ("1", "true", "yes")
    return values
