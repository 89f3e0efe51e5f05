"""Chinese and English pages with Flask-Babel: the browser's language unless the user chose
one with the switch; dates in China Standard Time, formatted for the locale.

Messages live in ``translations/<lang>/LC_MESSAGES/messages.po`` (English message ids). The
``.po`` files are compiled to ``.mo`` once per process into the instance's cache directory, so
no compiled binary is kept in the repository. To add strings::

    pybabel extract -F exchange/web/babel.cfg -o /tmp/messages.pot exchange/web
    pybabel update -i /tmp/messages.pot -d exchange/web/translations
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, format_datetime, format_decimal, format_timedelta, get_locale
from markupsafe import Markup

from ..services import Services

__all__ = ["init_app", "LANGUAGES", "html_lang", "compile_catalogs", "when", "number",
           "waited"]

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
TIMEZONE = "Asia/Shanghai"
SOURCE = Path(__file__).resolve().parent / "translations"


def init_app(app: Flask, svc: Services) -> None:
    """Compile the catalogs and attach Flask-Babel with our locale selector and filters."""
    compiled = compile_catalogs(SOURCE, svc.settings.cache_dir / "translations")
    app.config.update(BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE, BABEL_DEFAULT_TIMEZONE=TIMEZONE,
                      BABEL_TRANSLATION_DIRECTORIES=str(compiled))
    Babel(app, locale_selector=choose_language)
    app.jinja_env.filters.update(when=when, number=number, waited=waited)
    app.jinja_env.globals.update(html_lang=html_lang, LANGUAGES=LANGUAGES)


def choose_language() -> str:
    """The language the user picked, else the browser's best match, else Chinese; the API
    answers a client that names no language in English."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    default = "en" if request.path.startswith("/api/") else DEFAULT_LANGUAGE
    return request.accept_languages.best_match(list(LANGUAGES)) or default


def html_lang() -> str:
    """The page's ``lang`` attribute (BCP 47)."""
    return "zh-CN" if str(get_locale()) == "zh" else "en"


def compile_catalogs(source: Path, target: Path) -> Path:
    """Compile every ``.po`` under ``source`` into ``.mo`` under ``target``; returns ``target``.
    Each file is written to a temporary name and renamed, so concurrent workers never read a
    half-written catalog."""
    for po_path in source.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo_path)
    return target


def _parse(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def when(value: Any, fmt: str = "medium") -> Markup:
    """A stored UTC time (datetime or ISO text) in the user's locale and China Standard Time,
    as a ``<time>`` element that carries the instant and never wraps."""
    moment = _parse(value)
    if moment is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(
        moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        format_datetime(moment, fmt))


def number(value: Any) -> str:
    """A number formatted for the locale ("" for none)."""
    return "" if value is None else format_decimal(value)


def waited(value: Any, now: dt.datetime) -> str:
    """How long ago ``value`` was, in words of the locale ("3 days")."""
    moment = _parse(value)
    return "" if moment is None else format_timedelta(now - moment, granularity="minute")
