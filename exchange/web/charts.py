"""Charts as plain geometry, drawn as inline SVG by ``templates/web/_charts.html``.

No JavaScript and nothing from the network: the server computes every bar, the template only
writes the shapes (and Jinja escapes every label). Each chart also comes with its numbers as a
table, for screen readers and for anyone who wants the figures. A bar may link (``href``) to
the entries it counts, e.g. the audit log filtered to that day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

__all__ = ["Bar", "Chart", "bar_chart", "column_chart"]


@dataclasses.dataclass(frozen=True)
class Bar:
    """One bar: its label, value, the value as shown, its rectangle and where it links."""

    label: str
    value: float
    shown: str
    x: float
    y: float
    width: float
    height: float
    href: str | None = None


@dataclasses.dataclass(frozen=True)
class Chart:
    """A chart's size, its bars, and whether bars run across (``horizontal``) or up."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    horizontal: bool
    label_width: int = 0
    axis_y: float = 0.0

    @property
    def linked(self) -> bool:
        """Whether any bar links somewhere (the chart is then a group of links, not an
        image)."""
        return any(b.href for b in self.bars)


def _scale(values: Sequence[float], room: float) -> float:
    top = max(values, default=0) or 1
    return room / top


def _link(links: Sequence[str | None], i: int) -> str | None:
    return links[i] if i < len(links) else None


def bar_chart(items: Sequence[tuple[str, float, str]], *, width: int = 640,
              label_width: int = 200, row: int = 32, links: Sequence[str | None] = ()) -> Chart:
    """Horizontal bars, one row per ``(label, value, shown)``; the longest fills the width
    left after the labels and the printed value. ``links``: each bar's, in the same order."""
    room = width - label_width - 90
    per = _scale([v for _, v, _ in items], room)
    bars = tuple(Bar(label, value, shown, x=label_width, y=i * row + 6,
                     width=max(value * per, 1 if value else 0), height=row - 12,
                     href=_link(links, i))
                 for i, (label, value, shown) in enumerate(items))
    return Chart(width=width, height=max(len(items), 1) * row + 4, bars=bars, horizontal=True,
                 label_width=label_width)


def column_chart(items: Sequence[tuple[str, float, str]], *, width: int = 640,
                 height: int = 220, links: Sequence[str | None] = ()) -> Chart:
    """Vertical columns left to right (e.g. one per day), labels under the axis. ``links``:
    each column's, in the same order."""
    plot = height - 50
    step = width / max(len(items), 1)
    per = _scale([v for _, v, _ in items], plot - 20)
    bars = tuple(Bar(label, value, shown, x=i * step + step * 0.15,
                     y=plot - value * per, width=step * 0.7, height=value * per,
                     href=_link(links, i))
                 for i, (label, value, shown) in enumerate(items))
    return Chart(width=width, height=height, bars=bars, horizontal=False, axis_y=plot)
