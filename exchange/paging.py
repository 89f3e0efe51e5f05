"""How every list of the API pages (DESIGN, API conventions): ``page_size`` (default 50, at
most 1,000) and an opaque ``page_token``; the answer names its items under a plural key, the
``next_page_token`` (null at the end) and the ``total`` the filters select.

A token holds the sort key of the last item shown (its time and id), so the next page starts
right after it however many rows were added meanwhile (keyset paging: no offset to skip, the
same cost on page 1 and page 10,000). It is not a secret: it only says where to go on.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .errors import InvalidInput

__all__ = ["PageRequest", "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "page_of"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class PageRequest:
    """Which page: ``size`` items after ``after`` (the time and id of the last item of the
    page before; None for the first page)."""

    size: int = DEFAULT_PAGE_SIZE
    after: tuple[dt.datetime, str] | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> PageRequest:
        """From ``page_size`` and ``page_token`` (query parameters). Raises InvalidInput."""
        size = args.get("page_size")
        if size in (None, ""):
            size = DEFAULT_PAGE_SIZE
        else:
            try:
                size = int(size)
            except (TypeError, ValueError):
                size = 0
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise InvalidInput(f"page_size must be a whole number from 1 to "
                                   f"{MAX_PAGE_SIZE}", code="page_size_range",
                                   field="page_size", max=MAX_PAGE_SIZE)
        token = args.get("page_token")
        return cls(size=size, after=_decode(token) if token else None)


def page_of(items: Sequence[T], request: PageRequest,
            key: Callable[[T], tuple[dt.datetime, str]]) -> tuple[list[T], str | None]:
    """The page of ``items`` (read with ``request.size + 1`` rows, to know whether more
    follow) and the token of the next page, or None at the end."""
    shown = list(items[:request.size])
    if len(items) <= request.size or not shown:
        return shown, None
    return shown, _encode(*key(shown[-1]))


def _encode(moment: dt.datetime, ident: str) -> str:
    text = json.dumps([moment.isoformat(), ident], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: Any) -> tuple[dt.datetime, str]:
    """Raises InvalidInput for a token this exchange did not give."""
    try:
        text = base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4))
        moment, ident = json.loads(text)
        parsed = dt.datetime.fromisoformat(moment)
        if not isinstance(ident, str) or parsed.tzinfo is None:
            raise ValueError(token)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput("page_token is not one this list gave", code="page_token_invalid",
                           field="page_token") from None
    return parsed, ident
