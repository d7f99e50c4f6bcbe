"""A bar chart as inline SVG, drawn on the server from a query's rows.

Why not a JavaScript charting library: the page must work with no internet (no
CDN), a vendored library would be a large asset to keep up to date for one chart,
and a bar per period is a few rectangles. SVG written here shows in any browser,
with JavaScript off too, prints, and can be checked in the page's DOM by a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 960
HEIGHT = 320
# Room for the count labels at the left and the period labels at the bottom.
LEFT, BOTTOM, TOP = 48, 56, 12
BAR_COLOR = "#4a78b5"
# At most this many period labels along the axis, so that they never overlap.
MAX_LABELS = 24


def bar_chart(points: Sequence[tuple[str, int]], *, title: str = "") -> str:
    """An SVG bar chart with one bar per (label, value), in the given order.

    Every bar is a `<rect class="bar">` carrying its label and value in
    data-label/data-value and a <title> tooltip; zero values draw no height.
    """
    plot_width = WIDTH - LEFT - 8
    plot_height = HEIGHT - BOTTOM - TOP
    top_value = max((value for _, value in points), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="archive-chart" role="img"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        # The axes.
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - 8}" y2="{TOP + plot_height}"'
        ' stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_height}" stroke="#888"/>',
        _text(LEFT - 6, TOP + 10, str(top_value), anchor="end"),
        _text(LEFT - 6, TOP + plot_height, "0", anchor="end"),
    ]
    if points:
        slot = plot_width / len(points)
        gap = min(slot * 0.2, 4.0)
        every = max(1, -(-len(points) // MAX_LABELS))  # ceiling division
        for index, (label, value) in enumerate(points):
            height = plot_height * value / top_value if top_value else 0.0
            x = LEFT + index * slot + gap / 2
            y = TOP + plot_height - height
            parts.append(
                f'<rect class="bar" x="{x:.2f}" y="{y:.2f}" width="{slot - gap:.2f}"'
                f' height="{height:.2f}" fill="{BAR_COLOR}" data-label="{escape(label)}"'
                f' data-value="{value}"><title>{escape(label)}: {value}</title></rect>'
            )
            if index % every == 0:
                cx = x + (slot - gap) / 2
                cy = TOP + plot_height + 10
                parts.append(
                    f'<text x="{cx:.2f}" y="{cy:.2f}" font-size="11" fill="#333"'
                    f' text-anchor="end" transform="rotate(-45 {cx:.2f} {cy:.2f})">'
                    f"{escape(label)}</text>"
                )
    parts.append("</svg>")
    return "\n".join(parts)


def _text(x: float, y: float, content: str, *, anchor: str = "start") -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="11" fill="#333" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )
