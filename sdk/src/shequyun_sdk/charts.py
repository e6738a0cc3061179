"""Charts drawn on the server as SVG: no script, no external library, readable without colour.

The portal's own pages and every plugin draw with these functions, so a chart looks and reads the
same wherever it appears. Each function returns one ``<svg>`` element as a string, ready to be
written into a template with ``|safe``: every label is escaped here.

Every chart has a ``<title>`` and a ``<desc>`` and writes its numbers beside the marks, so a screen
reader and a printout say what the picture shows. Charts scale with their container
(``viewBox``; give the ``svg.chart`` class ``width: 100%`` in CSS); pass a smaller ``width`` for a
phone-sized drawing with less room for labels.

    from shequyun_sdk import charts

    svg = charts.bar_chart("各街道个案数", [("天平路街道", 42), ("湖南路街道", 17)])
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = [
    "DONE",
    "FEMALE",
    "FLAG_WORDS",
    "FONT",
    "HIGH",
    "LATE",
    "LOW",
    "MALE",
    "PALETTE",
    "PENDING",
    "age_pyramid",
    "bar_chart",
    "line_chart",
    "number",
    "progress_bars",
    "ranked_bars",
]

#: Font stack with Chinese fonts first (the portal ships none; these are the usual system ones).
FONT = "'WenQuanYi Micro Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif"
#: Colours with their meaning, shared by the portal's pages.
MALE, FEMALE, DONE, PENDING, LATE = "#2563eb", "#db2777", "#16a34a", "#d1d5db", "#f59e0b"
#: Series colours for charts with several lines, distinguishable in greyscale by their markers.
PALETTE = ("#b4232a", "#2563eb", "#16a34a", "#f59e0b", "#7c3aed", "#0f766e")
_MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    width: int = 480,
    colour: str = "#b4232a",
    reference: float | None = None,
    reference_label: str = "",
    unit: str = "",
) -> str:
    """Horizontal bars, one per ``(label, value)``, in the order given.

    ``reference`` draws a dashed vertical line at that value (for instance the parent unit's
    figure beside its children's), labelled ``reference_label``. ``unit`` is written after each
    number (``"%"``, ``"人"``).
    """
    row, label_w, top = 24, 120, 20 if reference is not None else 5
    height = max(row * len(items) + top + 5, 30)
    values = [v for _, v in items] + ([reference] if reference is not None else [])
    peak = max((v for v in values), default=0) or 1
    span = width - label_w - 70
    body = []
    for i, (label, value) in enumerate(items):
        y = top + i * row
        bar = span * max(value, 0) / peak
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="16" fill="{colour}"/>'
        )
        body.append(
            f'<text x="{label_w + bar + 4:.1f}" y="{y + 15}">{number(value)}{escape(unit)}</text>'
        )
    if reference is not None:
        x = label_w + span * max(reference, 0) / peak
        body.append(
            f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height - 2}" stroke="#374151" '
            'stroke-dasharray="4 3"/>'
        )
        body.append(
            f'<text x="{x:.1f}" y="11" text-anchor="middle">{escape(reference_label)} '
            f"{number(reference)}{escape(unit)}</text>"
        )
    return _svg(width, height, title, body)


def age_pyramid(title: str, bands: Sequence[tuple[str, int, int]], *, width: int = 480) -> str:
    """A population pyramid: ``(band label, men, women)`` from the youngest band up."""
    row, centre = 20, width // 2
    height = row * len(bands) + 30
    peak = max((max(m, f) for _, m, f in bands), default=0) or 1
    half = centre - 70
    body = [
        f'<text x="{centre - 40}" y="14" text-anchor="end" fill="{MALE}">男</text>',
        f'<text x="{centre + 40}" y="14" fill="{FEMALE}">女</text>',
    ]
    for i, (label, men, women) in enumerate(reversed(bands)):
        y = 22 + i * row
        m, f = half * men / peak, half * women / peak
        body.append(
            f'<rect x="{centre - 30 - m:.1f}" y="{y}" width="{m:.1f}" height="16" fill="{MALE}"/>'
        )
        body.append(
            f'<rect x="{centre + 30}" y="{y}" width="{f:.1f}" height="16" fill="{FEMALE}"/>'
        )
        body.append(f'<text x="{centre}" y="{y + 12}" text-anchor="middle">{escape(label)}</text>')
        body.append(f'<text x="{centre - 34 - m:.1f}" y="{y + 12}" text-anchor="end">{men}</text>')
        body.append(f'<text x="{centre + 34 + f:.1f}" y="{y + 12}">{women}</text>')
    return _svg(width, height, title, body)


def progress_bars(
    title: str, groups: Sequence[tuple[str, int, int, int]], *, width: int = 560
) -> str:
    """Completion per unit: ``(label, done on time, done late, expected)``."""
    row, label_w = 26, 130
    height = max(row * len(groups) + 10, 30)
    span = width - label_w - 80
    body = []
    for i, (label, on_time, late, expected) in enumerate(groups):
        y = 5 + i * row
        total = expected or 1
        a, b = span * on_time / total, span * late / total
        share = (on_time + late) / total if expected else 0
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{span}" height="16" fill="{PENDING}"/>'
        )
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{a:.1f}" height="16" fill="{DONE}"/>')
        body.append(
            f'<rect x="{label_w + a:.1f}" y="{y + 3}" width="{b:.1f}" height="16" fill="{LATE}"/>'
        )
        body.append(
            f'<text x="{label_w + span + 6}" y="{y + 15}">{on_time + late}/{expected}'
            f" ({share:.0%})</text>"
        )
    return _svg(width, height, title, body)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    width: int = 560,
    height: int = 220,
    unit: str = "",
) -> str:
    """Lines over periods: ``labels`` along the bottom (``"2026年1月"`` …) and one line per
    ``(name, values)`` in ``series``, each value matching the label at the same position.

    ``None`` is a period without a value (a gap, never drawn as zero). The last value of each line
    is written beside it and a legend names the lines when there is more than one; axis labels
    are thinned out when they would overlap.
    """
    left, right, top = 48, 70, 14
    legend = 18 if len(series) > 1 else 0
    bottom = 28 + legend
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for _, values in series for v in values if v is not None]
    low, high = min(known, default=0.0), max(known, default=0.0)
    low = min(low, 0.0)
    if high == low:
        high = low + 1
    n = len(labels)

    def x_at(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{number(high)}{escape(unit)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end">{number(low)}'
        f"{escape(unit)}</text>",
    ]
    step = max(1, -(-n * 56 // max(plot_w, 1)))  # at most one label per 56 px
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            body.append(
                f'<text x="{x_at(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    for s, (name, values) in enumerate(series):
        colour, marker = PALETTE[s % len(PALETTE)], _MARKERS[s % len(_MARKERS)]
        runs: list[list[str]] = [[]]
        last: tuple[float, float, float] | None = None
        for i, value in enumerate(values[:n]):
            if value is None:
                runs.append([])
                continue
            x, y = x_at(i), y_at(value)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            body.append(_marker(marker, x, y, colour))
            last = (x, y, value)
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
        if last is not None:
            body.append(
                f'<text x="{last[0] + 6:.1f}" y="{last[1] + 4:.1f}" fill="{colour}">'
                f"{number(last[2])}{escape(unit)}</text>"
            )
        if legend:
            lx = left + s * (plot_w // max(len(series), 1))
            body.append(_marker(marker, lx + 4, height - 8, colour))
            body.append(f'<text x="{lx + 12}" y="{height - 4}">{escape(name)}</text>')
    return _svg(width, height, title, body)


# -- indicators (issue 18) ---------------------------------------------------------------------

#: Bars of children far above or below their siblings, and the words that say so (colour is
#: never the only signal).
HIGH, LOW = "#b45309", "#1d4ed8"
FLAG_WORDS = {"high": "偏高", "low": "偏低"}


def ranked_bars(
    title: str,
    items: Sequence[tuple[str, float, str | None]],
    *,
    width: int = 480,
    colour: str = "#b4232a",
    reference: float | None = None,
    reference_label: str = "",
    unit: str = "",
    decimals: int | None = None,
    flag_words: dict[str, str] | None = None,
) -> str:
    """Units side by side: one bar per ``(label, value, flag)``, in the order given (rank them
    first), a dashed ``reference`` line (the parent's figure) and ``flag`` (``"high"`` or
    ``"low"``, or None) marking a unit far from its siblings: its bar takes another colour and
    the word for the flag (``偏高``/``偏低``, or ``flag_words``) is written after its number.

    ``decimals`` fixes the decimals written (``62.3``); by default as :func:`number` writes.
    """
    words = flag_words or FLAG_WORDS
    longest = max((len(label) for label, _, _ in items), default=4)
    row, label_w = 24, min(max(13 * longest + 8, 60), width // 3)
    top = 20 if reference is not None else 5
    height = max(row * len(items) + top + 5, 30)
    values = [v for _, v, _ in items] + ([reference] if reference is not None else [])
    peak = max(values, default=0) or 1
    span = width - label_w - 96

    def shown(value: float) -> str:
        text = number(value) if decimals is None else f"{value:,.{decimals}f}"
        return f"{text}{unit}"

    body = []
    for i, (label, value, flag) in enumerate(items):
        y = top + i * row
        bar = span * max(value, 0) / peak
        fill = HIGH if flag == "high" else LOW if flag == "low" else colour
        note = f" {words.get(flag, flag)}" if flag else ""
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="16" fill="{fill}"/>'
        )
        weight = ' font-weight="bold"' if flag else ""
        body.append(
            f'<text x="{label_w + bar + 4:.1f}" y="{y + 15}"{weight}>'
            f"{escape(shown(value) + note)}</text>"
        )
    if reference is not None:
        x = label_w + span * max(reference, 0) / peak
        body.append(
            f'<line x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height - 2}" stroke="#374151" '
            'stroke-dasharray="4 3"/>'
        )
        anchor = "end" if x > width * 0.6 else "start" if x < width * 0.3 else "middle"
        body.append(
            f'<text x="{x:.1f}" y="11" text-anchor="{anchor}">'
            f"{escape(f'{reference_label} {shown(reference)}'.strip())}</text>"
        )
    return _svg(width, height, title, body)


def number(value: float) -> str:
    """A value as the charts write it: integers plainly, fractions with at most three
    significant decimals (``12``, ``0.625``, ``33.3``)."""
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 and value != int(value) else f"{value:g}"
    return str(value)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"/>'
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} '
            f'{x - 4:.1f},{y:.1f}" fill="{colour}"/>'
        )
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y + 3:.1f} '
            f'{x - 4:.1f},{y + 3:.1f}" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" font-family="{FONT}" font-size="12"><title>{escape(title)}</title>'
        f"<desc>{escape(title)}</desc>{''.join(body)}</svg>"
    )
