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
    parts = _frame(title, plot_height, top_value)
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
                parts.append(_axis_label(x + (slot - gap) / 2, TOP + plot_height + 10, label))
    parts.append("</svg>")
    return "\n".join(parts)


def _text(x: float, y: float, content: str, *, anchor: str = "start") -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="11" fill="#333" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


# One color per series, told apart also in greyscale print (light to dark).
SERIES_COLORS = ("#4a78b5", "#e08a2c", "#3c9a5f", "#b5466b", "#7b5fb0", "#5b5b5b")


def grouped_bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, title: str = ""
) -> str:
    """An SVG chart comparing series: per label, one bar for each series side by
    side, in the series' color, with a legend.

    Every bar is a `<rect class="bar series-N">` with data-series, data-label and
    data-value; the legend's entries are `<g class="legend-entry" data-series=…>`.
    """
    plot_width = WIDTH - LEFT - 8
    plot_height = HEIGHT - BOTTOM - TOP
    top_value = max((v for _, values in series for v in values), default=0)
    parts = _frame(title, plot_height, top_value)
    if labels and series:
        slot = plot_width / len(labels)
        gap = min(slot * 0.2, 4.0)
        width = (slot - gap) / len(series)
        every = max(1, -(-len(labels) // MAX_LABELS))
        for index, label in enumerate(labels):
            left = LEFT + index * slot + gap / 2
            for number, (name, values) in enumerate(series):
                value = values[index]
                height = plot_height * value / top_value if top_value else 0.0
                color = SERIES_COLORS[number % len(SERIES_COLORS)]
                parts.append(
                    f'<rect class="bar series-{number}" x="{left + number * width:.2f}"'
                    f' y="{TOP + plot_height - height:.2f}" width="{width:.2f}"'
                    f' height="{height:.2f}" fill="{color}" data-series="{escape(name)}"'
                    f' data-label="{escape(label)}" data-value="{value}">'
                    f"<title>{escape(name)}, {escape(label)}: {value}</title></rect>"
                )
            if index % every == 0:
                parts.append(_axis_label(left + (slot - gap) / 2, TOP + plot_height + 10, label))
        parts += _legend([name for name, _ in series])
    parts.append("</svg>")
    return "\n".join(parts)


def _frame(title: str, plot_height: float, top_value: int) -> list[str]:
    """The SVG's opening, title, axes and the scale's two labels."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="archive-chart" role="img"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - 8}" y2="{TOP + plot_height}"'
        ' stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_height}" stroke="#888"/>',
        _text(LEFT - 6, TOP + 10, str(top_value), anchor="end"),
        _text(LEFT - 6, TOP + plot_height, "0", anchor="end"),
    ]


def _axis_label(cx: float, cy: float, label: str) -> str:
    return (
        f'<text x="{cx:.2f}" y="{cy:.2f}" font-size="11" fill="#333" text-anchor="end"'
        f' transform="rotate(-45 {cx:.2f} {cy:.2f})">{escape(label)}</text>'
    )


def _legend(names: Sequence[str]) -> list[str]:
    """A swatch and a name per series, along the top right."""
    parts = []
    for number, name in enumerate(names):
        x, y = WIDTH - 200, TOP + 4 + number * 16
        color = SERIES_COLORS[number % len(SERIES_COLORS)]
        parts.append(
            f'<g class="legend-entry" data-series="{escape(name)}">'
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color}"/>'
            f"{_text(x + 14, y + 9, name)}</g>"
        )
    return parts
