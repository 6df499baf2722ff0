"""One line chart as inline SVG: no script, no font or file fetched, readable printed or offline.

Lines break where a value is None (an arm without requests in the window) instead of bridging the gap, and a
point with no neighbour is drawn as a dot, so a single bucket still shows. Vertical markers: dashed grey
for step boundaries (labelled with the percent), small triangles on the top edge for weight changes, a solid
red or green line for the rollback or promotion. Every marker carries a <title>: browsers show it on hover.
Each string is escaped here; callers pass raw text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from apiops_pipelines.delivery.canary_report.scale import PLAIN, Scale, nice_top, ticks

WIDTH, HEIGHT = 880, 260
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 50, 42  # the plot area's margins: axis labels left and below, legend above
DECISION_COLORS = {"rollback": "#c62828", "promotion": "#2e7d32"}


@dataclass(frozen=True)
class Line:
    label: str
    color: str
    points: Sequence[tuple[float, float | None]]  # (x, y); y None: no value there


@dataclass(frozen=True)
class Marker:
    x: float
    label: str  # printed above the plot ("" for none)
    kind: str  # "step", "weight", "rollback" or "promotion"
    detail: str  # the hover text


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((x, y))
    return [s for s in segments if s]


def _line(line: Line, sx: Scale, sy: Scale) -> list[str]:
    out, paths = [], []
    for segment in _segments(line.points):
        if len(segment) == 1:
            x, y = segment[0]
            out.append(f'<circle cx="{_n(sx(x))}" cy="{_n(sy(y))}" r="3" fill="{line.color}"/>')
        else:
            paths.append("M" + " L".join(f"{_n(sx(x))} {_n(sy(y))}" for x, y in segment))
    if paths:
        out.append(f'<path d="{" ".join(paths)}" fill="none" stroke="{line.color}" stroke-width="2" '
                   f'stroke-linejoin="round"><title>{escape(line.label)}</title></path>')  # fmt: skip
    return out


def _markers(markers: Sequence[Marker], sx: Scale, top: float, bottom: float) -> list[str]:
    out, last_label_x = [], [-1e9, -1e9]  # two label rows: a label too close to the previous one takes the other
    for marker in sorted(markers, key=lambda m: (m.kind == "weight", m.x)):
        x = _n(sx(marker.x))
        tip = f"<title>{escape(marker.detail)}</title>"
        if marker.kind == "weight":
            out.append(f'<path d="M{x} {_n(top)} l-5 -7 h10 z" fill="#555">{tip}</path>')
            continue
        color = DECISION_COLORS.get(marker.kind, "#777")
        dash = "" if marker.kind in DECISION_COLORS else ' stroke-dasharray="5 4"'
        out.append(f'<line x1="{x}" y1="{_n(top)}" x2="{x}" y2="{_n(bottom)}" stroke="{color}" '
                   f'stroke-width="{2 if dash == "" else 1.2}"{dash}>{tip}</line>')  # fmt: skip
        if marker.label:
            row = 0 if sx(marker.x) - last_label_x[0] > 46 else 1
            last_label_x[row] = sx(marker.x)
            y = top - 10 - 12 * row
            half = 3.5 * len(marker.label)  # about half the label's width at 11 px: keep it inside the picture
            anchor = "end" if sx(marker.x) + half > WIDTH - 2 else "start" if sx(marker.x) - half < 2 else "middle"
            out.append(f'<text x="{x}" y="{_n(y)}" text-anchor="{anchor}" fill="{color}" font-size="11">'
                       f"{escape(marker.label)}{tip}</text>")  # fmt: skip
    return out


def _legend(lines: Sequence[Line]) -> list[str]:
    out, x = [], LEFT
    for line in lines:
        out.append(f'<line x1="{x}" y1="12" x2="{x + 18}" y2="12" stroke="{line.color}" stroke-width="3"/>')
        out.append(f'<text x="{x + 23}" y="16" font-size="12">{escape(line.label)}</text>')
        x += 30 + 7 * len(line.label)
    return out


def line_chart(*, title: str, lines: Sequence[Line], markers: Sequence[Marker], x_range: tuple[float, float],
               y_label: str, y_format: Callable[[float, float], str], y_minimum_top: float,
               chart_id: str = "chart", x_label: str = "seconds since the canary started",
               empty_text: str = "no requests") -> str:  # fmt: skip
    """The chart as an <svg> element. `y_format(value, tick_step)` prints a y tick; the y axis starts at 0.

    `chart_id` names the plot's clip path: unique per chart of a page (ids are page-wide in inline SVG).
    """
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    x_low, x_high = x_range
    if not x_high > x_low:
        x_high = x_low + 1.0  # a single bucket or instant still gets a readable axis
    values = [y for line in lines for _, y in line.points if y is not None]
    y_top = nice_top(max(values, default=None), y_minimum_top)
    sx, sy = Scale(x_low, x_high, left, right), Scale(0.0, y_top, bottom, top)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
           f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif">',
           f"<title>{escape(title)}</title>",
           f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="#fafafa" '
           'stroke="#bbb"/>',
           f'<clipPath id="{escape(chart_id)}-plot"><rect x="{left - 4}" y="{top - 4}" width="{right - left + 8}" '
           f'height="{bottom - top + 8}"/></clipPath>']  # fmt: skip
    y_ticks, y_step = ticks(0.0, y_top, 4)
    for value in y_ticks:
        y = _n(sy(value))
        out.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 6}" y="{y}" dy="4" text-anchor="end" font-size="11">'
                   f"{escape(y_format(value, y_step))}</text>")  # fmt: skip
    for value in ticks(x_low, x_high, 8, PLAIN)[0]:
        x = _n(sx(value))
        out.append(f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 5}" stroke="#555"/>')
        out.append(f'<text x="{x}" y="{bottom + 17}" text-anchor="middle" font-size="11">{value:,g}</text>')
    out.append(f'<text x="{(left + right) / 2}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12" '
               f'fill="#444">{escape(x_label)}</text>')  # fmt: skip
    out.append(f'<text transform="translate(16 {_n((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" '
               f'font-size="12" fill="#444">{escape(y_label)}</text>')  # fmt: skip
    out += _markers(markers, sx, top, bottom)
    out.append(f'<g clip-path="url(#{escape(chart_id)}-plot)">')  # a stray value must not draw over the axes
    for line in reversed(lines):  # the first line of the legend (the canary) is drawn last, on top
        out += _line(line, sx, sy)
    out.append("</g>")
    if not values:
        out.append(f'<text x="{_n((left + right) / 2)}" y="{_n((top + bottom) / 2)}" text-anchor="middle" '
                   f'font-size="14" fill="#888">{escape(empty_text)}</text>')  # fmt: skip
    out += _legend(lines)
    out.append("</svg>")
    return "\n".join(out)
