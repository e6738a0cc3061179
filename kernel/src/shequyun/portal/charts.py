"""Charts drawn on the server as SVG: no script, no external library, readable without colour.

Every chart has a ``<title>`` and ``<desc>`` and the numbers written beside the bars, so a
screen reader and a printout say what the picture shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["age_pyramid", "bar_chart", "progress_bars"]

FONT = "'WenQuanYi Micro Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif"
MALE, FEMALE, DONE, PENDING, LATE = "#2563eb", "#db2777", "#16a34a", "#d1d5db", "#f59e0b"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" font-family="{FONT}" font-size="12"><title>{escape(title)}</title>'
        f"<desc>{escape(title)}</desc>{''.join(body)}</svg>"
    )


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, width: int = 480, colour: str = "#b4232a"
) -> str:
    """Horizontal bars, one per ``(label, value)``."""
    row, label_w = 24, 120
    height = max(row * len(items) + 10, 30)
    peak = max((v for _, v in items), default=0) or 1
    body = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        bar = (width - label_w - 60) * value / peak
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="16" fill="{colour}"/>'
        )
        body.append(f'<text x="{label_w + bar + 4:.1f}" y="{y + 15}">{_number(value)}</text>')
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
    """Completion per unit: ``(label, submitted on time, submitted late, expected)``."""
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


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
