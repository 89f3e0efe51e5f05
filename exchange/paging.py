"""How every list of the API pages (DESIGN, API conventions): ``page_size`` (default 50, at
most 1,000) and an opaque ``page_token``; the answer names its items under a plural key, the
``next_page_token`` (null at the end) and the ``total`` the filters select.

A token holds the sort key of the last item shown (its time and id), so the next page starts
right after it however many rows were added meanwhile (keyset paging: no offset to skip, the
same cost on page 1 and page 10,000). It is not a secret: it only says where to go on.

A list ordered by relevance (a catalog search) pages by position instead: its token holds how
many items came before. Ranking must score every match whichever page is asked (so a keyset
would skip no work), and a score depends on the whole index (bm25's and ts_rank's statistics
move with every publication), so no key of the last item stays put either; a position is
exact while the catalog does not change. A list refuses the other kind's token, and a list in
one order (the catalog's newest first or last changed first) the token of another.
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
    page before; None for the first page), or, in a list by relevance, after the first
    ``offset`` items."""

    size: int = DEFAULT_PAGE_SIZE
    after: tuple[dt.datetime, str] | None = None
    offset: int = 0
    order: str | None = None  # the order the keyset is in, if the list has several

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
        if not token:
            return cls(size=size)
        where = _decode(token)
        if isinstance(where, int):
            return cls(size=size, offset=where)
        moment, ident, order = where
        return cls(size=size, after=(moment, ident), order=order)


def page_of(items: Sequence[T], request: PageRequest,
            key: Callable[[T], tuple[dt.datetime, str]] | None,
            order: str | None = None) -> tuple[list[T], str | None]:
    """The page of ``items`` (read with ``request.size + 1`` rows, to know whether more
    follow) and the token of the next page, or None at the end. ``key`` gives an item's time
    and id (keyset paging) in the list's ``order`` (for a list that has several); None: the
    list is by relevance and pages by position (``items`` read from ``request.offset``).
    Raises InvalidInput for a token of the other kind or order."""
    if (request.offset if key is not None else request.after is not None):
        raise _invalid()
    if request.after is not None and request.order != order:
        raise _invalid()
    shown = list(items[:request.size])
    if len(items) <= request.size or not shown:
        return shown, None
    if key is None:
        return shown, _encode_offset(request.offset + len(shown))
    return shown, _encode(*key(shown[-1]), order)


def _encode(moment: dt.datetime, ident: str, order: str | None = None) -> str:
    where = [moment.isoformat(), ident] + ([order] if order else [])
    text = json.dumps(where, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _encode_offset(offset: int) -> str:
    text = json.dumps([offset], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _invalid() -> InvalidInput:
    return InvalidInput("page_token is not one this list gave", code="page_token_invalid",
                        field="page_token")


def _decode(token: Any) -> tuple[dt.datetime, str, str | None] | int:
    """A keyset (time, id, order or None) or a position. Raises InvalidInput for a token
    this exchange did not give."""
    try:
        text = base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4))
        decoded = json.loads(text)
        if isinstance(decoded, list) and len(decoded) == 1:
            (offset,) = decoded
            if type(offset) is not int or offset < 1:
                raise ValueError(token)
            return offset
        moment, ident, *order = decoded
        parsed = dt.datetime.fromisoformat(moment)
        if (not isinstance(ident, str) or parsed.tzinfo is None or len(order) > 1
                or not all(isinstance(o, str) and o for o in order)):
            raise ValueError(token)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise _invalid() from None
    return parsed, ident, (order[0] if order else None)
